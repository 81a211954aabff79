using System;
using System.Threading;

namespace RnnGen;

/// <summary>
/// How many cores an inference call may use, like <c>torch.set_num_threads</c> or ONNX Runtime's
/// <c>IntraOpNumThreads</c>, for the whole process. The default is 1: every call runs on its caller's thread, so a
/// latency-sensitive caller (an audio thread) is never surprised by a fork.
/// </summary>
/// <remarks>
/// With <see cref="MaxDegreeOfParallelism"/> above 1, a module's inference <c>Forward</c> (sequence or cell) splits
/// its batch rows over up to that many threads: the caller and .NET thread-pool threads. Each part runs the same
/// generated kernels on its rows in the same order, so the results are bit-for-bit those of one thread. Batches of up
/// to <see cref="RowAlignment"/> rows never split (a batch splits into parts of whole multiples of it, so below twice it there
/// is nothing to split), nor do training calls (their weight gradients sum over the rows). The caller works on the parts
/// itself and only waits for parts another thread has started, so calls from many threads at once, or from the
/// thread pool, cannot starve it. Nothing is allocated per call once a module has made its first split.
/// </remarks>
public static class Parallelism
{
    private static int s_maxDegreeOfParallelism = 1;

    /// <summary>
    /// The largest number of threads one call may use (the caller included); 1 (the default) runs every call on its
    /// caller's thread. <see cref="Environment.ProcessorCount"/> uses every core.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxDegreeOfParallelism
    {
        get => Volatile.Read(ref s_maxDegreeOfParallelism);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_maxDegreeOfParallelism, value);
        }
    }

    /// <summary>
    /// Parts of a batch start on multiples of this many rows: a multiple of every kernel path's register block of
    /// rows (4 on AVX-512, 2 on AVX2 and 128-bit vectors, 1 in the generic kernels), so each row is computed by the
    /// same kernel, in the same order, as in a call on one thread.
    /// </summary>
    public static int RowAlignment => 4;

    /// <summary>The threads a call over <paramref name="batch"/> rows uses: 1 unless the batch has more than one aligned part.</summary>
    internal static int WorkersFor(int batch)
    {
        int max = MaxDegreeOfParallelism;
        if (max <= 1)
            return 1;
        // Parts start on multiples of RowAlignment: fewer than two whole blocks leave nothing to split.
        int parts = batch / RowAlignment;
        return Math.Max(1, Math.Min(max, parts));
    }

    /// <summary>
    /// The packed weights (W_ih and W_hh of one layer, bytes) each part of a split one-row step streams at least: 384 KB,
    /// so that a row splits only where its weights overflow a 1 MB L2 (measured on Zen 5: two parts of a 998 KB step took
    /// 0.45–0.55× the time of one thread; of a 614 KB step, 0.85–1.1×, handing a part to a pool thread costing about 1 µs).
    /// </summary>
    internal const int RowPartBytes = 384 * 1024;

    /// <summary>
    /// The threads a batch-of-one step over <paramref name="tiles"/> tiles of units uses, given its layer's packed weights
    /// (<paramref name="weightBytes"/>): 1 unless each part has <see cref="RowPartBytes"/> to stream.
    /// </summary>
    internal static int PartsForRow(int tiles, long weightBytes)
    {
        int max = MaxDegreeOfParallelism;
        if (max <= 1 || tiles < 2)
            return 1;
        return (int)Math.Max(1, Math.Min(Math.Min(max, tiles), weightBytes / RowPartBytes));
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of [0, total): starts on multiples of <paramref name="alignment"/>, the last part takes the rest.</summary>
    internal static (int Start, int Count) Split(int total, int part, int parts, int alignment)
    {
        int start = part == 0 ? 0 : (int)((long)total * part / parts / alignment * alignment);
        int end = part == parts - 1 ? total : (int)((long)total * (part + 1) / parts / alignment * alignment);
        return (start, Math.Max(0, end - start));
    }
}

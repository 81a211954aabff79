using System;
using System.Runtime.CompilerServices;
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
/// generated kernels on its rows in the same order, so the results are bit-for-bit those of one thread. Batches of
/// fewer than twice <see cref="RowAlignment"/> rows do not split their rows (parts are whole multiples of it), nor do
/// training calls (their weight gradients sum over the rows). The caller works on the parts
/// itself and only waits for parts another thread has started, so calls from many threads at once, or from the
/// thread pool, cannot starve it. Nothing is allocated per call once a module has made its first split.
/// <para>
/// A batch of one (one direction, no projection) of a generated LSTM or GRU whose layer weights are large splits a
/// single time step instead (a cell's call, or a sequence call of one step; longer sequences run on one thread), by
/// tiles of hidden units: each part projects and steps its own units, so each core streams only its share of the
/// weights (at least 384 KiB of them, as the generator decides: <c>IRnnKernels.RowParts</c>; smaller models, the
/// audio-sized ones, never split, nor do the run-time-sized <c>Dynamic</c> modules or the scalar path). The same
/// kernels run on each tile, so the bits are those of one thread.
/// </para>
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
    internal static int WorkersFor(int batch) => ThreadsFor(batch / RowAlignment); // parts start on multiples of RowAlignment

    /// <summary>
    /// The threads a call that could split into <paramref name="parts"/> parts uses (batch rows, or a batch of one's tiles
    /// of units: <c>IRnnKernels.RowParts</c>): at most <see cref="MaxDegreeOfParallelism"/>; 1 for fewer than two parts,
    /// without reading the setting (inlined, a constant 1 folds the whole check away).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ThreadsFor(int parts) => parts < 2 ? 1 : Math.Min(MaxDegreeOfParallelism, parts);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of [0, total): starts on multiples of <paramref name="alignment"/>, the last part takes the rest.</summary>
    internal static (int Start, int Count) Split(int total, int part, int parts, int alignment)
    {
        int start = part == 0 ? 0 : (int)((long)total * part / parts / alignment * alignment);
        int end = part == parts - 1 ? total : (int)((long)total * (part + 1) / parts / alignment * alignment);
        return (start, Math.Max(0, end - start));
    }
}

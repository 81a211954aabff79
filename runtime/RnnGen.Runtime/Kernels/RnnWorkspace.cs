using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace RnnGen.__Internals;

/// <summary>
/// A module's scratch memory. Each buffer grows to the largest call seen and is then reused, so
/// steady-state calls allocate nothing. One module instance serves one call at a time: every public call
/// holds <see cref="Enter"/>'s scope, so a second call that enters while one runs throws instead of sharing
/// the buffers and computing wrong results.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RnnWorkspace
{
    private readonly AlignedBuffer[] _buffers;
    private int _inUse;
    private SplitJob? _splitJob;
    private SplitJob? _rowJob; // apart from _splitJob: a module may alternate batches of one and more
    private bool _lastTilesBackward;

    /// <summary>Calls whose one-row steps were split over threads by tiles (the tests check that a large row did split).</summary>
    internal int RowSplits;

    /// <summary>Parts of those splits that thread-pool threads ran (the tests check that they ran concurrently).</summary>
    internal int RowSplitHelperParts => _rowJob?.HelperParts ?? 0;

    /// <summary>Creates empty buffers; every module creates one, so a bad <c>RNNGEN_KERNEL_PATH</c> is reported here.</summary>
    /// <exception cref="InvalidOperationException"><c>RNNGEN_KERNEL_PATH</c> names no kernel path.</exception>
    public RnnWorkspace()
    {
        Simd.ThrowIfOverrideInvalid();
        _buffers = new AlignedBuffer[Enum.GetValues<WorkspaceSlot>().Length];
        for (int i = 0; i < _buffers.Length; i++)
            _buffers[i] = new AlignedBuffer(0);
    }

    /// <summary>The path the last call ran on.</summary>
    public KernelPath LastPath { get; set; }

    /// <summary>The training tape of the last training forward.</summary>
    public RnnTape Tape { get; } = new();

    /// <summary>
    /// The tile order of the first of this call's <paramref name="steps"/> one-row steps (<see cref="IRnnKernels.Step"/>'s
    /// tilesBackward; each later step takes the other order than the one before it): the other order than the last
    /// step of the previous call. A step whose weights about fill L2 then reads first what the step before it read last,
    /// while it is still there (Zen 5, <c>Lstm(100→200)</c>'s 998,400 bytes of packed weights, as then packed, in a 1 MiB L2: 1.14× per step,
    /// medians of eight processes per build). Every layer of a call takes the same order: each reads its own weights.
    /// </summary>
    internal bool AlternateTiles(int steps)
    {
        bool first = !_lastTilesBackward;
        _lastTilesBackward = first ^ ((steps - 1) & 1) != 0;
        return first;
    }

    /// <summary>
    /// Marks the module in use until the returned scope is disposed; throws <see cref="InvalidOperationException"/>
    /// if another call (another thread, or a re-entrant call) holds it. One interlocked exchange, no lock: the
    /// caller never waits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public InUseScope Enter()
    {
        if (Interlocked.Exchange(ref _inUse, 1) != 0)
            ThrowInUse();
        return new InUseScope(this);
    }

    /// <summary>The scope of one call; disposing it releases the module.</summary>
    public readonly ref struct InUseScope
    {
        private readonly RnnWorkspace _workspace;

        internal InUseScope(RnnWorkspace workspace) => _workspace = workspace;

        /// <summary>Releases the module for the next call.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose()
        {
            if (_workspace is not null) // default(InUseScope) holds nothing
                Volatile.Write(ref _workspace._inUse, 0);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInUse() => throw new InvalidOperationException(
        "This module is already running a call (on another thread, or re-entered). A module instance owns its " +
        "workspace and serves one call at a time: give each thread its own instance (copy trained weights with " +
        "other.Parameters.CopyFrom(module.Parameters)), or serialise the calls.");

    /// <summary>At least <paramref name="length"/> floats for pre-activations.</summary>
    public ref float Pre(int length) => ref Get(WorkspaceSlot.Pre, length);

    /// <summary>At least <paramref name="length"/> floats of scratch, distinct from <see cref="Pre"/>.</summary>
    public ref float Scratch(int length) => ref Get(WorkspaceSlot.Scratch, length);

    /// <summary>At least <paramref name="length"/> zeros.</summary>
    public ref float Zeros(int length)
    {
        ref float zeros = ref Get(WorkspaceSlot.Zeros, length);
        Debug.Assert(MemoryMarshal.CreateReadOnlySpan(ref zeros, length).IndexOfAnyExcept(0f) < 0, "nothing writes into the zeros");
        return ref zeros;
    }

    /// <summary>At least <paramref name="length"/> floats for <paramref name="slot"/>. Contents are whatever was left there.</summary>
    public ref float Get(WorkspaceSlot slot, int length)
    {
        Debug.Assert(length >= 0);
        ref AlignedBuffer buffer = ref _buffers[(int)slot];
        if (buffer.Length < length)
            Grow(ref buffer, length);
        return ref buffer.Start;
    }

    /// <summary>The reusable split-over-threads form of this module's sequence forward (created at its first split).</summary>
    internal SequenceJob<TKernels> SequenceJob<TKernels>()
        where TKernels : struct, IRnnKernels =>
        _splitJob as SequenceJob<TKernels> ?? CreateSplitJob<SequenceJob<TKernels>>();

    /// <summary>The reusable split-over-threads form of this cell's step (created at its first split).</summary>
    internal CellJob<TKernels> CellJob<TKernels>()
        where TKernels : struct, IRnnKernels =>
        _splitJob as CellJob<TKernels> ?? CreateSplitJob<CellJob<TKernels>>();

    /// <summary>The reusable split-over-threads form of a one-row step (created at its first split).</summary>
    internal RowTilesJob<TKernels> RowTilesJob<TKernels>()
        where TKernels : struct, IRnnKernels =>
        _rowJob as RowTilesJob<TKernels> ?? (RowTilesJob<TKernels>)(_rowJob = new RowTilesJob<TKernels>());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TJob CreateSplitJob<TJob>()
        where TJob : SplitJob, new()
    {
        var job = new TJob();
        _splitJob = job;
        return job;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Grow(ref AlignedBuffer buffer, int length) => buffer = new AlignedBuffer(length);
}

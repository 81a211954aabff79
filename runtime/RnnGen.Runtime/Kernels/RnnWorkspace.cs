using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace RnnGen.__Internals;

/// <summary>The scratch buffers of a module, one per purpose.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum WorkspaceSlot
{
    /// <summary>Pre-activations of the current layer.</summary>
    Pre,

    /// <summary>General scratch (a cell's in-place step).</summary>
    Scratch,

    /// <summary>A row of zeros: the default initial state.</summary>
    Zeros,

    /// <summary>The training tape: layer inputs, states and dropout masks.</summary>
    Tape,

    /// <summary>Backward: gradients at the pre-activations, per direction.</summary>
    GradPre,

    /// <summary>Backward: gradients at a layer's output, per direction.</summary>
    GradOutput,

    /// <summary>Backward: gradient at a layer's input.</summary>
    GradInput,

    /// <summary>Backward: gradient at the previous state.</summary>
    GradState,

    /// <summary>Backward: one weight gradient before it is added to the module's gradients.</summary>
    GradWeight,

    /// <summary>An LSTM's cell state during inference.</summary>
    Cell,

    /// <summary>Backward: gradient at the previous cell state.</summary>
    GradCell,

    /// <summary>Backward: a GRU's input-side pre-activation gradients.</summary>
    GradPreInput,

    /// <summary>Backward: a GRU's direct gradient at the previous state.</summary>
    GradDirect,

    /// <summary>A projecting LSTM's m = o ⊙ tanh(c) before the projection (inference), or its gradient (backward).</summary>
    Unprojected,
}

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

/// <summary>What a training forward recorded for the backward pass, and for which call.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RnnTape
{
    /// <summary>Whether a training forward recorded this tape and no later call invalidated it.</summary>
    public bool IsValid { get; internal set; }

    /// <summary>The recorded call's sequence length.</summary>
    public int SeqLen { get; internal set; }

    /// <summary>The recorded call's batch.</summary>
    public int Batch { get; internal set; }

    /// <summary>Whether the recorded call had an explicit initial state.</summary>
    public bool HasH0 { get; internal set; }

    /// <summary>Whether the recorded call dropped out layer inputs.</summary>
    public bool HasDropout { get; internal set; }

    /// <summary>The parameters' version the recorded call ran with.</summary>
    public long ParameterVersion { get; internal set; }

    /// <summary>Forgets the recording when a later call has another shape.</summary>
    public void Observe(int seqLen, int batch)
    {
        if (IsValid && (seqLen != SeqLen || batch != Batch))
            IsValid = false;
    }
}

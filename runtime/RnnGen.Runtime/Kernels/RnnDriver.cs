using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.__Internals;

/// <summary>
/// Runs a recurrent module (Elman RNN or LSTM, sequence or cell) over PyTorch's layouts with any
/// <see cref="IRnnKernels"/> and <see cref="IGateMath"/>: checks the arguments (<see cref="ValidateForward{TGates}"/>,
/// <see cref="ValidateCell{TGates}"/>, which a module calls before its forward entry point), hoists the input projection of
/// every time step out of the recurrence (or, for a batch of one with a narrow input, leaves it to the block kernel,
/// <see cref="IRnnKernels.TryRunRowFromInput"/>), walks the layers, directions and time steps, and writes the output
/// and final states. Shape-agnostic; the kernels it is given hold the shape's arithmetic.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class RnnDriver
{
    /// <summary>
    /// Whether <see cref="IRnnKernels.TryRunRow"/> and <see cref="IRnnKernels.TryRunRowFromInput"/> may run one row's recurrence (default true). Tests and benchmarks turn
    /// it off to compare with the step-by-step path, which computes the same bits; it is read once per layer and direction.
    /// </summary>
    internal static bool BlockKernels { get; set; } = true;

    /// <summary>
    /// The forward pass of <c>torch.nn.RNN</c> / <c>torch.nn.LSTM</c>: <paramref name="input"/> (seq, batch, input) or
    /// (batch, seq, input) with <see cref="RnnShape.BatchFirst"/>; <paramref name="output"/> likewise with D·hidden
    /// features, the directions side by side; <paramref name="hN"/>, <paramref name="h0"/>, <paramref name="cN"/>,
    /// <paramref name="c0"/> (layers·D, batch, hidden), index layer·D + direction; empty initial states mean zeros
    /// (cN and c0 only for an LSTM). An initial state may be the same memory as its final state; nothing else
    /// may overlap. The caller checks the arguments first, with <see cref="ValidateForward{TGates}"/>, before it takes
    /// the module's in-use flag (<see cref="RnnWorkspace.Enter"/>): nothing is written before they are checked (Release
    /// builds do not check them here).
    /// </summary>
    public static unsafe void Forward<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        Span<float> cN = default, ReadOnlySpan<float> c0 = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        AssertValidForward<TGates>(shape, input, seqLen, batch, output, hN, h0, cN, c0);
        workspace.Tape.Observe(seqLen, batch);
        if (batch == 1 && shape.NumDirections == 1 && shape.ProjSize == 0)
            ForwardRow<TKernels, TGates>(ref kernels, shape, workspace, input, seqLen, output, hN, h0, cN, c0);
        else
            ForwardRows<TKernels, TGates>(ref kernels, shape, workspace, input, seqLen, batch, output, hN, h0, cN, c0);
    }

    /// <summary>
    /// A batch of one, one direction, no projection: a stream's block (or its one sample). What <see cref="ForwardRows"/>
    /// computes for it, on the spans themselves (no pinning, no frame, no split), layer by layer: the same kernels on
    /// the same rows, so the same bits; a per-sample call pays little besides its kernels.
    /// </summary>
    private static void ForwardRow<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, int seqLen, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0, Span<float> cN, ReadOnlySpan<float> c0)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        int hidden = shape.HiddenSize, cs = kernels.CellStride, ps = kernels.PreStride;
        Debug.Assert(shape.StateSize == hidden && output.Length == seqLen * hidden, "one row, one direction, no projection");
        ref float pre = ref workspace.Pre(Check.Product("workspace", seqLen, ps));
        ref float zeros = ref workspace.Zeros(hidden);
        // As in Recur: the cell state runs in cN itself when rows need no padding, else in a padded workspace row.
        Span<float> padded = TGates.HasCell && cs != hidden ? MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.Cell, cs), cs) : default;
        ref float output0 = ref MemoryMarshal.GetReference(output);
        // The tile order of step 0 where the steps run one call each (see IRnnKernels.Step), the same for every layer.
        bool tilesBackward = workspace.AlternateTiles(seqLen);
        for (int layer = 0; layer < shape.NumLayers; layer++)
        {
            // Layer 0 reads the input; a later layer the output of the one below, which this layer's recurrence
            // overwrites: step by step after reading it (a block kernel that projects its own input), or after the
            // projection has read all of it (one step: the kernel writes hN, copied into the output row after it).
            ReadOnlySpan<float> source = layer == 0 ? input : output;
            int inputWidth = shape.LayerInputSize(layer);

            Span<float> cell = default;
            if (TGates.HasCell)
            {
                Span<float> final = cN.Slice(layer * hidden, hidden);
                cell = padded.IsEmpty ? final : padded;
                if (c0.IsEmpty)
                    cell.Slice(0, hidden).Clear();
                else if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(c0.Slice(layer * hidden)), ref MemoryMarshal.GetReference(cell)))
                    c0.Slice(layer * hidden, hidden).CopyTo(cell); // c0 is cN's memory (then it stays) or disjoint
            }
            ref float cellStart = ref MemoryMarshal.GetReference(cell);
            ref float initial = ref h0.IsEmpty ? ref zeros : ref Unsafe.Add(ref MemoryMarshal.GetReference(h0), layer * hidden);
            // The block kernel with the input projection inside it where the kernels fuse it (also for one step: a
            // kernel call instead of two); else the projection, then the block kernel for more than one step (see
            // Recur) or one step call per time step.
            bool block = seqLen > 1 && BlockKernels;
            // One step of a layer whose weights are large: split over threads by tiles of units, each part projecting
            // its own (more steps split no faster than one thread runs them: a hand-over per step costs what it saves).
            int parts = seqLen == 1 ? Parallelism.ThreadsFor(kernels.RowParts(layer)) : 1;
            bool hInHN = false;
            if (parts > 1)
            {
                // A later layer's input is the row below's output, which this step overwrites: the parts read a copy.
                ref float x = ref MemoryMarshal.GetReference(source);
                if (layer > 0)
                {
                    Span<float> copy = MemoryMarshal.CreateSpan(ref workspace.Scratch(inputWidth), inputWidth);
                    source.Slice(0, inputWidth).CopyTo(copy);
                    x = ref MemoryMarshal.GetReference(copy);
                }
                StepRowSplit(ref kernels, workspace, layer, ref x, ref initial, ref output0, ref pre, ref cellStart, parts);
            }
            // The fused kernel's one step (a per-sample call) writes h straight into hN (also when h0 is hN: the kernel
            // steps a row in place, as a cell's does) and then into the output row below, so that the next call's h0 is
            // the kernel's own store and not a copy of it. A later layer's kernel reads the output row (its input)
            // before that copy.
            else if (BlockKernels && kernels.TryRunRowFromInput(layer, 0, ref MemoryMarshal.GetReference(source), inputWidth, seqLen, ref initial,
                ref seqLen == 1 ? ref MemoryMarshal.GetReference(hN.Slice(layer * hidden, hidden)) : ref output0, hidden, ref cellStart))
                hInHN = seqLen == 1;
            else
            {
                kernels.Project(layer, 0, ref MemoryMarshal.GetReference(source), inputWidth, seqLen, ref pre, tilesBackward);
                if (!(block && kernels.TryRunRow(layer, 0, ref pre, ps, seqLen, ref initial, ref output0, hidden, ref cellStart)))
                {
                    var cellRow = new StridedRows(ref cellStart, cs);
                    for (int t = 0; t < seqLen; t++)
                    {
                        StridedRows hPrev = t == 0 ? new StridedRows(ref initial, hidden) : new StridedRows(ref Unsafe.Add(ref output0, (t - 1) * hidden), hidden);
                        kernels.Step(layer, 0, hPrev, ref Unsafe.Add(ref pre, t * ps), 1, new StridedRows(ref Unsafe.Add(ref output0, t * hidden), hidden),
                            cellRow, cellRow, ref Unsafe.NullRef<float>(), tilesBackward ^ ((t & 1) != 0)); // each step the other tile order
                    }
                }
            }
            if (hInHN)
                hN.Slice(layer * hidden, hidden).CopyTo(output);
            else
                output.Slice((seqLen - 1) * hidden, hidden).CopyTo(hN.Slice(layer * hidden, hidden));
            if (TGates.HasCell && !padded.IsEmpty)
                padded.Slice(0, hidden).CopyTo(cN.Slice(layer * hidden, hidden));
        }
    }

    /// <summary>
    /// The general forward pass: any batch (split over workers where it pays), directions, projection. Not inlined
    /// into the call, whose batch-1 path it would otherwise burden with its pinning and frame.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void ForwardRows<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        Span<float> cN, ReadOnlySpan<float> c0)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        int hidden = shape.HiddenSize, cs = kernels.CellStride, ps = kernels.PreStride;
        bool projects = shape.ProjSize > 0;
        // Scratch comes from the workspace (pinned buffers), taken here on the caller's thread before any split.
        ref float pre = ref workspace.Pre(Check.Product("workspace", shape.NumDirections, seqLen * batch, ps));
        ref float zeros = ref workspace.Zeros(shape.StateSize);
        // The cell state runs in the workspace, in padded rows; when rows need no padding, in cN itself. Rows of
        // each direction apart, as the directions of a layer may run at the same time (on different threads).
        bool cellsInPlace = cs == hidden;
        int directionRows = Check.Product("workspace", shape.NumDirections, batch, cs);
        ref float cells = ref TGates.HasCell && !cellsInPlace ? ref workspace.Get(WorkspaceSlot.Cell, directionRows) : ref Unsafe.NullRef<float>();
        // A projecting LSTM's step writes m = o ⊙ tanh(c) here; the projection then writes h.
        ref float unprojected = ref projects ? ref workspace.Get(WorkspaceSlot.Unprojected, directionRows) : ref Unsafe.NullRef<float>();
        int outWidth = shape.OutputSize;

        fixed (float* pInput = input, pOutput = output, pHN = hN, pH0 = h0, pCN = cN, pC0 = c0)
        {
            var frame = new SequenceFrame
            {
                Input = pInput, Output = pOutput, HN = pHN, H0 = pH0, CN = pCN, C0 = pC0,
                Pre = (float*)Unsafe.AsPointer(ref pre), Zeros = (float*)Unsafe.AsPointer(ref zeros),
                Cells = (float*)Unsafe.AsPointer(ref cells), Unprojected = (float*)Unsafe.AsPointer(ref unprojected),
                SeqLen = seqLen, Batch = batch, CellsInPlace = cellsInPlace, HasCell = TGates.HasCell, Projects = projects,
                // In PyTorch's layouts, the rows of one time step are batch rows apart; consecutive steps are one step apart.
                OutRowStride = shape.BatchFirst ? (nint)seqLen * outWidth : outWidth,
                OutStepStride = shape.BatchFirst ? outWidth : (nint)batch * outWidth,
            };
            int workers = Parallelism.WorkersFor(batch);
            if (workers > 1)
            {
                workspace.SequenceJob<TKernels>().Run(ref kernels, shape, frame, workers);
                return;
            }
            for (int layer = 0; layer < shape.NumLayers; layer++)
            {
                // Project every direction before any recurrence writes: from layer 1 on, the source is `output`.
                for (int d = 0; d < shape.NumDirections; d++)
                    ProjectLayer(ref kernels, shape, frame, layer, d, 0, ProjectionUnits(shape, frame));
                for (int d = 0; d < shape.NumDirections; d++)
                    Recur(ref kernels, shape, frame, layer, d, 0, batch);
            }
        }
    }

    /// <summary>
    /// The units the input projection of one layer and direction splits into: rows of (seq·batch) in PyTorch's
    /// sequence-first layout, where they are evenly strided; time steps (each a call over the batch) when batch-first.
    /// </summary>
    internal static int ProjectionUnits(in RnnShape shape, in SequenceFrame f) => shape.BatchFirst ? f.SeqLen : f.SeqLen * f.Batch;

    /// <summary>The input projection of units [first, first + count) (see <see cref="ProjectionUnits"/>) into the pre-activations.</summary>
    internal static unsafe void ProjectLayer<TKernels>(ref TKernels kernels, in RnnShape shape, in SequenceFrame f, int layer, int d, int first, int count)
        where TKernels : struct, IRnnKernels
    {
        int inWidth = shape.LayerInputSize(layer), ps = kernels.PreStride;
        AssertBlock(shape, layer, d);
        Debug.Assert(first >= 0 && count >= 0 && first + count <= ProjectionUnits(shape, f), "units within the layer's projection");
        float* source = layer == 0 ? f.Input : f.Output;
        float* preD = f.Pre + (nint)d * f.SeqLen * f.Batch * ps;
        if (!shape.BatchFirst)
        {
            kernels.Project(layer, d, ref source[(nint)first * inWidth], inWidth, count, ref preD[(nint)first * ps]);
            return;
        }
        for (int t = first; t < first + count; t++)
            kernels.Project(layer, d, ref source[(nint)t * inWidth], (nint)f.SeqLen * inWidth, f.Batch, ref preD[(nint)t * f.Batch * ps]);
    }

    /// <summary>
    /// The recurrence of one layer and direction for batch rows [b0, b0 + rows): every time step, then the rows'
    /// final states. Rows are independent, so any split of the batch computes the same numbers as long as each part
    /// starts on a multiple of the kernels' row blocks (<see cref="Parallelism.RowAlignment"/>).
    /// </summary>
    internal static unsafe void Recur<TKernels>(ref TKernels kernels, in RnnShape shape, in SequenceFrame f, int layer, int d, int b0, int rows)
        where TKernels : struct, IRnnKernels
    {
        int hidden = shape.HiddenSize, stateSize = shape.StateSize, cs = kernels.CellStride, ps = kernels.PreStride;
        int seqLen = f.SeqLen, batch = f.Batch, state = layer * shape.NumDirections + d;
        AssertBlock(shape, layer, d);
        Debug.Assert(b0 >= 0 && rows >= 1 && b0 + rows <= batch, "rows within the batch");
        Debug.Assert(f.OutRowStride >= stateSize && f.OutStepStride >= stateSize, "output rows are written: they must not overlap");
        Debug.Assert(cs >= hidden && ps >= shape.GateCount * hidden, "padded rows hold the hidden units");
        float* preD = f.Pre + (nint)d * seqLen * batch * ps + (nint)b0 * ps;
        float* outD = f.Output + (nint)d * stateSize + b0 * f.OutRowStride;
        float* cells = null;
        if (f.HasCell)
        {
            // The cell state is updated in place step by step, starting from c0 (or zeros).
            cells = f.CellsInPlace ? f.CN + ((nint)state * batch + b0) * hidden : f.Cells + ((nint)d * batch + b0) * cs;
            for (int b = 0; b < rows; b++)
            {
                var running = new Span<float>(cells + (nint)b * cs, hidden);
                if (f.C0 is null)
                    running.Clear();
                else
                    new ReadOnlySpan<float>(f.C0 + ((nint)state * batch + b0 + b) * hidden, hidden).CopyTo(running); // c0 is cN's memory or disjoint
            }
        }
        float* unprojected = f.Projects ? f.Unprojected + ((nint)d * batch + b0) * cs : null;
        if (rows == 1 && seqLen > 1 && !f.Projects && BlockKernels)
        {
            // One row: the kernels' block kernel, where they have one, runs every step in one call. Not for one step,
            // where loading the state into registers costs more than the call it saves (Lstm(1→12) seq 1: 84 vs 72 ns
            // on Zen 5; ForwardRow's one step does take the block kernel that projects its own input, which saves the
            // projection's call); both paths compute the same bits.
            int first = TimeStep(d, 0, seqLen), direction = d == 0 ? 1 : -1;
            float* h0 = f.H0 is null ? f.Zeros : f.H0 + ((nint)state * batch + b0) * stateSize;
            if (kernels.TryRunRow(layer, d, ref preD[(nint)first * batch * ps], direction * (nint)batch * ps, seqLen,
                    ref *h0, ref outD[first * f.OutStepStride], direction * f.OutStepStride, ref *cells))
            {
                CopyFinalStates(shape, f, layer, d, b0, rows, outD, cells, cs);
                return;
            }
        }
        // Each step reads and writes the cell state in place (c may be cPrev's memory); a projecting LSTM's step writes m
        // into the workspace, and the projection turns it into h.
        var cellRows = new StridedRows(ref *cells, cs);
        var unprojectedRows = new StridedRows(ref *unprojected, cs);
        StridedRows initial = f.H0 is null
            ? new StridedRows(ref *f.Zeros, 0)
            : new StridedRows(ref f.H0[((nint)state * batch + b0) * stateSize], stateSize);
        for (int s = 0; s < seqLen; s++)
        {
            int t = TimeStep(d, s, seqLen);
            var h = new StridedRows(ref outD[t * f.OutStepStride], f.OutRowStride);
            StridedRows hPrev = s == 0 ? initial : new StridedRows(ref outD[PreviousTimeStep(d, t) * f.OutStepStride], f.OutRowStride);
            StridedRows stepOutput = f.Projects ? unprojectedRows : h;
            kernels.Step(layer, d, hPrev, ref preD[(nint)t * batch * ps], rows, stepOutput, cellRows, cellRows, ref Unsafe.NullRef<float>());
            if (f.Projects)
                kernels.ProjectOutput(layer, d, ref unprojectedRows.Start, rows, ref h.Start, h.Stride);
        }

        CopyFinalStates(shape, f, layer, d, b0, rows, outD, cells, cs);
    }

    [Conditional("DEBUG")]
    private static void AssertBlock(in RnnShape shape, int layer, int d) =>
        Debug.Assert(layer >= 0 && layer < shape.NumLayers && d >= 0 && d < shape.NumDirections, "a layer and direction of the shape");

    /// <summary>The time step that step <paramref name="s"/> of direction <paramref name="d"/> reads: the reverse direction reads the sequence backwards.</summary>
    private static int TimeStep(int d, int s, int seqLen) => d == 0 ? s : seqLen - 1 - s;

    /// <summary>The time step before <paramref name="t"/> in direction <paramref name="d"/>'s order: t − 1 forwards, t + 1 in reverse.</summary>
    private static int PreviousTimeStep(int d, int t) => d == 0 ? t - 1 : t + 1;

    /// <summary>hN (and cN, where the cell state ran in the workspace) of rows [b0, b0 + rows) after the recurrence.</summary>
    private static unsafe void CopyFinalStates(in RnnShape shape, in SequenceFrame f, int layer, int d, int b0, int rows, float* outD, float* cells, int cs)
    {
        int hidden = shape.HiddenSize, stateSize = shape.StateSize;
        int seqLen = f.SeqLen, batch = f.Batch, state = layer * shape.NumDirections + d;
        // hN is the state after the last step: t = seqLen - 1 forwards, t = 0 in reverse.
        float* last = outD + TimeStep(d, seqLen - 1, seqLen) * f.OutStepStride;
        for (int b = 0; b < rows; b++)
        {
            new ReadOnlySpan<float>(last + b * f.OutRowStride, stateSize).CopyTo(new Span<float>(f.HN + ((nint)state * batch + b0 + b) * stateSize, stateSize));
            if (f.HasCell && !f.CellsInPlace)
                new ReadOnlySpan<float>(cells + (nint)b * cs, hidden).CopyTo(new Span<float>(f.CN + ((nint)state * batch + b0 + b) * hidden, hidden));
        }
    }

    /// <summary>
    /// One step of <c>torch.nn.RNNCell</c> / <c>torch.nn.LSTMCell</c>: <paramref name="input"/> (batch, input),
    /// <paramref name="hx"/>, <paramref name="hNext"/>, <paramref name="cx"/>, <paramref name="cNext"/> (batch, hidden);
    /// empty hx / cx mean zeros, and each may be the same memory as its next state. The caller checks the arguments
    /// first, with <see cref="ValidateCell{TGates}"/> (Release builds do not check them here).
    /// </summary>
    public static unsafe void CellForward<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, ReadOnlySpan<float> cx = default, Span<float> cNext = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        AssertValidCell<TGates>(shape, input, batch, hx, hNext, cx, cNext);
        workspace.Tape.Observe(1, batch);
        if (batch == 1)
        {
            CellRow<TKernels, TGates>(ref kernels, shape, workspace, input, hx, hNext, cx, cNext);
            return;
        }
        CellBatch<TKernels, TGates>(ref kernels, shape, workspace, input, batch, hx, hNext, cx, cNext);
    }

    /// <summary>
    /// The cell step of a batch of two or more rows, split over workers where it pays. Not inlined into the call: its
    /// pinning and frame would enlarge every per-sample call's stack frame (4–16% of a cell call on the Xeon).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void CellBatch<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, ReadOnlySpan<float> cx, Span<float> cNext)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        int hidden = shape.HiddenSize, cs = kernels.CellStride;
        ref float pre = ref workspace.Pre(Check.Product("workspace", batch, kernels.PreStride));
        ref float zeros = ref workspace.Zeros(hidden);
        // The kernel reads cPrev and writes c unit by unit, so they may be the same memory: with unpadded rows the
        // step runs on cx and cNext directly, else through padded rows in the workspace.
        bool cellsInPlace = cs == hidden;
        ref float cells = ref TGates.HasCell && !cellsInPlace ? ref workspace.Get(WorkspaceSlot.Cell, batch * cs) : ref Unsafe.NullRef<float>();
        // A kernel reads the whole previous state while it writes the new one: when they overlap, through scratch.
        bool throughScratch = hx.Overlaps(hNext);
        ref float scratch = ref throughScratch ? ref workspace.Scratch(batch * hidden) : ref Unsafe.NullRef<float>();

        fixed (float* pInput = input, pHX = hx, pHNext = hNext, pCX = cx, pCNext = cNext)
        {
            var frame = new CellFrame
            {
                Input = pInput, HX = pHX, HNext = pHNext, CX = pCX, CNext = pCNext,
                Pre = (float*)Unsafe.AsPointer(ref pre), Zeros = (float*)Unsafe.AsPointer(ref zeros),
                Cells = (float*)Unsafe.AsPointer(ref cells), Scratch = (float*)Unsafe.AsPointer(ref scratch),
                Batch = batch, HasCell = TGates.HasCell, CellsInPlace = cellsInPlace, ThroughScratch = throughScratch,
            };
            // Rows split only when no part can read another part's rows: hx and hNext the same memory or disjoint.
            int workers = throughScratch && pHX != pHNext ? 1 : Parallelism.WorkersFor(batch);
            if (workers > 1)
                workspace.CellJob<TKernels>().Run(ref kernels, shape, frame, workers);
            else
                CellRows(ref kernels, shape, frame, 0, batch);
        }
    }

    /// <summary>
    /// The cell step of a batch of one, the streaming case: what <see cref="CellRows"/> does for one row, on the spans
    /// themselves (no pinning, no frame, no split into parts), so that a per-sample call pays little besides its
    /// kernels. The same kernels on the same row: the same bits as that row of any batch.
    /// </summary>
    private static void CellRow<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, ReadOnlySpan<float> hx, Span<float> hNext, ReadOnlySpan<float> cx, Span<float> cNext)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        int hidden = shape.HiddenSize, cs = kernels.CellStride;
        ref float pre = ref workspace.Pre(kernels.PreStride);
        // Taken even when hx and cx are given, as CellRows does: the first call grows it, so no later one allocates.
        ref float zeros = ref workspace.Zeros(hidden);
        StridedRows hPrev = hx.IsEmpty ? new StridedRows(ref zeros, 0) : new StridedRows(ref MemoryMarshal.GetReference(hx), hidden);
        bool inPlace = Unsafe.AreSame(ref hPrev.Start, ref MemoryMarshal.GetReference(hNext));
        // The cell state starts in cNext: cx copied in (an empty cx means zeros, wherever it points; a cx that is cNext
        // stays), for the fused step below and the step after it alike.
        if (TGates.HasCell)
        {
            if (cx.IsEmpty)
                cNext.Clear();
            else if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(cx), ref MemoryMarshal.GetReference(cNext)))
                cx.CopyTo(cNext);
        }
        // A narrow input: one kernel call projects it and steps (the block kernel, for one step), h straight into
        // hNext (also when hx is hNext itself; a partly overlapping hx takes the path below, through scratch).
        if ((!hx.Overlaps(hNext) || inPlace) && BlockKernels && kernels.TryRunRowFromInput(0, 0, ref MemoryMarshal.GetReference(input),
            shape.InputSize, 1, ref hPrev.Start, ref MemoryMarshal.GetReference(hNext), hidden, ref MemoryMarshal.GetReference(cNext)))
            return;
        bool tilesBackward = workspace.AlternateTiles(1);
        // Large weights split over threads by tiles of units, each part projecting its own tiles (below).
        int parts = Parallelism.ThreadsFor(kernels.RowParts(0)); // a constant 1 for a small model's kernels
        if (parts == 1)
            kernels.Project(0, 0, ref MemoryMarshal.GetReference(input), shape.InputSize, 1, ref pre, tilesBackward);

        // As in CellRows: c in cNext itself when rows are unpadded (the step reads each unit of c before it writes it),
        // else in a padded row.
        StridedRows cell = default;
        if (TGates.HasCell && cs == hidden)
        {
            cell = new StridedRows(ref MemoryMarshal.GetReference(cNext), hidden);
        }
        else if (TGates.HasCell)
        {
            Span<float> padded = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.Cell, cs), cs);
            cNext.CopyTo(padded);
            padded.Slice(hidden).Clear();
            cell = new StridedRows(ref MemoryMarshal.GetReference(padded), cs);
        }

        // hx overlapping hNext goes through scratch, unless it is hNext itself and the kernels may step a row in place
        // (not split: the parts read all of hx while they write their own units of h; the generator never lets a kernel
        // that steps a row in place, one call per row, split it, but the condition says so here too).
        bool throughScratch = hx.Overlaps(hNext) && !(kernels.OneRowStepInPlace && inPlace && parts == 1);
        ref float h = ref throughScratch ? ref workspace.Scratch(hidden) : ref MemoryMarshal.GetReference(hNext);
        if (parts > 1)
            StepRowSplit(ref kernels, workspace, 0, ref MemoryMarshal.GetReference(input), ref hPrev.Start, ref h, ref pre, ref cell.Start, parts);
        else
            kernels.Step(0, 0, hPrev, ref pre, 1, new StridedRows(ref h, hidden), cell, cell, ref Unsafe.NullRef<float>(), tilesBackward);
        if (throughScratch)
            MemoryMarshal.CreateReadOnlySpan(ref h, hidden).CopyTo(hNext);
        if (TGates.HasCell && cs != hidden)
            MemoryMarshal.CreateReadOnlySpan(ref cell.Start, hidden).CopyTo(cNext);
    }

    /// <summary>
    /// One step of one row split over <paramref name="parts"/> threads by tiles of units (<see cref="IRnnKernels.StepRowTiles"/>):
    /// each part projects the input row <paramref name="x"/> for its tiles, then steps them. Not inlined: its pinning
    /// would enlarge the per-sample call's frame.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void StepRowSplit<TKernels>(ref TKernels kernels, RnnWorkspace workspace, int layer, ref float x, ref float hPrev, ref float h,
        ref float pre, ref float c, int parts)
        where TKernels : struct, IRnnKernels
    {
        RowTilesJob<TKernels> job = workspace.RowTilesJob<TKernels>();
        workspace.RowSplits++;
        fixed (float* px = &x, pHPrev = &hPrev, pH = &h, pPre = &pre, pC = &c)
            job.Step(ref kernels, layer, px, pHPrev, pPre, pH, pC, parts);
    }

    /// <summary>
    /// The cell step for batch rows [b0, b0 + rows): their input projection, the step, and the new states. Rows are
    /// independent; parts that start on multiples of <see cref="Parallelism.RowAlignment"/> compute the same numbers.
    /// </summary>
    internal static unsafe void CellRows<TKernels>(ref TKernels kernels, in RnnShape shape, in CellFrame f, int b0, int rows)
        where TKernels : struct, IRnnKernels
    {
        int hidden = shape.HiddenSize, cs = kernels.CellStride, ps = kernels.PreStride;
        Debug.Assert(shape.NumLayers == 1 && shape.NumDirections == 1, "a cell: one layer, one direction");
        Debug.Assert(b0 >= 0 && rows >= 1 && b0 + rows <= f.Batch, "rows within the batch");
        Debug.Assert(cs >= hidden && ps >= shape.GateCount * hidden, "padded rows hold the hidden units");
        ref float pre = ref f.Pre[(nint)b0 * ps];
        kernels.Project(0, 0, ref f.Input[(nint)b0 * shape.InputSize], shape.InputSize, rows, ref pre);

        StridedRows cell = default, cellPrev = default;
        if (f.HasCell && f.CellsInPlace)
        {
            cell = new StridedRows(ref f.CNext[(nint)b0 * hidden], hidden);
            cellPrev = f.CX is null ? new StridedRows(ref *f.Zeros, 0) : new StridedRows(ref f.CX[(nint)b0 * hidden], hidden);
        }
        else if (f.HasCell)
        {
            cell = cellPrev = new StridedRows(ref f.Cells[(nint)b0 * cs], cs);
            Span<float> padded = MemoryMarshal.CreateSpan(ref cell.Start, rows * cs);
            padded.Clear();
            if (f.CX is not null)
                for (int b = 0; b < rows; b++)
                    new ReadOnlySpan<float>(f.CX + (nint)(b0 + b) * hidden, hidden).CopyTo(padded.Slice(b * cs, hidden));
        }

        StridedRows hPrev = f.HX is null ? new StridedRows(ref *f.Zeros, 0) : new StridedRows(ref f.HX[(nint)b0 * hidden], hidden);
        float* h = (f.ThroughScratch ? f.Scratch : f.HNext) + (nint)b0 * hidden;
        kernels.Step(0, 0, hPrev, ref pre, rows, new StridedRows(ref *h, hidden), cellPrev, cell, ref Unsafe.NullRef<float>());
        if (f.ThroughScratch)
            new ReadOnlySpan<float>(h, rows * hidden).CopyTo(new Span<float>(f.HNext + (nint)b0 * hidden, rows * hidden));
        if (f.HasCell && !f.CellsInPlace)
            for (int b = 0; b < rows; b++)
                cell.Row(b, hidden).CopyTo(new Span<float>(f.CNext + (nint)(b0 + b) * hidden, hidden));
    }

    /// <summary>
    /// Checks a sequence call's arguments (<see cref="Forward"/>, <see cref="ForwardTraining"/>); throws
    /// <see cref="ArgumentException"/> naming the argument. A module calls it first, before it takes its in-use flag
    /// (<see cref="RnnWorkspace.Enter"/>): the flag's locked exchange waits until the previous call's stores have
    /// drained, and whatever follows it waits too, while checks before it run alongside (docs/performance.md, "The
    /// checks before the in-use flag").
    /// </summary>
    public static void ValidateForward<TGates>(in RnnShape shape, ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        Span<float> cN = default, ReadOnlySpan<float> c0 = default)
        where TGates : struct, IGateMath
    {
        int inputSize = shape.InputSize, directions = shape.NumDirections, layers = shape.NumLayers;
        Check.Positive(seqLen, nameof(seqLen));
        Check.Positive(batch, nameof(batch));
        int inputLength = Check.Product(nameof(input), seqLen, batch, inputSize);
        int outputLength = Check.Product(nameof(output), seqLen, batch, directions, shape.StateSize);
        int stateLength = Check.Product(nameof(hN), layers, directions, batch, shape.StateSize);
        int cellLength = Check.Product(nameof(cN), layers, directions, batch, shape.HiddenSize);
        if (input.Length != inputLength)
            Check.ThrowLength(nameof(input), input.Length, inputLength, InputLayout(shape, seqLen, batch));
        if (output.Length != outputLength)
            Check.ThrowLength(nameof(output), output.Length, outputLength, OutputLayout(shape, seqLen, batch));
        if (hN.Length != stateLength)
            Check.ThrowLength(nameof(hN), hN.Length, stateLength, StateLayout(shape, batch));
        if (h0.Length != 0 && h0.Length != stateLength)
            Check.ThrowLength(nameof(h0), h0.Length, stateLength, StateLayout(shape, batch), optional: true);
        if (TGates.HasCell)
        {
            if (cN.Length != cellLength)
                Check.ThrowLength(nameof(cN), cN.Length, cellLength, CellLayout(shape, batch));
            if (c0.Length != 0 && c0.Length != cellLength)
                Check.ThrowLength(nameof(c0), c0.Length, cellLength, CellLayout(shape, batch), optional: true);
        }
        Check.NoOverlap(output, nameof(output), input, nameof(input));
        Check.NoOverlap(output, nameof(output), hN, nameof(hN));
        Check.NoOverlap(output, nameof(output), h0, nameof(h0));
        Check.NoOverlap(hN, nameof(hN), input, nameof(input));
        Check.SameOrDisjoint(hN, nameof(hN), h0, nameof(h0));
        if (TGates.HasCell)
        {
            Check.NoOverlap(cN, nameof(cN), input, nameof(input));
            Check.NoOverlap(output, nameof(output), cN, nameof(cN));
            Check.NoOverlap(output, nameof(output), c0, nameof(c0));
            Check.NoOverlap(cN, nameof(cN), hN, nameof(hN));
            Check.NoOverlap(cN, nameof(cN), h0, nameof(h0));
            Check.NoOverlap(hN, nameof(hN), c0, nameof(c0));
            Check.SameOrDisjoint(cN, nameof(cN), c0, nameof(c0));
        }
    }

    /// <summary>
    /// Checks a cell call's arguments (<see cref="CellForward"/>, <see cref="CellForwardTraining"/>), as
    /// <see cref="ValidateForward{TGates}"/> does a sequence call's: the module calls it before it takes its in-use flag.
    /// </summary>
    public static void ValidateCell<TGates>(in RnnShape shape, ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext,
        ReadOnlySpan<float> cx = default, Span<float> cNext = default)
        where TGates : struct, IGateMath
    {
        int hidden = shape.HiddenSize;
        Check.Positive(batch, nameof(batch));
        int inputLength = Check.Product(nameof(input), batch, shape.InputSize);
        int stateLength = Check.Product(nameof(hNext), batch, hidden);
        if (input.Length != inputLength)
            Check.ThrowLength(nameof(input), input.Length, inputLength, CellLayout("inputSize", batch, shape.InputSize));
        if (hx.Length != 0 && hx.Length != stateLength)
            Check.ThrowLength(nameof(hx), hx.Length, stateLength, CellLayout("hiddenSize", batch, hidden), optional: true);
        if (hNext.Length != stateLength)
            Check.ThrowLength(nameof(hNext), hNext.Length, stateLength, CellLayout("hiddenSize", batch, hidden));
        Check.NoOverlap(hNext, nameof(hNext), input, nameof(input));
        if (TGates.HasCell)
        {
            if (cx.Length != 0 && cx.Length != stateLength)
                Check.ThrowLength(nameof(cx), cx.Length, stateLength, CellLayout("hiddenSize", batch, hidden), optional: true);
            if (cNext.Length != stateLength)
                Check.ThrowLength(nameof(cNext), cNext.Length, stateLength, CellLayout("hiddenSize", batch, hidden));
            Check.NoOverlap(cNext, nameof(cNext), input, nameof(input));
            Check.NoOverlap(cNext, nameof(cNext), hNext, nameof(hNext));
            Check.NoOverlap(cNext, nameof(cNext), hx, nameof(hx));
            Check.NoOverlap(hNext, nameof(hNext), cx, nameof(cx));
            Check.SameOrDisjoint(cNext, nameof(cNext), cx, nameof(cx));
        }
    }

    // Debug builds check again where the arguments are used, so that a caller that skipped ValidateForward or
    // ValidateCell fails there (the CI runs the numeric tests on a Debug build).
    [Conditional("DEBUG")]
    private static void AssertValidForward<TGates>(in RnnShape shape, ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN,
        ReadOnlySpan<float> h0, Span<float> cN, ReadOnlySpan<float> c0)
        where TGates : struct, IGateMath
        => ValidateForward<TGates>(shape, input, seqLen, batch, output, hN, h0, cN, c0);

    [Conditional("DEBUG")]
    private static void AssertValidCell<TGates>(in RnnShape shape, ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext,
        ReadOnlySpan<float> cx, Span<float> cNext)
        where TGates : struct, IGateMath
        => ValidateCell<TGates>(shape, input, batch, hx, hNext, cx, cNext);

    // The layouts that length errors describe. They are built only when a check fails: kept out of line, so the
    // checked calls carry no string-building code.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Rows(in RnnShape shape, int seqLen, int batch) =>
        shape.BatchFirst ? $"batch·seqLen ({batch}·{seqLen})" : $"seqLen·batch ({seqLen}·{batch})";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string InputLayout(in RnnShape shape, int seqLen, int batch) => $"{Rows(shape, seqLen, batch)}·inputSize {shape.InputSize}";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string OutputLayout(in RnnShape shape, int seqLen, int batch) =>
        $"{Rows(shape, seqLen, batch)}·directions·{StateName(shape)} {shape.NumDirections}·{shape.StateSize}";

    /// <summary>The layout of a recorded forward's output (or input) gradient: <c>seqLen·batch (12)·inputSize 3</c>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string RecordedLayout(in RnnShape shape, int rows, bool output) =>
        $"{(shape.BatchFirst ? "batch·seqLen" : "seqLen·batch")} ({rows})·" +
        (output ? $"directions·{StateName(shape)} of the recorded forward" : $"inputSize {shape.InputSize}");

    /// <summary>A cell's (batch, features) layout: <c>batch·inputSize (2·10)</c>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string CellLayout(string features, int batch, int size) => $"batch·{features} ({batch}·{size})";

    /// <summary>What h's feature count is called: projSize when the LSTM projects, else hiddenSize.</summary>
    private static string StateName(in RnnShape shape) => shape.ProjSize > 0 ? "projSize" : "hiddenSize";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string StateLayout(in RnnShape shape, int batch) =>
        $"numLayers·directions·batch·{StateName(shape)} ({shape.NumLayers}·{shape.NumDirections}·{batch}·{shape.StateSize})";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string CellLayout(in RnnShape shape, int batch) =>
        $"numLayers·directions·batch·hiddenSize ({shape.NumLayers}·{shape.NumDirections}·{batch}·{shape.HiddenSize})";
}

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

// Training: a forward pass that records a tape, and backpropagation through time over it.
//
// The tape holds, per layer, the layer's input rows X_l (time-major, padded to InputStride; for layers
// above the first, the previous layer's output after dropout) and, per layer and direction, every state
// h_t (time-major, padded to StateStride), the initial state, and for an LSTM every cell state c_t and
// every step's gate activations; then the dropout masks. Backward walks the layers top-down: per direction
// it runs the recurrence backwards (the cell's backward step gives the gradient at the pre-activations;
// dh_{t-1} = da_t · W_hh), then forms the weight gradients as whole-sequence products (dW_ih += DAᵀ X,
// dW_hh += DAᵀ H_prev, db += Σ DA) and the gradient at the layer input (dX = Σ_d DA_d · W_ih,d), which is the
// next layer down's output gradient after the dropout mask.
public static partial class RnnDriver
{
    /// <summary>
    /// <see cref="Forward"/> in training mode: the same results, plus the tape <see cref="Backward"/> needs,
    /// and dropout with probability <paramref name="dropout"/> (inverted scaling) on the input of every layer
    /// above the first.
    /// </summary>
    public static void ForwardTraining<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        double dropout, DropoutGenerator generator, Span<float> cN = default, ReadOnlySpan<float> c0 = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        ValidateForward<TGates>(shape, input, seqLen, batch, output, hN, h0, cN, c0);
        Record<TKernels, TGates>(ref kernels, shape, workspace, parameterVersion, input, seqLen, batch, output, hN, h0, cN, c0, (float)dropout, generator);
    }

    /// <summary><see cref="CellForward"/> in training mode: the same result, plus the tape.</summary>
    public static void CellForwardTraining<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, ReadOnlySpan<float> cx = default, Span<float> cNext = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        ValidateCell<TGates>(shape, input, batch, hx, hNext, cx, cNext);
        // The tape keeps its own copies of hx and cx, so they may be the same memory as hNext and cNext.
        Record<TKernels, TGates>(ref kernels, shape, workspace, parameterVersion, input, 1, batch, hNext, default, hx, cNext, cx, 0f, null);
    }

    private static void Record<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        Span<float> cN, ReadOnlySpan<float> c0, float dropout, DropoutGenerator? generator)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        int hidden = shape.HiddenSize, stateSize = shape.StateSize, directions = shape.NumDirections, layers = shape.NumLayers, rows = seqLen * batch;
        int hs = kernels.StateStride, cs = kernels.CellStride, ps = kernels.PreStride;
        bool projects = shape.ProjSize > 0;
        bool hasDropout = dropout > 0 && layers > 1 && generator is not null;
        int tr = TGates.TapeSlots * cs;
        var tape = new TapeLayout(shape, hs, cs, tr, kernels.InputStride(0), layers > 1 ? kernels.InputStride(1) : 0, seqLen, batch, TGates.HasCell, hasDropout);
        RnnTape record = workspace.Tape;
        record.IsValid = false;
        ref float t0 = ref workspace.Get(WorkspaceSlot.Tape, tape.Length);
        ref float pre = ref workspace.Pre(Check.Product("workspace", directions, rows, ps));

        // X_0: the input rows, time-major and padded.
        int kp0 = tape.InputStride(0);
        Span<float> x0 = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref t0, tape.X(0)), rows * kp0);
        for (int t = 0; t < seqLen; t++)
            for (int b = 0; b < batch; b++)
                CopyPadded(input.Slice(UserRow(shape, seqLen, batch, t, b) * shape.InputSize, shape.InputSize), x0.Slice((t * batch + b) * kp0, kp0));

        for (int layer = 0; layer < layers; layer++)
        {
            int kp = tape.InputStride(layer);
            Span<float> x = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref t0, tape.X(layer)), rows * kp);
            if (layer > 0)
            {
                // X_l: the directions of the layer below side by side, then dropped out.
                int width = directions * stateSize;
                for (int d = 0; d < directions; d++)
                {
                    ReadOnlySpan<float> below = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.H(layer - 1, d)), rows * hs);
                    for (int r = 0; r < rows; r++)
                        below.Slice(r * hs, stateSize).CopyTo(x.Slice(r * kp + d * stateSize, stateSize));
                }
                for (int r = 0; r < rows; r++)
                    x.Slice(r * kp + width, kp - width).Clear();
                if (hasDropout)
                {
                    // One mask row per input row, drawn over the real features only, so that a seed gives the
                    // same masks on every path whatever its padding.
                    Span<float> mask = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref t0, tape.Mask(layer)), rows * kp);
                    for (int r = 0; r < rows; r++)
                    {
                        Span<float> m = mask.Slice(r * kp, kp);
                        generator!.FillMask(m.Slice(0, width), dropout);
                        m.Slice(width).Clear();
                        Span<float> xr = x.Slice(r * kp, width);
                        for (int i = 0; i < width; i++)
                            xr[i] *= m[i];
                    }
                }
            }

            for (int d = 0; d < directions; d++)
                kernels.Project(layer, d, ref MemoryMarshal.GetReference(x), kp, rows, ref Unsafe.Add(ref pre, d * rows * ps));

            for (int d = 0; d < directions; d++)
            {
                int state = layer * directions + d;
                ref float hd = ref Unsafe.Add(ref t0, tape.H(layer, d));
                Span<float> savedH0 = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref t0, tape.H0(layer, d)), batch * hs);
                savedH0.Clear();
                if (!h0.IsEmpty)
                    for (int b = 0; b < batch; b++)
                        h0.Slice((state * batch + b) * stateSize, stateSize).CopyTo(savedH0.Slice(b * hs, stateSize));
                ref float cd = ref Unsafe.NullRef<float>();
                ref float c0d = ref Unsafe.NullRef<float>();
                ref float gd = ref Unsafe.NullRef<float>();
                ref float md = ref projects ? ref Unsafe.Add(ref t0, tape.M(layer, d)) : ref Unsafe.NullRef<float>();
                if (TGates.HasCell)
                {
                    cd = ref Unsafe.Add(ref t0, tape.C(layer, d));
                    Span<float> savedC0 = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref t0, tape.C0(layer, d)), batch * cs);
                    savedC0.Clear();
                    if (!c0.IsEmpty)
                        for (int b = 0; b < batch; b++)
                            c0.Slice((state * batch + b) * hidden, hidden).CopyTo(savedC0.Slice(b * cs, hidden));
                    c0d = ref MemoryMarshal.GetReference(savedC0);
                }
                if (TGates.TapeSlots > 0)
                    gd = ref Unsafe.Add(ref t0, tape.Gates(layer, d));

                for (int s = 0; s < seqLen; s++)
                {
                    int t = d == 0 ? s : seqLen - 1 - s;
                    int previous = d == 0 ? t - 1 : t + 1;
                    ref float preStep = ref Unsafe.Add(ref pre, (d * rows + t * batch) * ps);
                    ref float hPrev = ref s == 0 ? ref MemoryMarshal.GetReference(savedH0) : ref Unsafe.Add(ref hd, previous * batch * hs);
                    ref float cPrev = ref Unsafe.NullRef<float>();
                    ref float c = ref Unsafe.NullRef<float>();
                    ref float gates = ref Unsafe.NullRef<float>();
                    if (TGates.HasCell)
                    {
                        cPrev = ref s == 0 ? ref c0d : ref Unsafe.Add(ref cd, previous * batch * cs);
                        c = ref Unsafe.Add(ref cd, t * batch * cs);
                    }
                    if (TGates.TapeSlots > 0)
                        gates = ref Unsafe.Add(ref gd, t * batch * tr);
                    ref float h = ref Unsafe.Add(ref hd, t * batch * hs);
                    if (projects)
                    {
                        // The tape keeps m = o ⊙ tanh(c) for the projection's weight gradient.
                        ref float m = ref Unsafe.Add(ref md, t * batch * cs);
                        kernels.Step(layer, d, ref hPrev, hs, ref preStep, batch, ref m, cs, ref cPrev, cs, ref c, cs, ref gates);
                        kernels.ProjectOutput(layer, d, ref m, batch, ref h, hs);
                    }
                    else
                    {
                        kernels.Step(layer, d, ref hPrev, hs, ref preStep, batch, ref h, hs, ref cPrev, cs, ref c, cs, ref gates);
                    }
                }
                int last = d == 0 ? seqLen - 1 : 0;
                for (int b = 0; b < batch; b++)
                {
                    if (!hN.IsEmpty)
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref hd, (last * batch + b) * hs), stateSize).CopyTo(hN.Slice((state * batch + b) * stateSize, stateSize));
                    if (TGates.HasCell && !cN.IsEmpty)
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref cd, (last * batch + b) * cs), hidden).CopyTo(cN.Slice((state * batch + b) * hidden, hidden));
                }
            }
        }

        // The output: the top layer's states in the caller's layout.
        int outWidth = shape.OutputSize;
        for (int d = 0; d < directions; d++)
        {
            ReadOnlySpan<float> top = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.H(layers - 1, d)), rows * hs);
            for (int t = 0; t < seqLen; t++)
                for (int b = 0; b < batch; b++)
                    top.Slice((t * batch + b) * hs, stateSize).CopyTo(output.Slice(UserRow(shape, seqLen, batch, t, b) * outWidth + d * stateSize, stateSize));
        }

        record.SeqLen = seqLen;
        record.Batch = batch;
        record.HasH0 = !h0.IsEmpty;
        record.HasDropout = hasDropout;
        record.ParameterVersion = parameterVersion;
        record.IsValid = true;
    }

    /// <summary>
    /// Backpropagation through the last training forward: accumulates every parameter's gradient into
    /// <paramref name="gradients"/> (like PyTorch's <c>.grad</c>) and writes the gradients at the input and at
    /// the initial states. Empty upstream gradients (<paramref name="gradOutput"/>, <paramref name="gradHn"/>,
    /// <paramref name="gradCn"/>) mean zeros; empty <paramref name="gradInput"/>, <paramref name="gradH0"/>,
    /// <paramref name="gradC0"/> mean "not needed". The tape is kept, so Backward may run again (like
    /// <c>retain_graph=True</c>).
    /// </summary>
    public static void Backward<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, ParameterSet gradients, long parameterVersion,
        ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0,
        ReadOnlySpan<float> gradCn = default, Span<float> gradC0 = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        RnnTape record = workspace.Tape;
        CheckTape(record, parameterVersion);
        int seqLen = record.SeqLen, batch = record.Batch;
        int hidden = shape.HiddenSize, stateSize = shape.StateSize, directions = shape.NumDirections, layers = shape.NumLayers, rows = seqLen * batch;
        bool projects = shape.ProjSize > 0;
        int stateLength = layers * directions * batch * stateSize, cellLength = layers * directions * batch * hidden;
        if (gradOutput.Length != 0 && gradOutput.Length != rows * shape.OutputSize)
            Check.ThrowLength(nameof(gradOutput), gradOutput.Length, rows * shape.OutputSize, RecordedLayout(shape, rows, output: true), optional: true);
        if (gradHn.Length != 0 && gradHn.Length != stateLength)
            Check.ThrowLength(nameof(gradHn), gradHn.Length, stateLength, StateLayout(shape, batch), optional: true);
        if (gradCn.Length != 0 && gradCn.Length != cellLength)
            Check.ThrowLength(nameof(gradCn), gradCn.Length, cellLength, CellLayout(shape, batch), optional: true);
        if (gradInput.Length != 0 && gradInput.Length != rows * shape.InputSize)
            Check.ThrowLength(nameof(gradInput), gradInput.Length, rows * shape.InputSize, RecordedLayout(shape, rows, output: false), optional: true);
        if (gradH0.Length != 0 && gradH0.Length != stateLength)
            Check.ThrowLength(nameof(gradH0), gradH0.Length, stateLength, StateLayout(shape, batch), optional: true);
        if (gradC0.Length != 0 && gradC0.Length != cellLength)
            Check.ThrowLength(nameof(gradC0), gradC0.Length, cellLength, CellLayout(shape, batch), optional: true);
        Check.NoOverlap(gradInput, nameof(gradInput), gradOutput, nameof(gradOutput));
        Check.NoOverlap(gradInput, nameof(gradInput), gradHn, nameof(gradHn));
        Check.NoOverlap(gradH0, nameof(gradH0), gradOutput, nameof(gradOutput));
        Check.NoOverlap(gradH0, nameof(gradH0), gradHn, nameof(gradHn));
        Check.NoOverlap(gradH0, nameof(gradH0), gradInput, nameof(gradInput));
        Check.NoOverlap(gradC0, nameof(gradC0), gradOutput, nameof(gradOutput));
        Check.NoOverlap(gradC0, nameof(gradC0), gradCn, nameof(gradCn));
        Check.NoOverlap(gradC0, nameof(gradC0), gradInput, nameof(gradInput));
        Check.NoOverlap(gradC0, nameof(gradC0), gradH0, nameof(gradH0));

        int hs = kernels.StateStride, cs = kernels.CellStride, ps = kernels.PreStride, tr = TGates.TapeSlots * cs;
        GateLayout layout = kernels.Layout;
        var tapeLayout = layout with { Gates = Math.Max(1, TGates.TapeSlots) };
        var tape = new TapeLayout(shape, hs, cs, tr, kernels.InputStride(0), layers > 1 ? kernels.InputStride(1) : 0, seqLen, batch, TGates.HasCell, record.HasDropout);
        ref float t0 = ref workspace.Get(WorkspaceSlot.Tape, tape.Length);
        Span<float> da = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradPre, directions * rows * ps), directions * rows * ps);
        // A GRU's input-side gradient differs from the hidden side's in the n gate; the other cells share one.
        Span<float> daIn = TGates.SplitsGradients
            ? MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradPreInput, directions * rows * ps), directions * rows * ps)
            : da;
        Span<float> direct = TGates.SplitsGradients
            ? MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradDirect, batch * hs), batch * hs)
            : default;
        Span<float> g = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradOutput, directions * rows * hs), directions * rows * hs);
        int widest = Math.Max(Math.Max(hs, cs), tape.InputStride(0));
        if (layers > 1)
            widest = Math.Max(widest, tape.InputStride(1));
        Span<float> dx = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradInput, rows * widest), rows * widest);
        Span<float> dh = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradState, batch * hs), batch * hs);
        Span<float> dc = TGates.HasCell ? MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradCell, batch * cs), batch * cs) : default;
        // With a projection, the gradient at m = o ⊙ tanh(c) is what the cell's backward step starts from.
        Span<float> dm = projects ? MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.Unprojected, batch * cs), batch * cs) : default;
        ReadOnlySpan<float> noRecurrent = projects ? MemoryMarshal.CreateReadOnlySpan(ref workspace.Zeros(hidden), hidden) : default;
        // Room for the widest weight gradient, and for the two bias sums (2·ps) when every stride is 1.
        int scratchLength = ps * Math.Max(widest, 2);
        Span<float> dwScratch = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradWeight, scratchLength), scratchLength);
        ref float dw = ref MemoryMarshal.GetReference(dwScratch);

        // The top layer's output gradient, per direction, time-major and padded.
        for (int d = 0; d < directions; d++)
        {
            Span<float> gd = g.Slice(d * rows * hs, rows * hs);
            gd.Clear();
            if (!gradOutput.IsEmpty)
                for (int t = 0; t < seqLen; t++)
                    for (int b = 0; b < batch; b++)
                        gradOutput.Slice(UserRow(shape, seqLen, batch, t, b) * shape.OutputSize + d * stateSize, stateSize).CopyTo(gd.Slice((t * batch + b) * hs, stateSize));
        }

        for (int layer = layers - 1; layer >= 0; layer--)
        {
            int kp = tape.InputStride(layer), cols = shape.LayerInputSize(layer);
            ref float x = ref Unsafe.Add(ref t0, tape.X(layer));

            // Back through time, per direction: the cell's backward step, then dh = da · W_hh.
            for (int d = 0; d < directions; d++)
            {
                int state = layer * directions + d;
                dh.Clear();
                if (!gradHn.IsEmpty)
                    for (int b = 0; b < batch; b++)
                        gradHn.Slice((state * batch + b) * stateSize, stateSize).CopyTo(dh.Slice(b * hs, stateSize));
                if (TGates.HasCell)
                {
                    dc.Clear();
                    if (!gradCn.IsEmpty)
                        for (int b = 0; b < batch; b++)
                            gradCn.Slice((state * batch + b) * hidden, hidden).CopyTo(dc.Slice(b * cs, hidden));
                }
                Span<float> dad = da.Slice(d * rows * ps, rows * ps);
                Span<float> dadIn = daIn.Slice(d * rows * ps, rows * ps);
                dad.Clear(); // padding stays zero
                if (TGates.SplitsGradients)
                    dadIn.Clear();
                Span<float> gd = g.Slice(d * rows * hs, rows * hs);
                ReadOnlySpan<float> hd = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.H(layer, d)), rows * hs);
                ReadOnlySpan<float> cd = TGates.HasCell ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.C(layer, d)), rows * cs) : default;
                ReadOnlySpan<float> c0d = TGates.HasCell ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.C0(layer, d)), batch * cs) : default;
                ReadOnlySpan<float> gatesd = TGates.TapeSlots > 0 ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.Gates(layer, d)), rows * tr) : default;
                ReadOnlySpan<float> h0d = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.H0(layer, d)), batch * hs);
                for (int s = seqLen - 1; s >= 0; s--)
                {
                    int t = d == 0 ? s : seqLen - 1 - s;
                    int previous = d == 0 ? t - 1 : t + 1;
                    if (projects)
                    {
                        // The whole gradient at h_t (output plus recurrence) stays in g for dW_hr; dm = dh · W_hr.
                        for (int b = 0; b < batch; b++)
                        {
                            Span<float> total = gd.Slice((t * batch + b) * hs, stateSize);
                            ReadOnlySpan<float> recurrent = dh.Slice(b * hs, stateSize);
                            for (int u = 0; u < stateSize; u++)
                                total[u] += recurrent[u];
                        }
                        kernels.BackProjectOutput(layer, d, ref gd[t * batch * hs], batch, ref MemoryMarshal.GetReference(dm));
                    }
                    for (int b = 0; b < batch; b++)
                    {
                        int row = t * batch + b;
                        // A projecting LSTM's step starts from dm; its backward step reads neither h nor hPrev.
                        TGates.Backward(layout, tapeLayout,
                            projects ? dm.Slice(b * cs, hidden) : gd.Slice(row * hs, hidden),
                            projects ? noRecurrent : dh.Slice(b * hs, hidden),
                            TGates.HasCell ? dc.Slice(b * cs, hidden) : default,
                            TGates.TapeSlots > 0 ? gatesd.Slice(row * tr, tr) : default,
                            projects ? default : hd.Slice(row * hs, hidden),
                            projects ? default : s == 0 ? h0d.Slice(b * hs, hidden) : hd.Slice((previous * batch + b) * hs, hidden),
                            TGates.HasCell ? cd.Slice(row * cs, hidden) : default,
                            TGates.HasCell ? (s == 0 ? c0d.Slice(b * cs, hidden) : cd.Slice((previous * batch + b) * cs, hidden)) : default,
                            dad.Slice(row * ps, ps), dadIn.Slice(row * ps, ps),
                            TGates.SplitsGradients ? direct.Slice(b * hs, hidden) : default);
                    }
                    kernels.BackStep(layer, d, ref dad[t * batch * ps], batch, ref MemoryMarshal.GetReference(dh));
                    if (TGates.SplitsGradients)
                        for (int b = 0; b < batch; b++)
                            for (int u = 0; u < hidden; u++)
                                dh[b * hs + u] += direct[b * hs + u];
                }
                for (int b = 0; b < batch; b++)
                {
                    if (!gradH0.IsEmpty)
                        dh.Slice(b * hs, stateSize).CopyTo(gradH0.Slice((state * batch + b) * stateSize, stateSize));
                    if (TGates.HasCell && !gradC0.IsEmpty)
                        dc.Slice(b * cs, hidden).CopyTo(gradC0.Slice((state * batch + b) * hidden, hidden));
                }
            }

            // Weight and bias gradients over the whole sequence.
            for (int d = 0; d < directions; d++)
            {
                int block = shape.BlockIndex(layer, d);
                ref float dad = ref da[d * rows * ps];
                ref float hd = ref Unsafe.Add(ref t0, tape.H(layer, d));

                dwScratch.Slice(0, ps * kp).Clear();
                WeightGradInChunks(ref kernels, layer, d, false, ref daIn[d * rows * ps], ps, ref x, kp, rows, ref dw);
                AddRows(gradients, block, layout, cols, dwScratch, kp);

                // W_hh pairs da_t with the state before step t: h_{t-1} forwards, h_{t+1} in reverse, h0 first.
                dwScratch.Slice(0, ps * hs).Clear();
                if (seqLen > 1)
                {
                    int daStart = d == 0 ? batch : 0, hStart = d == 0 ? 0 : batch;
                    WeightGradInChunks(ref kernels, layer, d, true, ref Unsafe.Add(ref dad, daStart * ps), ps, ref Unsafe.Add(ref hd, hStart * hs), hs, rows - batch, ref dw);
                }
                if (record.HasH0)
                {
                    int firstStep = d == 0 ? 0 : seqLen - 1;
                    kernels.WeightGrad(layer, d, true, ref Unsafe.Add(ref dad, firstStep * batch * ps), ref Unsafe.Add(ref t0, tape.H0(layer, d)), batch, ref dw);
                }
                AddRows(gradients, block + 1, layout, stateSize, dwScratch, hs);

                if (projects)
                {
                    // dW_hr = Σ_t dh_tᵀ m_t, with g holding the whole gradient at every h_t.
                    dwScratch.Slice(0, stateSize * cs).Clear();
                    kernels.ProjectionWeightGrad(ref g[d * rows * hs], ref Unsafe.Add(ref t0, tape.M(layer, d)), rows, ref dw);
                    AddRows(gradients, shape.ProjectionIndex(layer, d), new GateLayout(stateSize, stateSize, stateSize, 1), hidden, dwScratch, cs);
                }

                if (shape.Bias)
                {
                    // db = Σ_r da[r], summed row by row (sequential reads), then moved to PyTorch's row order.
                    Span<float> sums = dwScratch.Slice(0, 2 * ps);
                    sums.Clear();
                    SumRows(da.Slice(d * rows * ps, rows * ps), ps, sums.Slice(0, ps));
                    SumRows(daIn.Slice(d * rows * ps, rows * ps), ps, sums.Slice(ps, ps));
                    Span<float> bih = gradients.Data.AsSpan(gradients.OffsetOf(block + 2), layout.Gates * hidden);
                    Span<float> bhh = gradients.Data.AsSpan(gradients.OffsetOf(block + 3), layout.Gates * hidden);
                    for (int q = 0; q < ps; q++)
                    {
                        int torchRow = layout.TorchRow(q);
                        if (torchRow < 0)
                            continue;
                        bhh[torchRow] += sums[q];
                        bih[torchRow] += sums[ps + q];
                    }
                }
            }

            // The gradient at the layer's input: dX = Σ_d DA_d · W_ih,d.
            if (layer == 0 && gradInput.IsEmpty)
                continue;
            dx.Slice(0, rows * kp).Clear();
            for (int d = 0; d < directions; d++)
                kernels.BackProject(layer, d, ref daIn[d * rows * ps], rows, ref MemoryMarshal.GetReference(dx));
            if (layer > 0)
            {
                ReadOnlySpan<float> mask = record.HasDropout
                    ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.Mask(layer)), rows * kp)
                    : default;
                for (int d = 0; d < directions; d++)
                {
                    Span<float> gd = g.Slice(d * rows * hs, rows * hs);
                    for (int r = 0; r < rows; r++)
                    {
                        for (int j = 0; j < stateSize; j++)
                        {
                            int i = r * kp + d * stateSize + j;
                            gd[r * hs + j] = mask.IsEmpty ? dx[i] : dx[i] * mask[i];
                        }
                        gd.Slice(r * hs + stateSize, hs - stateSize).Clear();
                    }
                }
            }
            else
            {
                for (int t = 0; t < seqLen; t++)
                    for (int b = 0; b < batch; b++)
                        dx.Slice((t * batch + b) * kp, shape.InputSize).CopyTo(gradInput.Slice(UserRow(shape, seqLen, batch, t, b) * shape.InputSize, shape.InputSize));
            }
        }
    }

    /// <summary>Backward through a cell's last training forward (a one-step sequence).</summary>
    public static void CellBackward<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, ParameterSet gradients, long parameterVersion,
        ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx, ReadOnlySpan<float> gradCNext = default, Span<float> gradCx = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        CheckTape(workspace.Tape, parameterVersion);
        int batch = workspace.Tape.Batch, state = batch * shape.HiddenSize;
        if (gradHNext.Length != 0 && gradHNext.Length != state)
            Check.ThrowLength(nameof(gradHNext), gradHNext.Length, state, CellLayout("hiddenSize", batch, shape.HiddenSize) + " of the recorded forward", optional: true);
        if (gradCNext.Length != 0 && gradCNext.Length != state)
            Check.ThrowLength(nameof(gradCNext), gradCNext.Length, state, CellLayout("hiddenSize", batch, shape.HiddenSize) + " of the recorded forward", optional: true);
        if (gradInput.Length != 0 && gradInput.Length != batch * shape.InputSize)
            Check.ThrowLength(nameof(gradInput), gradInput.Length, batch * shape.InputSize, CellLayout("inputSize", batch, shape.InputSize), optional: true);
        if (gradHx.Length != 0 && gradHx.Length != state)
            Check.ThrowLength(nameof(gradHx), gradHx.Length, state, CellLayout("hiddenSize", batch, shape.HiddenSize), optional: true);
        if (gradCx.Length != 0 && gradCx.Length != state)
            Check.ThrowLength(nameof(gradCx), gradCx.Length, state, CellLayout("hiddenSize", batch, shape.HiddenSize), optional: true);
        Backward<TKernels, TGates>(ref kernels, shape, workspace, gradients, parameterVersion, gradHNext, default, gradInput, gradHx, gradCNext, gradCx);
    }

    private static void CheckTape(RnnTape record, long parameterVersion)
    {
        if (!record.IsValid)
            throw new InvalidOperationException(
                "Backward needs the tape of a training forward: call Forward(..., training: true) first, and do not run Forward with another seqLen or batch in between.");
        if (record.ParameterVersion != parameterVersion)
            throw new InvalidOperationException(
                "The parameters changed after the training forward (an optimizer step or a write to Parameters), so its tape no longer matches them: run Forward(..., training: true) again before Backward.");
    }

    /// <summary>
    /// A weight gradient over many rows, in chunks: each chunk's rows of da and x stay in cache while every
    /// column tile of dw passes over them (a single pass would stream all of da and x once per tile).
    /// </summary>
    private static void WeightGradInChunks<TKernels>(ref TKernels kernels, int layer, int direction, bool recurrent, ref float da, int daStride, ref float x, int xStride, int rows, ref float dw)
        where TKernels : struct, IRnnKernels
    {
        const int Chunk = 64;
        for (int r = 0; r < rows; r += Chunk)
            kernels.WeightGrad(layer, direction, recurrent, ref Unsafe.Add(ref da, (nint)r * daStride), ref Unsafe.Add(ref x, (nint)r * xStride), Math.Min(Chunk, rows - r), ref dw);
    }

    /// <summary>sums += Σ_r rows[r], over rows of <paramref name="width"/> floats.</summary>
    private static void SumRows(ReadOnlySpan<float> rows, int width, Span<float> sums)
    {
        for (int r = 0; r < rows.Length; r += width)
        {
            ReadOnlySpan<float> row = rows.Slice(r, width);
            int k = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; k + 8 <= width; k += 8)
                    (Vector256.Create(sums.Slice(k, 8)) + Vector256.Create(row.Slice(k, 8))).CopyTo(sums.Slice(k, 8));
            }
            for (; k < width; k++)
                sums[k] += row[k];
        }
    }

    /// <summary>Adds a scratch weight gradient (rows in the kernels' gate layout) into a parameter's gradient (PyTorch rows × cols).</summary>
    private static void AddRows(ParameterSet gradients, int index, in GateLayout layout, int cols, ReadOnlySpan<float> scratch, int stride)
    {
        Span<float> target = gradients.Data.AsSpan(gradients.OffsetOf(index), layout.Gates * layout.Hidden * cols);
        for (int q = 0; q < layout.RowLength; q++)
        {
            int torchRow = layout.TorchRow(q);
            if (torchRow < 0)
                continue;
            ReadOnlySpan<float> source = scratch.Slice(q * stride, cols);
            Span<float> row = target.Slice(torchRow * cols, cols);
            for (int k = 0; k < cols; k++)
                row[k] += source[k];
        }
    }

    private static void CopyPadded(ReadOnlySpan<float> source, Span<float> destination)
    {
        source.CopyTo(destination);
        destination.Slice(source.Length).Clear();
    }

    /// <summary>The row of (t, b) in the caller's layout: time-major, or batch-major when batch-first.</summary>
    private static int UserRow(in RnnShape shape, int seqLen, int batch, int t, int b) => shape.BatchFirst ? b * seqLen + t : t * batch + b;

    /// <summary>Where each record sits in the tape buffer, for one call's seqLen and batch.</summary>
    private readonly struct TapeLayout
    {
        private readonly int _rows, _batch, _hs, _cs, _ps, _kp0, _kp1, _directions, _hBase, _h0Base, _cBase, _c0Base, _gatesBase, _mBase, _maskBase;

        public TapeLayout(in RnnShape shape, int stateStride, int cellStride, int tapeRow, int inputStride0, int inputStride1, int seqLen, int batch, bool cells, bool dropout)
        {
            _rows = seqLen * batch;
            _batch = batch;
            _hs = stateStride;
            _cs = cellStride;
            _ps = tapeRow;
            _kp0 = inputStride0;
            _kp1 = shape.NumLayers > 1 ? inputStride1 : 0;
            _directions = shape.NumDirections;
            long blocks = (long)shape.NumLayers * _directions;
            long x = (long)_rows * (_kp0 + (long)(shape.NumLayers - 1) * _kp1);
            long h = blocks * _rows * _hs, h0 = blocks * batch * _hs;
            long c = cells ? blocks * _rows * _cs : 0, c0 = cells ? blocks * batch * _cs : 0;
            long g = blocks * _rows * _ps;
            long m = shape.ProjSize > 0 ? blocks * _rows * _cs : 0;
            long mask = dropout ? (long)_rows * (shape.NumLayers - 1) * _kp1 : 0;
            long total = x + h + h0 + c + c0 + g + m + mask;
            if (total > Array.MaxLength)
                throw new ArgumentException($"The training tape would need {total} floats; use a shorter sequence or a smaller batch.", nameof(seqLen));
            _hBase = (int)x;
            _h0Base = (int)(x + h);
            _cBase = (int)(x + h + h0);
            _c0Base = (int)(x + h + h0 + c);
            _gatesBase = (int)(x + h + h0 + c + c0);
            _mBase = (int)(x + h + h0 + c + c0 + g);
            _maskBase = (int)(x + h + h0 + c + c0 + g + m);
            Length = (int)total;
        }

        public int Length { get; }

        public int InputStride(int layer) => layer == 0 ? _kp0 : _kp1;

        public int X(int layer) => layer == 0 ? 0 : _rows * (_kp0 + (layer - 1) * _kp1);

        private int Block(int layer, int direction) => layer * _directions + direction;

        public int H(int layer, int direction) => _hBase + Block(layer, direction) * _rows * _hs;

        public int H0(int layer, int direction) => _h0Base + Block(layer, direction) * _batch * _hs;

        public int C(int layer, int direction) => _cBase + Block(layer, direction) * _rows * _cs;

        public int C0(int layer, int direction) => _c0Base + Block(layer, direction) * _batch * _cs;

        public int Gates(int layer, int direction) => _gatesBase + Block(layer, direction) * _rows * _ps;

        /// <summary>A projecting LSTM's m = o ⊙ tanh(c) per step, before the projection.</summary>
        public int M(int layer, int direction) => _mBase + Block(layer, direction) * _rows * _cs;

        public int Mask(int layer) => _maskBase + (layer - 1) * _rows * _kp1;
    }
}

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.Kernels;

// Training: a forward pass that records a tape, and backpropagation through time over it.
//
// The tape holds, per layer, the layer's input rows X_l (time-major, padded to InputStride; for layers
// above the first, the previous layer's output after dropout) and, per layer and direction, every state
// h_t (time-major, padded to PreStride), the initial state if one was given, and the dropout masks.
// Backward walks the layers top-down: per direction it runs the recurrence backwards (da_t = (dh_t from
// the output + from step t+1) * act'(h_t); dh_{t-1} = da_t · W_hh), then forms the weight gradients as
// whole-sequence products (dW_ih += DAᵀ X, dW_hh += DAᵀ H_prev, db += Σ DA) and the gradient at the layer
// input (dX = Σ_d DA_d · W_ih,d), which is the next layer down's output gradient after the dropout mask.
public static partial class RnnDriver
{
    /// <summary>
    /// <see cref="Forward"/> in training mode: the same results, plus the tape <see cref="Backward"/> needs,
    /// and dropout with probability <paramref name="dropout"/> (inverted scaling) on the input of every layer
    /// above the first.
    /// </summary>
    public static void ForwardTraining<TKernels>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        double dropout, DropoutGenerator generator)
        where TKernels : struct, IRnnKernels
    {
        ValidateForward(shape, input, seqLen, batch, output, hN, h0);
        Record(ref kernels, shape, workspace, parameterVersion, input, seqLen, batch, output, hN, h0, (float)dropout, generator);
    }

    /// <summary><see cref="CellForward"/> in training mode: the same result, plus the tape.</summary>
    public static void CellForwardTraining<TKernels>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext)
        where TKernels : struct, IRnnKernels
    {
        ValidateCell(shape, input, batch, hx, hNext);
        // The tape keeps its own copy of hx, so hx may be the same memory as hNext.
        Record(ref kernels, shape, workspace, parameterVersion, input, 1, batch, hNext, default, hx, 0f, null);
    }

    private static void Record<TKernels>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        float dropout, DropoutGenerator? generator)
        where TKernels : struct, IRnnKernels
    {
        int hidden = shape.HiddenSize, directions = shape.NumDirections, layers = shape.NumLayers, rows = seqLen * batch;
        int hp = kernels.PreStride;
        bool hasDropout = dropout > 0 && layers > 1 && generator is not null;
        var tape = new TapeLayout(shape, hp, kernels.InputStride(0), layers > 1 ? kernels.InputStride(1) : 0, seqLen, batch, hasDropout);
        RnnTape record = workspace.Tape;
        record.IsValid = false;
        ref float t0 = ref workspace.Get(WorkspaceSlot.Tape, tape.Length);
        ref float pre = ref workspace.Pre(Check.Product("workspace", directions, rows, hp));
        ref float zeros = ref workspace.Zeros(hidden);

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
                for (int d = 0; d < directions; d++)
                {
                    ReadOnlySpan<float> below = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.H(layer - 1, d)), rows * hp);
                    for (int r = 0; r < rows; r++)
                        below.Slice(r * hp, hidden).CopyTo(x.Slice(r * kp + d * hidden, hidden));
                }
                for (int r = 0; r < rows; r++)
                    x.Slice(r * kp + directions * hidden, kp - directions * hidden).Clear();
                if (hasDropout)
                {
                    // One mask row per input row, drawn over the real features only, so that a seed gives the
                    // same masks on every path whatever its padding.
                    Span<float> mask = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref t0, tape.Mask(layer)), rows * kp);
                    int width = directions * hidden;
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
                kernels.Project(layer, d, ref MemoryMarshal.GetReference(x), kp, rows, ref Unsafe.Add(ref pre, d * rows * hp));

            for (int d = 0; d < directions; d++)
            {
                int state = layer * directions + d;
                ref float hd = ref Unsafe.Add(ref t0, tape.H(layer, d));
                ref float first = ref zeros;
                nint firstStride = 0;
                if (!h0.IsEmpty)
                {
                    Span<float> saved = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref t0, tape.H0(layer, d)), batch * hp);
                    for (int b = 0; b < batch; b++)
                        CopyPadded(h0.Slice((state * batch + b) * hidden, hidden), saved.Slice(b * hp, hp));
                    first = ref MemoryMarshal.GetReference(saved);
                    firstStride = hp;
                }
                for (int s = 0; s < seqLen; s++)
                {
                    int t = d == 0 ? s : seqLen - 1 - s;
                    ref float preStep = ref Unsafe.Add(ref pre, (d * rows + t * batch) * hp);
                    ref float hOut = ref Unsafe.Add(ref hd, t * batch * hp);
                    if (s == 0)
                        kernels.Step(layer, d, ref first, firstStride, ref preStep, batch, ref hOut, hp);
                    else
                        kernels.Step(layer, d, ref Unsafe.Add(ref hd, (d == 0 ? t - 1 : t + 1) * batch * hp), hp, ref preStep, batch, ref hOut, hp);
                }
                if (!hN.IsEmpty)
                {
                    int last = d == 0 ? seqLen - 1 : 0;
                    for (int b = 0; b < batch; b++)
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref hd, (last * batch + b) * hp), hidden).CopyTo(hN.Slice((state * batch + b) * hidden, hidden));
                }
            }
        }

        // The output: the top layer's states in the caller's layout.
        int outWidth = shape.OutputSize;
        for (int d = 0; d < directions; d++)
        {
            ReadOnlySpan<float> top = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.H(layers - 1, d)), rows * hp);
            for (int t = 0; t < seqLen; t++)
                for (int b = 0; b < batch; b++)
                    top.Slice((t * batch + b) * hp, hidden).CopyTo(output.Slice(UserRow(shape, seqLen, batch, t, b) * outWidth + d * hidden, hidden));
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
    /// h0. Empty <paramref name="gradOutput"/> / <paramref name="gradHn"/> mean zeros; empty
    /// <paramref name="gradInput"/> / <paramref name="gradH0"/> mean "not needed" (that work is skipped).
    /// The tape is kept, so Backward may run again (like <c>retain_graph=True</c>).
    /// </summary>
    public static void Backward<TKernels, TActivation>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, ParameterSet gradients, long parameterVersion,
        ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0)
        where TKernels : struct, IRnnKernels
        where TActivation : struct, IActivation
    {
        RnnTape record = workspace.Tape;
        CheckTape(record, parameterVersion);
        int seqLen = record.SeqLen, batch = record.Batch;
        int hidden = shape.HiddenSize, directions = shape.NumDirections, layers = shape.NumLayers, rows = seqLen * batch;
        int stateLength = layers * directions * batch * hidden;
        string rowsText = shape.BatchFirst ? "batch·seqLen" : "seqLen·batch";
        if (gradOutput.Length != 0 && gradOutput.Length != rows * shape.OutputSize)
            Check.ThrowLength(nameof(gradOutput), gradOutput.Length, rows * shape.OutputSize, $"{rowsText} ({rows})·directions·hiddenSize of the recorded forward", optional: true);
        if (gradHn.Length != 0 && gradHn.Length != stateLength)
            Check.ThrowLength(nameof(gradHn), gradHn.Length, stateLength, $"numLayers·directions·batch·hiddenSize ({layers}·{directions}·{batch}·{hidden})", optional: true);
        if (gradInput.Length != 0 && gradInput.Length != rows * shape.InputSize)
            Check.ThrowLength(nameof(gradInput), gradInput.Length, rows * shape.InputSize, $"{rowsText} ({rows})·inputSize {shape.InputSize}", optional: true);
        if (gradH0.Length != 0 && gradH0.Length != stateLength)
            Check.ThrowLength(nameof(gradH0), gradH0.Length, stateLength, $"numLayers·directions·batch·hiddenSize ({layers}·{directions}·{batch}·{hidden})", optional: true);
        Check.NoOverlap(gradInput, nameof(gradInput), gradOutput, nameof(gradOutput));
        Check.NoOverlap(gradInput, nameof(gradInput), gradHn, nameof(gradHn));
        Check.NoOverlap(gradH0, nameof(gradH0), gradOutput, nameof(gradOutput));
        Check.NoOverlap(gradH0, nameof(gradH0), gradHn, nameof(gradHn));
        Check.NoOverlap(gradH0, nameof(gradH0), gradInput, nameof(gradInput));

        int hp = kernels.PreStride;
        var tape = new TapeLayout(shape, hp, kernels.InputStride(0), layers > 1 ? kernels.InputStride(1) : 0, seqLen, batch, record.HasDropout);
        ref float t0 = ref workspace.Get(WorkspaceSlot.Tape, tape.Length);
        Span<float> da = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradPre, directions * rows * hp), directions * rows * hp);
        Span<float> g = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradOutput, directions * rows * hp), directions * rows * hp);
        int widest = Math.Max(hp, tape.InputStride(0));
        if (layers > 1)
            widest = Math.Max(widest, tape.InputStride(1));
        Span<float> dx = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradInput, rows * widest), rows * widest);
        Span<float> dh = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradState, batch * hp), batch * hp);
        Span<float> dwScratch = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.GradWeight, hidden * widest), hidden * widest);
        ref float dw = ref MemoryMarshal.GetReference(dwScratch);

        // The top layer's output gradient, per direction, time-major and padded.
        for (int d = 0; d < directions; d++)
        {
            Span<float> gd = g.Slice(d * rows * hp, rows * hp);
            gd.Clear();
            if (!gradOutput.IsEmpty)
                for (int t = 0; t < seqLen; t++)
                    for (int b = 0; b < batch; b++)
                        gradOutput.Slice(UserRow(shape, seqLen, batch, t, b) * shape.OutputSize + d * hidden, hidden).CopyTo(gd.Slice((t * batch + b) * hp, hidden));
        }

        for (int layer = layers - 1; layer >= 0; layer--)
        {
            int kp = tape.InputStride(layer), cols = shape.LayerInputSize(layer);
            ref float x = ref Unsafe.Add(ref t0, tape.X(layer));

            // Back through time, per direction: da_t = (g_t + dh) * act'(h_t); dh = da_t · W_hh.
            for (int d = 0; d < directions; d++)
            {
                int state = layer * directions + d;
                dh.Clear();
                if (!gradHn.IsEmpty)
                    for (int b = 0; b < batch; b++)
                        gradHn.Slice((state * batch + b) * hidden, hidden).CopyTo(dh.Slice(b * hp, hidden));
                Span<float> dad = da.Slice(d * rows * hp, rows * hp);
                ReadOnlySpan<float> gd = g.Slice(d * rows * hp, rows * hp);
                ReadOnlySpan<float> hd = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.H(layer, d)), rows * hp);
                for (int s = seqLen - 1; s >= 0; s--)
                {
                    int t = d == 0 ? s : seqLen - 1 - s;
                    for (int b = 0; b < batch; b++)
                    {
                        int row = (t * batch + b) * hp;
                        for (int j = 0; j < hidden; j++)
                            dad[row + j] = (gd[row + j] + dh[b * hp + j]) * TActivation.DerivativeFromOutput(hd[row + j]);
                        dad.Slice(row + hidden, hp - hidden).Clear();
                    }
                    kernels.BackStep(layer, d, ref dad[t * batch * hp], batch, ref MemoryMarshal.GetReference(dh));
                }
                if (!gradH0.IsEmpty)
                    for (int b = 0; b < batch; b++)
                        dh.Slice(b * hp, hidden).CopyTo(gradH0.Slice((state * batch + b) * hidden, hidden));
            }

            // Weight and bias gradients over the whole sequence.
            for (int d = 0; d < directions; d++)
            {
                int block = shape.BlockIndex(layer, d);
                ref float dad = ref da[d * rows * hp];
                ref float hd = ref Unsafe.Add(ref t0, tape.H(layer, d));

                dwScratch.Slice(0, hidden * kp).Clear();
                kernels.WeightGrad(layer, d, false, ref dad, ref x, rows, ref dw);
                AddRows(gradients, block, hidden, cols, ref dw, kp);

                // W_hh pairs da_t with the state before step t: h_{t-1} forwards, h_{t+1} in reverse, h0 first.
                if (seqLen > 1 || record.HasH0)
                {
                    dwScratch.Slice(0, hidden * hp).Clear();
                    if (seqLen > 1)
                    {
                        int daStart = d == 0 ? batch : 0, hStart = d == 0 ? 0 : batch;
                        kernels.WeightGrad(layer, d, true, ref Unsafe.Add(ref dad, daStart * hp), ref Unsafe.Add(ref hd, hStart * hp), rows - batch, ref dw);
                    }
                    if (record.HasH0)
                    {
                        int firstStep = d == 0 ? 0 : seqLen - 1;
                        kernels.WeightGrad(layer, d, true, ref Unsafe.Add(ref dad, firstStep * batch * hp), ref Unsafe.Add(ref t0, tape.H0(layer, d)), batch, ref dw);
                    }
                    AddRows(gradients, block + 1, hidden, hidden, ref dw, hp);
                }

                if (shape.Bias)
                {
                    Span<float> bih = gradients.Data.AsSpan(gradients.OffsetOf(block + 2), hidden);
                    Span<float> bhh = gradients.Data.AsSpan(gradients.OffsetOf(block + 3), hidden);
                    ReadOnlySpan<float> all = da.Slice(d * rows * hp, rows * hp);
                    for (int r = 0; r < rows; r++)
                    {
                        ReadOnlySpan<float> row = all.Slice(r * hp, hidden);
                        for (int j = 0; j < hidden; j++)
                        {
                            bih[j] += row[j];
                            bhh[j] += row[j];
                        }
                    }
                }
            }

            // The gradient at the layer's input: dX = Σ_d DA_d · W_ih,d.
            if (layer == 0 && gradInput.IsEmpty)
                continue;
            dx.Slice(0, rows * kp).Clear();
            for (int d = 0; d < directions; d++)
                kernels.BackProject(layer, d, ref da[d * rows * hp], rows, ref MemoryMarshal.GetReference(dx));
            if (layer > 0)
            {
                ReadOnlySpan<float> mask = record.HasDropout
                    ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref t0, tape.Mask(layer)), rows * kp)
                    : default;
                for (int d = 0; d < directions; d++)
                {
                    Span<float> gd = g.Slice(d * rows * hp, rows * hp);
                    for (int r = 0; r < rows; r++)
                    {
                        for (int j = 0; j < hidden; j++)
                        {
                            int i = r * kp + d * hidden + j;
                            gd[r * hp + j] = mask.IsEmpty ? dx[i] : dx[i] * mask[i];
                        }
                        gd.Slice(r * hp + hidden, hp - hidden).Clear();
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
    public static void CellBackward<TKernels, TActivation>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, ParameterSet gradients, long parameterVersion,
        ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx)
        where TKernels : struct, IRnnKernels
        where TActivation : struct, IActivation
    {
        CheckTape(workspace.Tape, parameterVersion);
        int batch = workspace.Tape.Batch;
        if (gradHNext.Length != 0 && gradHNext.Length != batch * shape.HiddenSize)
            Check.ThrowLength(nameof(gradHNext), gradHNext.Length, batch * shape.HiddenSize, $"batch·hiddenSize ({batch}·{shape.HiddenSize}) of the recorded forward", optional: true);
        if (gradInput.Length != 0 && gradInput.Length != batch * shape.InputSize)
            Check.ThrowLength(nameof(gradInput), gradInput.Length, batch * shape.InputSize, $"batch·inputSize ({batch}·{shape.InputSize})", optional: true);
        if (gradHx.Length != 0 && gradHx.Length != batch * shape.HiddenSize)
            Check.ThrowLength(nameof(gradHx), gradHx.Length, batch * shape.HiddenSize, $"batch·hiddenSize ({batch}·{shape.HiddenSize})", optional: true);
        Backward<TKernels, TActivation>(ref kernels, shape, workspace, gradients, parameterVersion, gradHNext, default, gradInput, gradHx);
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

    /// <summary>Adds a padded scratch matrix (rows × stride) into a parameter's gradient (rows × cols).</summary>
    private static void AddRows(ParameterSet gradients, int index, int rows, int cols, ref float scratch, int stride)
    {
        Span<float> target = gradients.Data.AsSpan(gradients.OffsetOf(index), rows * cols);
        for (int j = 0; j < rows; j++)
        {
            ReadOnlySpan<float> source = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref scratch, j * stride), cols);
            Span<float> row = target.Slice(j * cols, cols);
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
        private readonly int _rows, _batch, _hp, _kp0, _kp1, _directions, _layers, _hBase, _h0Base, _maskBase;

        public TapeLayout(in RnnShape shape, int preStride, int inputStride0, int inputStride1, int seqLen, int batch, bool dropout)
        {
            _rows = seqLen * batch;
            _batch = batch;
            _hp = preStride;
            _kp0 = inputStride0;
            _kp1 = shape.NumLayers > 1 ? inputStride1 : 0;
            _directions = shape.NumDirections;
            _layers = shape.NumLayers;
            long x = (long)_rows * (_kp0 + (long)(_layers - 1) * _kp1);
            long h = (long)_layers * _directions * _rows * _hp;
            long h0 = (long)_layers * _directions * batch * _hp;
            long mask = dropout ? (long)_rows * (_layers - 1) * _kp1 : 0;
            long total = x + h + h0 + mask;
            if (total > Array.MaxLength)
                throw new ArgumentException($"The training tape would need {total} floats; use a shorter sequence or a smaller batch.", nameof(seqLen));
            _hBase = (int)x;
            _h0Base = (int)(x + h);
            _maskBase = (int)(x + h + h0);
            Length = (int)total;
        }

        public int Length { get; }

        public int InputStride(int layer) => layer == 0 ? _kp0 : _kp1;

        public int X(int layer) => layer == 0 ? 0 : _rows * (_kp0 + (layer - 1) * _kp1);

        public int H(int layer, int direction) => _hBase + (layer * _directions + direction) * _rows * _hp;

        public int H0(int layer, int direction) => _h0Base + (layer * _directions + direction) * _batch * _hp;

        public int Mask(int layer) => _maskBase + (layer - 1) * _rows * _kp1;
    }
}

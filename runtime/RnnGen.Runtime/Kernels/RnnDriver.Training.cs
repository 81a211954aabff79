using System;
using System.Runtime.InteropServices;

namespace RnnGen.__Internals;

// Training: a forward pass that records a tape, and backpropagation through time over it.
//
// The tape (RnnDriver.Tape.cs) holds, per layer, the layer's input rows X_l (time-major, padded to InputStride; for
// layers above the first, the previous layer's output after dropout) and, per layer and direction, every state h_t
// (time-major, padded to StateStride), the initial state, and for an LSTM every cell state c_t and every step's gate
// activations; then the dropout masks. Backward (its steps in RnnDriver.Backward.cs) walks the layers top-down: per
// direction it runs the recurrence backwards (the cell's backward step gives the gradient at the pre-activations;
// dh_{t-1} = da_t · W_hh), then forms the weight gradients as whole-sequence products (dW_ih += DAᵀ X,
// dW_hh += DAᵀ H_prev, db += Σ DA) and the gradient at the layer input (dX = Σ_d DA_d · W_ih,d), which is the
// next layer down's output gradient after the dropout mask.
public static partial class RnnDriver
{
    /// <summary>
    /// <see cref="Forward"/> in training mode: the same results, plus the tape <see cref="Backward"/> needs,
    /// and dropout with probability <paramref name="dropout"/> (inverted scaling) on the input of every layer
    /// above the first.
    /// The caller checks the arguments first, with <see cref="ValidateForward{TGates}"/>.
    /// </summary>
    public static void ForwardTraining<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        double dropout, DropoutGenerator generator, Span<float> cN = default, ReadOnlySpan<float> c0 = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        AssertValidForward<TGates>(shape, input, seqLen, batch, output, hN, h0, cN, c0);
        Record<TKernels, TGates>(ref kernels, shape, workspace, parameterVersion, input, seqLen, batch, output, hN, h0, cN, c0, (float)dropout, generator);
    }

    /// <summary><see cref="CellForward"/> in training mode: the same result, plus the tape. The caller checks the arguments first, with <see cref="ValidateCell{TGates}"/>.</summary>
    public static void CellForwardTraining<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, ReadOnlySpan<float> cx = default, Span<float> cNext = default)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        AssertValidCell<TGates>(shape, input, batch, hx, hNext, cx, cNext);
        // The tape keeps its own copies of hx and cx, so they may be the same memory as hNext and cNext.
        Record<TKernels, TGates>(ref kernels, shape, workspace, parameterVersion, input, 1, batch, hNext, default, hx, cNext, cx, 0f, null);
    }

    /// <summary>
    /// The training forward: the layers bottom-up, each as <see cref="Forward"/> runs it (the input projection of every
    /// step, then the recurrence per direction), with every record <see cref="Backward"/> needs kept in the tape.
    /// </summary>
    private static void Record<TKernels, TGates>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, long parameterVersion,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0,
        Span<float> cN, ReadOnlySpan<float> c0, float dropout, DropoutGenerator? generator)
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        int directions = shape.NumDirections, rows = seqLen * batch, ps = kernels.PreStride;
        bool hasDropout = dropout > 0 && shape.NumLayers > 1 && generator is not null;
        var tape = TrainingTape.In<TKernels, TGates>(workspace, ref kernels, shape, seqLen, batch, hasDropout);
        RnnTape record = workspace.Tape;
        record.IsValid = false;
        int preLength = Check.Product("workspace", directions, rows, ps);
        Span<float> pre = MemoryMarshal.CreateSpan(ref workspace.Pre(preLength), preLength);

        RecordInput(shape, tape, input);
        for (int layer = 0; layer < shape.NumLayers; layer++)
        {
            if (layer > 0)
                RecordLayerInput(shape, tape, layer, hasDropout ? generator : null, dropout);
            Span<float> x = tape.X(layer);
            for (int d = 0; d < directions; d++)
                kernels.Project(layer, d, ref x[0], tape.InputStride(layer), rows, ref pre[d * rows * ps]);
            for (int d = 0; d < directions; d++)
            {
                SaveInitialStates(shape, tape, layer, d, h0, c0);
                RecordRecurrence(ref kernels, tape, pre.Slice(d * rows * ps, rows * ps), layer, d);
                WriteFinalStates(shape, tape, layer, d, hN, cN);
            }
        }
        WriteOutput(shape, tape, output);

        record.SeqLen = seqLen;
        record.Batch = batch;
        record.HasH0 = !h0.IsEmpty;
        record.HasDropout = hasDropout;
        record.ParameterVersion = parameterVersion;
        record.IsValid = true;
    }

    /// <summary>X_0: the caller's input rows, time-major and padded.</summary>
    private static void RecordInput(in RnnShape shape, in TrainingTape tape, ReadOnlySpan<float> input)
    {
        int width = shape.InputSize, kp = tape.InputStride(0);
        Span<float> x = tape.X(0);
        for (int t = 0; t < tape.SeqLen; t++)
            for (int b = 0; b < tape.Batch; b++)
                CopyPadded(input.Slice(UserRow(shape, tape.SeqLen, tape.Batch, t, b) * width, width), x.Slice((t * tape.Batch + b) * kp, kp));
    }

    /// <summary>X_l above the first layer: the directions of the layer below side by side, then dropped out when <paramref name="generator"/> is given.</summary>
    private static void RecordLayerInput(in RnnShape shape, in TrainingTape tape, int layer, DropoutGenerator? generator, float dropout)
    {
        int rows = tape.Rows, kp = tape.InputStride(layer), hs = tape.StateStride, stateSize = shape.StateSize;
        int width = shape.NumDirections * stateSize;
        Span<float> x = tape.X(layer);
        for (int d = 0; d < shape.NumDirections; d++)
        {
            ReadOnlySpan<float> below = tape.H(layer - 1, d);
            for (int r = 0; r < rows; r++)
                below.Slice(r * hs, stateSize).CopyTo(x.Slice(r * kp + d * stateSize, stateSize));
        }
        for (int r = 0; r < rows; r++)
            x.Slice(r * kp + width, kp - width).Clear();
        if (generator is null)
            return;
        // One mask row per input row, drawn over the real features only, so that a seed gives the same masks on every
        // path whatever its padding.
        Span<float> mask = tape.Mask(layer);
        for (int r = 0; r < rows; r++)
        {
            Span<float> m = mask.Slice(r * kp, kp);
            generator.FillMask(m.Slice(0, width), dropout);
            m.Slice(width).Clear();
            Span<float> xr = x.Slice(r * kp, width);
            for (int i = 0; i < width; i++)
                xr[i] *= m[i];
        }
    }

    /// <summary>The tape's copies of a layer and direction's initial states: the caller's h0 and c0 (padded), or zeros.</summary>
    private static void SaveInitialStates(in RnnShape shape, in TrainingTape tape, int layer, int d, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        int state = layer * shape.NumDirections + d;
        StatesToRows(h0, state, tape.Batch, shape.StateSize, tape.H0(layer, d), tape.StateStride);
        if (tape.HasCells)
            StatesToRows(c0, state, tape.Batch, shape.HiddenSize, tape.C0(layer, d), tape.CellStride);
    }

    /// <summary>
    /// The recurrence of one layer and direction over the whole batch, from the pre-activations <paramref name="pre"/>
    /// (this direction's, consumed), with every step's h, c, gate activations and m kept in the tape.
    /// </summary>
    private static void RecordRecurrence<TKernels>(ref TKernels kernels, in TrainingTape tape, Span<float> pre, int layer, int d)
        where TKernels : struct, IRnnKernels
    {
        int seqLen = tape.SeqLen, batch = tape.Batch, ps = kernels.PreStride;
        for (int s = 0; s < seqLen; s++)
        {
            int t = TimeStep(d, s, seqLen);
            StridedRows h = tape.StateAt(layer, d, t), c = tape.CellAt(layer, d, t);
            StridedRows hPrev = s == 0 ? tape.InitialState(layer, d) : tape.StateAt(layer, d, PreviousTimeStep(d, t));
            StridedRows cPrev = s == 0 ? tape.InitialCell(layer, d) : tape.CellAt(layer, d, PreviousTimeStep(d, t));
            StridedRows gates = tape.GatesAt(layer, d, t);
            // A projecting LSTM's step writes m = o ⊙ tanh(c), which the tape keeps for the projection's weight
            // gradient; the projection then writes h.
            StridedRows stepOutput = tape.Projects ? tape.UnprojectedAt(layer, d, t) : h;
            kernels.Step(layer, d, hPrev, ref pre[t * batch * ps], batch, stepOutput, cPrev, c, ref gates.Start);
            if (tape.Projects)
                kernels.ProjectOutput(layer, d, ref stepOutput.Start, batch, ref h.Start, h.Stride);
        }
    }

    /// <summary>hN and cN of a layer and direction (where the caller wants them): its states after its last step.</summary>
    private static void WriteFinalStates(in RnnShape shape, in TrainingTape tape, int layer, int d, Span<float> hN, Span<float> cN)
    {
        int batch = tape.Batch, state = layer * shape.NumDirections + d;
        int last = TimeStep(d, tape.SeqLen - 1, tape.SeqLen);
        RowsToStates(tape.H(layer, d).Slice(last * batch * tape.StateStride), tape.StateStride, batch, shape.StateSize, hN, state);
        if (tape.HasCells)
            RowsToStates(tape.C(layer, d).Slice(last * batch * tape.CellStride), tape.CellStride, batch, shape.HiddenSize, cN, state);
    }

    /// <summary>The output: the top layer's states in the caller's layout.</summary>
    private static void WriteOutput(in RnnShape shape, in TrainingTape tape, Span<float> output)
    {
        int stateSize = shape.StateSize, outWidth = shape.OutputSize, hs = tape.StateStride;
        for (int d = 0; d < shape.NumDirections; d++)
        {
            ReadOnlySpan<float> top = tape.H(shape.NumLayers - 1, d);
            for (int t = 0; t < tape.SeqLen; t++)
                for (int b = 0; b < tape.Batch; b++)
                    top.Slice((t * tape.Batch + b) * hs, stateSize).CopyTo(output.Slice(UserRow(shape, tape.SeqLen, tape.Batch, t, b) * outWidth + d * stateSize, stateSize));
        }
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
        ValidateBackward(shape, record.SeqLen, record.Batch, gradOutput, gradHn, gradInput, gradH0, gradCn, gradC0);
        var pass = new BackwardPass<TKernels, TGates>(ref kernels, shape, workspace, record);

        pass.LoadOutputGradient(gradOutput);
        for (int layer = shape.NumLayers - 1; layer >= 0; layer--)
        {
            for (int d = 0; d < shape.NumDirections; d++)
            {
                pass.LoadFinalStateGradients(layer, d, gradHn, gradCn);
                pass.BackThroughTime(layer, d);
                pass.StoreInitialStateGradients(layer, d, gradH0, gradC0);
            }
            for (int d = 0; d < shape.NumDirections; d++)
                pass.AddParameterGradients(gradients, layer, d);
            if (layer > 0)
                pass.BackToLayerBelow(layer);
            else if (!gradInput.IsEmpty)
                pass.StoreInputGradient(gradInput);
        }
    }

    /// <summary>Checks a backward call's gradients against the recorded call; throws before anything is written.</summary>
    private static void ValidateBackward(in RnnShape shape, int seqLen, int batch, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn,
        Span<float> gradInput, Span<float> gradH0, ReadOnlySpan<float> gradCn, Span<float> gradC0)
    {
        int rows = seqLen * batch, states = shape.NumLayers * shape.NumDirections * batch;
        int stateLength = states * shape.StateSize, cellLength = states * shape.HiddenSize;
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

    private static void CopyPadded(ReadOnlySpan<float> source, Span<float> destination)
    {
        source.CopyTo(destination);
        destination.Slice(source.Length).Clear();
    }

    /// <summary>The row of (t, b) in the caller's layout: time-major, or batch-major when batch-first.</summary>
    private static int UserRow(in RnnShape shape, int seqLen, int batch, int t, int b) => shape.BatchFirst ? b * seqLen + t : t * batch + b;
}

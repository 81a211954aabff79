using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

public static partial class RnnDriver
{
    /// <summary>
    /// One <see cref="Backward"/> call's steps over the tape, with its scratch from the workspace. Gradients at
    /// the pre-activations (da), at a layer's output (the output gradient, g) and at a layer's input (dx) are kept per
    /// direction for the whole sequence, time-major, in rows of the kernels' strides; the gradients at the state
    /// (dh, dc) cover one time step's rows and are handed from step to step, and from the last step to the
    /// initial-state gradients.
    /// </summary>
    private readonly ref struct BackwardPass<TKernels, TGates>
        where TKernels : struct, IRnnKernels
        where TGates : struct, IGateMath
    {
        private readonly ref TKernels _kernels;
        private readonly RnnShape _shape;
        private readonly TrainingTape _tape;
        private readonly GateLayout _layout;
        private readonly int _ps;
        private readonly bool _hasH0, _hasDropout;

        /// <summary>The gradient at the hidden-side pre-activations, per direction.</summary>
        private readonly Span<float> _da;

        /// <summary>The input side's (a GRU's n gate differs: <see cref="IGateMath.SplitsGradients"/>); otherwise <see cref="_da"/> itself.</summary>
        private readonly Span<float> _daInput;

        /// <summary>A GRU's direct gradient at the previous state (z ⊙ dh), one step's rows.</summary>
        private readonly Span<float> _direct;

        /// <summary>The gradient at the current layer's output, per direction: from the caller at the top layer, then from the layer above.</summary>
        private readonly Span<float> _gradOutput;

        /// <summary>The gradient at the current layer's input (rows of its input stride).</summary>
        private readonly Span<float> _dx;

        /// <summary>The gradients at h and c of one step's rows, carried backwards through time.</summary>
        private readonly Span<float> _dh, _dc;

        /// <summary>A projecting LSTM's gradient at m = o ⊙ tanh(c) (one step's rows), and a row of zeros for its recurrent gradient, which the projection's backward already holds.</summary>
        private readonly Span<float> _dm;
        private readonly Span<float> _noRecurrent;

        /// <summary>One weight gradient in the kernels' layout before it is added to the module's, or the two bias sums.</summary>
        private readonly Span<float> _dw;

        public BackwardPass(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace, RnnTape record)
        {
            _kernels = ref kernels;
            _shape = shape;
            _tape = TrainingTape.In<TKernels, TGates>(workspace, ref kernels, shape, record.SeqLen, record.Batch, record.HasDropout);
            _layout = kernels.Layout;
            _ps = kernels.PreStride;
            _hasH0 = record.HasH0;
            _hasDropout = record.HasDropout;
            int directions = shape.NumDirections, rows = _tape.Rows, batch = _tape.Batch;
            int hs = _tape.StateStride, cs = _tape.CellStride, ps = _ps;
            Debug.Assert(_layout.RowLength == ps && _layout.Hidden == shape.HiddenSize && _layout.Gates == TGates.Gates, "pre-activation rows in the kernels' layout");
            _da = Scratch(workspace, WorkspaceSlot.GradPre, directions * rows * ps);
            _daInput = TGates.SplitsGradients ? Scratch(workspace, WorkspaceSlot.GradPreInput, directions * rows * ps) : _da;
            _direct = TGates.SplitsGradients ? Scratch(workspace, WorkspaceSlot.GradDirect, batch * hs) : default;
            _gradOutput = Scratch(workspace, WorkspaceSlot.GradOutput, directions * rows * hs);
            int widest = Math.Max(Math.Max(hs, cs), _tape.InputStride(0));
            if (shape.NumLayers > 1)
                widest = Math.Max(widest, _tape.InputStride(1));
            _dx = Scratch(workspace, WorkspaceSlot.GradInput, rows * widest);
            _dh = Scratch(workspace, WorkspaceSlot.GradState, batch * hs);
            _dc = TGates.HasCell ? Scratch(workspace, WorkspaceSlot.GradCell, batch * cs) : default;
            _dm = _tape.Projects ? Scratch(workspace, WorkspaceSlot.Unprojected, batch * cs) : default;
            _noRecurrent = _tape.Projects ? MemoryMarshal.CreateSpan(ref workspace.Zeros(shape.HiddenSize), shape.HiddenSize) : default;
            // Room for the widest weight gradient, and for the two bias sums (2·ps) when every stride is 1.
            _dw = Scratch(workspace, WorkspaceSlot.GradWeight, ps * Math.Max(widest, 2));
        }

        /// <summary>The top layer's output gradient, per direction, time-major and padded: the caller's (empty: zeros).</summary>
        public void LoadOutputGradient(ReadOnlySpan<float> gradOutput)
        {
            int seqLen = _tape.SeqLen, batch = _tape.Batch, hs = _tape.StateStride, stateSize = _shape.StateSize;
            for (int d = 0; d < _shape.NumDirections; d++)
            {
                Span<float> g = GradOutputOf(d);
                g.Clear();
                if (gradOutput.IsEmpty)
                    continue;
                for (int t = 0; t < seqLen; t++)
                    for (int b = 0; b < batch; b++)
                        gradOutput.Slice(UserRow(_shape, seqLen, batch, t, b) * _shape.OutputSize + d * stateSize, stateSize).CopyTo(g.Slice((t * batch + b) * hs, stateSize));
            }
        }

        /// <summary>dh (and dc) before the last step of a layer and direction: the caller's gradients at hN and cN (empty: zeros).</summary>
        public void LoadFinalStateGradients(int layer, int d, ReadOnlySpan<float> gradHn, ReadOnlySpan<float> gradCn)
        {
            int state = StateIndex(layer, d);
            StatesToRows(gradHn, state, _tape.Batch, _shape.StateSize, _dh, _tape.StateStride);
            if (TGates.HasCell)
                StatesToRows(gradCn, state, _tape.Batch, _shape.HiddenSize, _dc, _tape.CellStride);
        }

        /// <summary>
        /// Back through time for one layer and direction, from its last step to its first: per step, the projection's
        /// backward (with a projection), the cell's backward step per row, then dh = da · W_hh (plus a GRU's direct part)
        /// for the step before. Leaves this direction's da (and the input side's) for the weight and input gradients, and
        /// dh, dc at the initial state.
        /// </summary>
        public void BackThroughTime(int layer, int d)
        {
            int seqLen = _tape.SeqLen, batch = _tape.Batch;
            Span<float> da = DirectionRows(_da, d);
            da.Clear(); // padding stays zero
            if (TGates.SplitsGradients)
                DirectionRows(_daInput, d).Clear();
            for (int s = seqLen - 1; s >= 0; s--)
            {
                int t = TimeStep(d, s, seqLen);
                if (_tape.Projects)
                    BackThroughProjection(layer, d, t);
                BackThroughCells(layer, d, s, t);
                _kernels.BackStep(layer, d, ref da[t * batch * _ps], batch, ref _dh[0]);
                if (TGates.SplitsGradients)
                    AddDirectGradient();
            }
        }

        /// <summary>
        /// A projecting LSTM at time step t: the whole gradient at h_t (from the output plus the recurrence) stays in the
        /// output gradient for dW_hr, and dm = dh · W_hr is where the cell's backward step starts.
        /// </summary>
        private void BackThroughProjection(int layer, int d, int t)
        {
            int batch = _tape.Batch, hs = _tape.StateStride, stateSize = _shape.StateSize;
            Span<float> gradH = GradOutputOf(d).Slice(t * batch * hs, batch * hs);
            for (int b = 0; b < batch; b++)
            {
                Span<float> total = gradH.Slice(b * hs, stateSize);
                ReadOnlySpan<float> recurrent = _dh.Slice(b * hs, stateSize);
                for (int u = 0; u < stateSize; u++)
                    total[u] += recurrent[u];
            }
            _kernels.BackProjectOutput(layer, d, ref gradH[0], batch, ref _dm[0]);
        }

        /// <summary>The cell's backward step for each row of time step t (step s of this direction): da (and the input side's), and dc before the step.</summary>
        private void BackThroughCells(int layer, int d, int s, int t)
        {
            int batch = _tape.Batch, hidden = _shape.HiddenSize, hs = _tape.StateStride, cs = _tape.CellStride, ps = _ps, tr = _tape.GatesStride;
            int previous = PreviousTimeStep(d, t);
            // The gradient at h: from the output and from the step after, or for a projecting LSTM all of it in dm (its
            // backward step reads neither h nor hPrev, whose rows hold projSize features).
            StridedRows gradH = _tape.Projects ? new StridedRows(ref _dm[0], cs) : StridedRows.Of(GradOutputOf(d), t * batch, hs);
            StridedRows gradRecurrent = _tape.Projects ? new StridedRows(ref _noRecurrent[0], 0) : new StridedRows(ref _dh[0], hs);
            StridedRows h = default, hPrev = default;
            if (!_tape.Projects)
            {
                h = _tape.StateAt(layer, d, t);
                hPrev = s == 0 ? _tape.InitialState(layer, d) : _tape.StateAt(layer, d, previous);
            }
            StridedRows gradCell = TGates.HasCell ? new StridedRows(ref _dc[0], cs) : default;
            StridedRows c = _tape.CellAt(layer, d, t);
            StridedRows cPrev = s == 0 ? _tape.InitialCell(layer, d) : _tape.CellAt(layer, d, previous);
            StridedRows gates = _tape.GatesAt(layer, d, t);
            StridedRows da = StridedRows.Of(DirectionRows(_da, d), t * batch, ps);
            StridedRows daInput = StridedRows.Of(DirectionRows(_daInput, d), t * batch, ps);
            StridedRows direct = TGates.SplitsGradients ? new StridedRows(ref _direct[0], hs) : default;
            for (int b = 0; b < batch; b++)
            {
                TGates.Backward(_layout, gradH.Row(b, hidden), gradRecurrent.Row(b, hidden), gradCell.Row(b, hidden), gates.Row(b, tr),
                    h.Row(b, hidden), hPrev.Row(b, hidden), c.Row(b, hidden), cPrev.Row(b, hidden), da.Row(b, ps), daInput.Row(b, ps), direct.Row(b, hidden));
            }
        }

        /// <summary>A GRU's h' depends on h directly (z ⊙ h): dh += the direct gradient the backward step wrote.</summary>
        private void AddDirectGradient()
        {
            int hs = _tape.StateStride;
            for (int b = 0; b < _tape.Batch; b++)
                for (int u = 0; u < _shape.HiddenSize; u++)
                    _dh[b * hs + u] += _direct[b * hs + u];
        }

        /// <summary>The gradients at h0 and c0 of a layer and direction (where the caller wants them): dh and dc after its first step.</summary>
        public void StoreInitialStateGradients(int layer, int d, Span<float> gradH0, Span<float> gradC0)
        {
            int state = StateIndex(layer, d);
            RowsToStates(_dh, _tape.StateStride, _tape.Batch, _shape.StateSize, gradH0, state);
            if (TGates.HasCell)
                RowsToStates(_dc, _tape.CellStride, _tape.Batch, _shape.HiddenSize, gradC0, state);
        }

        /// <summary>Adds a layer and direction's weight and bias gradients over the whole sequence to <paramref name="gradients"/>.</summary>
        public void AddParameterGradients(ParameterSet gradients, int layer, int d)
        {
            AddInputWeightGradient(gradients, layer, d);
            AddRecurrentWeightGradient(gradients, layer, d);
            if (_tape.Projects)
                AddProjectionWeightGradient(gradients, layer, d);
            if (_shape.Bias)
                AddBiasGradients(gradients, layer, d);
        }

        /// <summary>dW_ih += DAᵀ X, with the input side's DA.</summary>
        private void AddInputWeightGradient(ParameterSet gradients, int layer, int d)
        {
            int kp = _tape.InputStride(layer);
            _dw.Slice(0, _ps * kp).Clear();
            WeightGradInChunks(ref _kernels, layer, false, ref DirectionRows(_daInput, d)[0], _ps, ref _tape.X(layer)[0], kp, _tape.Rows, ref _dw[0]);
            AddRows(gradients, _shape.WeightIhIndex(layer, d), _layout, _shape.LayerInputSize(layer), _dw, kp);
        }

        /// <summary>dW_hh += DAᵀ H_prev: da_t pairs with the state before step t, h_{t-1} forwards, h_{t+1} in reverse, h0 first.</summary>
        private void AddRecurrentWeightGradient(ParameterSet gradients, int layer, int d)
        {
            int seqLen = _tape.SeqLen, batch = _tape.Batch, hs = _tape.StateStride, ps = _ps;
            Span<float> da = DirectionRows(_da, d), h = _tape.H(layer, d);
            _dw.Slice(0, ps * hs).Clear();
            if (seqLen > 1)
            {
                // Every step but the direction's first against the state its previous step wrote: time-major, forwards
                // the da rows of t ≥ 1 meet the h rows of t ≤ seqLen − 2; in reverse, the da rows of t ≤ seqLen − 2 those of t ≥ 1.
                int daStart = d == 0 ? batch : 0, hStart = d == 0 ? 0 : batch;
                WeightGradInChunks(ref _kernels, layer, true, ref da[daStart * ps], ps, ref h[hStart * hs], hs, _tape.Rows - batch, ref _dw[0]);
            }
            if (_hasH0)
            {
                // The direction's first step against h0 (with a default h0 of zeros it adds nothing).
                int firstStep = TimeStep(d, 0, seqLen);
                _kernels.WeightGrad(layer, true, ref da[firstStep * batch * ps], ref _tape.H0(layer, d)[0], batch, ref _dw[0]);
            }
            AddRows(gradients, _shape.WeightHhIndex(layer, d), _layout, _shape.StateSize, _dw, hs);
        }

        /// <summary>dW_hr += Σ_t dh_tᵀ m_t, with the output gradient holding the whole gradient at every h_t.</summary>
        private void AddProjectionWeightGradient(ParameterSet gradients, int layer, int d)
        {
            int stateSize = _shape.StateSize, cs = _tape.CellStride;
            _dw.Slice(0, stateSize * cs).Clear();
            _kernels.ProjectionWeightGrad(ref GradOutputOf(d)[0], ref _tape.M(layer, d)[0], _tape.Rows, ref _dw[0]);
            AddRows(gradients, _shape.WeightHrIndex(layer, d), new GateLayout(stateSize, stateSize, stateSize, 1), _shape.HiddenSize, _dw, cs);
        }

        /// <summary>db_hh += Σ_r da[r] and db_ih += Σ_r da_input[r], summed row by row (sequential reads), then moved to PyTorch's row order.</summary>
        private void AddBiasGradients(ParameterSet gradients, int layer, int d)
        {
            int ps = _ps, biasLength = _layout.Gates * _shape.HiddenSize;
            Span<float> sums = _dw.Slice(0, 2 * ps);
            sums.Clear();
            SumRows(DirectionRows(_da, d), ps, sums.Slice(0, ps));
            SumRows(DirectionRows(_daInput, d), ps, sums.Slice(ps, ps));
            Span<float> bih = gradients.Data.AsSpan(gradients.OffsetOf(_shape.BiasIhIndex(layer, d)), biasLength);
            Span<float> bhh = gradients.Data.AsSpan(gradients.OffsetOf(_shape.BiasHhIndex(layer, d)), biasLength);
            for (int q = 0; q < ps; q++)
            {
                int torchRow = _layout.TorchRow(q);
                if (torchRow < 0)
                    continue;
                bhh[torchRow] += sums[q];
                bih[torchRow] += sums[ps + q];
            }
        }

        /// <summary>
        /// The output gradient of the layer below: this layer's input gradient, each direction's features in its own rows
        /// (padded), times the dropout mask where the forward dropped out.
        /// </summary>
        public void BackToLayerBelow(int layer)
        {
            Debug.Assert(layer >= 1);
            int rows = _tape.Rows, kp = _tape.InputStride(layer), hs = _tape.StateStride, stateSize = _shape.StateSize;
            ReadOnlySpan<float> dx = InputGradient(layer);
            ReadOnlySpan<float> mask = _hasDropout ? _tape.Mask(layer) : default;
            for (int d = 0; d < _shape.NumDirections; d++)
            {
                Span<float> g = GradOutputOf(d);
                for (int r = 0; r < rows; r++)
                {
                    for (int j = 0; j < stateSize; j++)
                    {
                        int i = r * kp + d * stateSize + j;
                        g[r * hs + j] = mask.IsEmpty ? dx[i] : dx[i] * mask[i];
                    }
                    g.Slice(r * hs + stateSize, hs - stateSize).Clear();
                }
            }
        }

        /// <summary>The caller's input gradient: the first layer's, in the caller's layout.</summary>
        public void StoreInputGradient(Span<float> gradInput)
        {
            int seqLen = _tape.SeqLen, batch = _tape.Batch, kp = _tape.InputStride(0), width = _shape.InputSize;
            ReadOnlySpan<float> dx = InputGradient(0);
            for (int t = 0; t < seqLen; t++)
                for (int b = 0; b < batch; b++)
                    dx.Slice((t * batch + b) * kp, width).CopyTo(gradInput.Slice(UserRow(_shape, seqLen, batch, t, b) * width, width));
        }

        /// <summary>The gradient at a layer's input, dX = Σ_d DA_d · W_ih,d, with the input side's DA; rows of the layer's input stride.</summary>
        private Span<float> InputGradient(int layer)
        {
            Span<float> dx = _dx.Slice(0, _tape.Rows * _tape.InputStride(layer));
            dx.Clear();
            for (int d = 0; d < _shape.NumDirections; d++)
                _kernels.BackProject(layer, d, ref DirectionRows(_daInput, d)[0], _tape.Rows, ref dx[0]);
            return dx;
        }

        /// <summary>Direction <paramref name="d"/>'s part of a per-direction gradient at the pre-activations.</summary>
        private Span<float> DirectionRows(Span<float> perDirection, int d) => perDirection.Slice(d * _tape.Rows * _ps, _tape.Rows * _ps);

        /// <summary>Direction <paramref name="d"/>'s part of the output gradient.</summary>
        private Span<float> GradOutputOf(int d) => _gradOutput.Slice(d * _tape.Rows * _tape.StateStride, _tape.Rows * _tape.StateStride);

        private int StateIndex(int layer, int d) => layer * _shape.NumDirections + d;

        private static Span<float> Scratch(RnnWorkspace workspace, WorkspaceSlot slot, int length) =>
            MemoryMarshal.CreateSpan(ref workspace.Get(slot, length), length);
    }

    /// <summary>
    /// A weight gradient over many rows, in chunks: each chunk's rows of da and x stay in cache while every
    /// column tile of dw passes over them (a single pass would stream all of da and x once per tile).
    /// </summary>
    private static void WeightGradInChunks<TKernels>(ref TKernels kernels, int layer, bool recurrent, ref float da, int daStride, ref float x, int xStride, int rows, ref float dw)
        where TKernels : struct, IRnnKernels
    {
        Debug.Assert(rows >= 0 && daStride >= 0 && xStride >= 0);
        const int Chunk = 64;
        for (int r = 0; r < rows; r += Chunk)
            kernels.WeightGrad(layer, recurrent, ref Unsafe.Add(ref da, (nint)r * daStride), ref Unsafe.Add(ref x, (nint)r * xStride), Math.Min(Chunk, rows - r), ref dw);
    }

    /// <summary>sums += Σ_r rows[r], over rows of <paramref name="width"/> floats.</summary>
    private static void SumRows(ReadOnlySpan<float> rows, int width, Span<float> sums)
    {
        Debug.Assert(width >= 1 && rows.Length % width == 0 && sums.Length >= width);
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
}

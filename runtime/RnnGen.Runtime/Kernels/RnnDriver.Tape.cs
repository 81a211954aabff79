using System;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RnnGen.__Internals;

public static partial class RnnDriver
{
    /// <summary>
    /// The training tape of one call (its seqLen and batch) in the workspace, record by record: per layer its input rows
    /// X (time-major, padded to the kernels' input stride), per layer and direction every state h_t and the initial
    /// state (rows <see cref="StateStride"/> apart), for an LSTM every cell state c_t and the initial one
    /// (<see cref="CellStride"/>), the gate activations of every step (<see cref="GatesStride"/>), for a projecting
    /// LSTM every m_t = o ⊙ tanh(c_t) before the projection; then the dropout masks of the layers above the first.
    /// </summary>
    private readonly ref struct TrainingTape
    {
        private readonly Span<float> _buffer;
        private readonly int _kp0, _kp1, _directions, _hBase, _h0Base, _cBase, _c0Base, _gatesBase, _mBase, _maskBase;

        private TrainingTape(in RnnShape shape, int stateStride, int cellStride, int gatesStride, int inputStride0, int inputStride1,
            int seqLen, int batch, bool cells, bool dropout, RnnWorkspace workspace)
        {
            SeqLen = seqLen;
            Batch = batch;
            Rows = seqLen * batch;
            StateStride = stateStride;
            CellStride = cellStride;
            GatesStride = gatesStride;
            HasCells = cells;
            Projects = shape.ProjSize > 0;
            _kp0 = inputStride0;
            _kp1 = shape.NumLayers > 1 ? inputStride1 : 0;
            _directions = shape.NumDirections;
            long blocks = (long)shape.NumLayers * _directions;
            long x = (long)Rows * (_kp0 + (long)(shape.NumLayers - 1) * _kp1);
            long h = blocks * Rows * StateStride, h0 = blocks * batch * StateStride;
            long c = cells ? blocks * Rows * CellStride : 0, c0 = cells ? blocks * batch * CellStride : 0;
            long g = blocks * Rows * GatesStride;
            long m = Projects ? blocks * Rows * CellStride : 0;
            long mask = dropout ? (long)Rows * (shape.NumLayers - 1) * _kp1 : 0;
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
            _buffer = MemoryMarshal.CreateSpan(ref workspace.Get(WorkspaceSlot.Tape, (int)total), (int)total);
        }

        /// <summary>
        /// The tape for a call of <paramref name="seqLen"/> × <paramref name="batch"/> rows, laid out for
        /// <paramref name="kernels"/>' strides and <typeparamref name="TGates"/>' records, in <paramref name="workspace"/>'s tape
        /// buffer (grown to fit; its contents are whatever the last training forward left there).
        /// </summary>
        public static TrainingTape In<TKernels, TGates>(RnnWorkspace workspace, ref TKernels kernels, in RnnShape shape, int seqLen, int batch, bool dropout)
            where TKernels : struct, IRnnKernels
            where TGates : struct, IGateMath
        {
            Debug.Assert(seqLen >= 1 && batch >= 1);
            int inputStride1 = shape.NumLayers > 1 ? kernels.InputStride(1) : 0;
            Debug.Assert(kernels.StateStride >= shape.StateSize && kernels.CellStride >= shape.HiddenSize, "padded rows hold the states");
            Debug.Assert(kernels.InputStride(0) >= shape.InputSize && (shape.NumLayers == 1 || inputStride1 >= shape.OutputSize), "padded rows hold the inputs");
            return new TrainingTape(shape, kernels.StateStride, kernels.CellStride, TGates.TapeSlots * kernels.CellStride, kernels.InputStride(0), inputStride1,
                seqLen, batch, TGates.HasCell, dropout, workspace);
        }

        public int SeqLen { get; }

        public int Batch { get; }

        /// <summary>Rows per record of the whole sequence: seqLen · batch, time-major.</summary>
        public int Rows { get; }

        /// <summary>Floats per row of h.</summary>
        public int StateStride { get; }

        /// <summary>Floats per row of c and of m.</summary>
        public int CellStride { get; }

        /// <summary>Floats per row of gate activations (0 when the cell records none).</summary>
        public int GatesStride { get; }

        /// <summary>Whether the tape holds cell states (an LSTM).</summary>
        public bool HasCells { get; }

        /// <summary>Whether the tape holds m, the unprojected output (an LSTM with a projection).</summary>
        public bool Projects { get; }

        /// <summary>Floats per row of <paramref name="layer"/>'s input.</summary>
        public int InputStride(int layer) => layer == 0 ? _kp0 : _kp1;

        /// <summary>X of <paramref name="layer"/>: every input row of the sequence.</summary>
        public Span<float> X(int layer) => _buffer.Slice(layer == 0 ? 0 : Rows * (_kp0 + (layer - 1) * _kp1), Rows * InputStride(layer));

        /// <summary>Every h_t of a layer and direction.</summary>
        public Span<float> H(int layer, int direction) => _buffer.Slice(_hBase + Block(layer, direction) * Rows * StateStride, Rows * StateStride);

        /// <summary>The initial state of a layer and direction (zeros unless the call gave one).</summary>
        public Span<float> H0(int layer, int direction) => _buffer.Slice(_h0Base + Block(layer, direction) * Batch * StateStride, Batch * StateStride);

        /// <summary>Every c_t of a layer and direction (empty without cell states).</summary>
        public Span<float> C(int layer, int direction) => HasCells ? _buffer.Slice(_cBase + Block(layer, direction) * Rows * CellStride, Rows * CellStride) : default;

        /// <summary>The initial cell state of a layer and direction (empty without cell states).</summary>
        public Span<float> C0(int layer, int direction) => HasCells ? _buffer.Slice(_c0Base + Block(layer, direction) * Batch * CellStride, Batch * CellStride) : default;

        /// <summary>The gate activations of every step of a layer and direction (empty when the cell records none).</summary>
        public Span<float> Gates(int layer, int direction) => _buffer.Slice(_gatesBase + Block(layer, direction) * Rows * GatesStride, Rows * GatesStride);

        /// <summary>A projecting LSTM's m = o ⊙ tanh(c) of every step, before the projection (empty without a projection).</summary>
        public Span<float> M(int layer, int direction) => Projects ? _buffer.Slice(_mBase + Block(layer, direction) * Rows * CellStride, Rows * CellStride) : default;

        /// <summary>The dropout mask of <paramref name="layer"/>'s input (above the first layer, when the call dropped out).</summary>
        public Span<float> Mask(int layer)
        {
            Debug.Assert(layer >= 1);
            return _buffer.Slice(_maskBase + (layer - 1) * Rows * _kp1, Rows * _kp1);
        }

        // The rows of one time step (batch of them) in each record, as the kernels take them.

        /// <summary>h of the rows of time step <paramref name="t"/>.</summary>
        public StridedRows StateAt(int layer, int direction, int t) => StridedRows.Of(H(layer, direction), t * Batch, StateStride);

        /// <summary>The rows' initial state.</summary>
        public StridedRows InitialState(int layer, int direction) => StridedRows.Of(H0(layer, direction), 0, StateStride);

        /// <summary>c of the rows of time step <paramref name="t"/>; none without cell states.</summary>
        public StridedRows CellAt(int layer, int direction, int t) => HasCells ? StridedRows.Of(C(layer, direction), t * Batch, CellStride) : default;

        /// <summary>The rows' initial cell state; none without cell states.</summary>
        public StridedRows InitialCell(int layer, int direction) => HasCells ? StridedRows.Of(C0(layer, direction), 0, CellStride) : default;

        /// <summary>The gate activations of the rows of time step <paramref name="t"/>; none when the cell records none.</summary>
        public StridedRows GatesAt(int layer, int direction, int t) => GatesStride > 0 ? StridedRows.Of(Gates(layer, direction), t * Batch, GatesStride) : default;

        /// <summary>m of the rows of time step <paramref name="t"/>; none without a projection.</summary>
        public StridedRows UnprojectedAt(int layer, int direction, int t) => Projects ? StridedRows.Of(M(layer, direction), t * Batch, CellStride) : default;

        private int Block(int layer, int direction)
        {
            Debug.Assert(layer >= 0 && direction >= 0 && direction < _directions);
            return layer * _directions + direction;
        }
    }

    /// <summary>
    /// Block <paramref name="block"/> (layer·D + direction) of a caller's (layers·D, batch, width) states into
    /// <paramref name="batch"/> rows <paramref name="stride"/> floats apart, their padding zeroed; empty states give zeros.
    /// </summary>
    private static void StatesToRows(ReadOnlySpan<float> states, int block, int batch, int width, Span<float> rows, int stride)
    {
        rows.Clear();
        if (states.IsEmpty)
            return;
        for (int b = 0; b < batch; b++)
            states.Slice((block * batch + b) * width, width).CopyTo(rows.Slice(b * stride, width));
    }

    /// <summary>The reverse of <see cref="StatesToRows"/>: rows into block <paramref name="block"/> of the caller's states; empty states (not wanted) are left alone.</summary>
    private static void RowsToStates(ReadOnlySpan<float> rows, int stride, int batch, int width, Span<float> states, int block)
    {
        if (states.IsEmpty)
            return;
        for (int b = 0; b < batch; b++)
            rows.Slice(b * stride, width).CopyTo(states.Slice((block * batch + b) * width, width));
    }
}

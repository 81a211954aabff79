using System.ComponentModel;

namespace RnnGen.__Internals;

/// <summary>
/// The operations a recurrent layer is made of, as a generated struct (or the generic kernels) implements
/// them for one shape and one cell kind (<see cref="IGateMath"/>). <see cref="RnnDriver"/> calls them through a
/// generic struct parameter, so the JIT binds each call directly to the shape's code.
/// </summary>
/// <remarks>
/// Rows are addressed as a first element plus a row stride in floats (a stride of 0 repeats one row; in
/// <see cref="Step"/>, a <see cref="StridedRows"/>), so the driver reads and writes PyTorch's layouts in place.
/// Pre-activations, gate activations and their gradients are rows of <see cref="PreStride"/> floats; gate activations
/// and their gradients are in the kernels' <see cref="Layout"/>, and so are pre-activations, but where a narrow last tile
/// of units is packed at its own width (the generator's <c>PathPlan.NarrowLastTile</c>): that tile's pre-activations,
/// which only <see cref="Project"/> writes and only <see cref="Step"/> reads, have their gates half a vector apart. States
/// are rows of <see cref="StateStride"/> floats when the driver owns them.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IRnnKernels
{
    /// <summary>Floats per row of h the driver keeps (the state size, padded to the kernel's vectors).</summary>
    int StateStride { get; }

    /// <summary>
    /// Floats per row of c and of the unprojected LSTM output m = o ⊙ tanh(c) (the hidden size, padded); equal to
    /// <see cref="StateStride"/> unless the module projects.
    /// </summary>
    int CellStride { get; }

    /// <summary>Floats per pre-activation row: every gate of every padded unit.</summary>
    int PreStride { get; }

    /// <summary>Where each gate of each unit sits in a row of gate activations or their gradients (and of pre-activations, but in a narrow last tile: see the remarks above).</summary>
    GateLayout Layout { get; }

    /// <summary>Floats per row of <paramref name="layer"/>'s input as the training tape and the backward pass store it.</summary>
    int InputStride(int layer);

    /// <summary>
    /// The input projection, which has no time dependency: for r &lt; rows,
    /// <c>pre[r] = x[r] · W_ih(layer, direction)ᵀ + bias</c>, with row r of x at <c>r · xStride</c>.
    /// <paramref name="tilesBackward"/>: see <see cref="Step"/>.
    /// </summary>
    void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre, bool tilesBackward = false);

    /// <summary>
    /// One recurrent step for <paramref name="rows"/> rows: the gates <c>pre + hPrev · W_hhᵀ</c>, then the cell's
    /// update, writing exactly hidden-size floats of h per row (of m = o ⊙ tanh(c) for a projecting LSTM, which
    /// <see cref="ProjectOutput"/> then turns into h). An Elman cell: <c>h = act(gates)</c>. An LSTM:
    /// <c>c = f ⊙ cPrev + i ⊙ g</c> (c may be the same memory as cPrev), <c>h = o ⊙ tanh(c)</c>, and, unless
    /// <paramref name="gates"/> is a null reference, the gate activations in <see cref="Layout"/>; cells without a
    /// cell state get <c>default</c> for <paramref name="cPrev"/> and <paramref name="c"/>. Read rows may repeat
    /// (stride 0: the zeros of a default state); written rows must not overlap, and <paramref name="h"/> must not
    /// overlap <paramref name="hPrev"/>. <paramref name="pre"/> (rows <see cref="PreStride"/> apart) is this step's own
    /// and is consumed: a kernel may use its rows as scratch (the generated gated steps park accumulators there).
    /// With <paramref name="tilesBackward"/>, one row (rows = 1) may walk its tiles of units last to first: the units
    /// are independent, so the bits are the same in either order. The batch-of-one paths alternate it step by step,
    /// across calls too (<see cref="RnnWorkspace.AlternateTiles"/>), so that a step whose weights about fill L2 reads
    /// first what the step before it read last (still cached): the generated LSTM and GRU steps and the projection take
    /// it; other kernels may ignore it.
    /// </summary>
    void Step(int layer, int direction, StridedRows hPrev, ref float pre, int rows, StridedRows h, StridedRows cPrev, StridedRows c, ref float gates, bool tilesBackward = false);

    /// <summary>
    /// Whether a one-row <see cref="Step"/> reads all of hPrev before it writes any of h, so that for one row h may be
    /// hPrev's own memory (a cell's per-sample call with hx = hNext then needs no scratch copy): true where one kernel
    /// call computes the whole row and stores h last. A struct implementing this interface should declare this member:
    /// the default body, called on a struct, boxes it (allocates).
    /// </summary>
    bool OneRowStepInPlace => false;

    /// <summary>
    /// The whole recurrence of one row (batch 1) for one layer and direction in one call, where the kernels have such
    /// a block kernel for this shape (state held in registers across steps); returns false, having done nothing,
    /// where they do not, and the driver then calls <see cref="Step"/> per time step. Step s (0 ≤ s &lt; seqLen) reads
    /// its pre-activations at <c>pre + s · preStepStride</c> (consumed) and writes hidden-size floats of h at
    /// <c>h + s · hStepStride</c> (strides may be negative: the reverse direction walks backwards); step 0 reads
    /// <paramref name="hPrev"/>, which may be step 0's h itself (every read of a lane precedes its store), step s &gt; 0
    /// the h written by step s − 1. An LSTM's cell state is read from and written back to <paramref name="c"/>
    /// (hidden-size floats, nothing past them); a GRU ignores it. Not for a projecting LSTM.
    /// Every step must compute what <see cref="Step"/> computes for one row, bit for bit, so that results do not depend
    /// on how a sequence is cut into calls or on which of the two runs it. A struct implementing this interface should
    /// declare this member even to return false: the default body, called on a struct, boxes it (allocates).
    /// </summary>
    bool TryRunRow(int layer, int direction, ref float pre, nint preStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c) => false;

    /// <summary>
    /// As <see cref="TryRunRow"/>, with the input projection inside the block kernel: step s reads the layer's input
    /// row at <c>x + s · xStepStride</c> instead of pre-activations that <see cref="Project"/> wrote, and computes from
    /// it, bit for bit, what <see cref="Project"/> would have. The row may be the memory step s writes h to (a later
    /// layer's input is the output of the one below): the kernels fuse such a layer only where they read all of the row
    /// before they store any of h (one tile of units). Where
    /// the kernels fuse the projection for this layer and direction (a narrow input) it runs and returns true;
    /// elsewhere it returns false, having done nothing, and the driver projects and steps (<see cref="TryRunRow"/> or
    /// <see cref="Step"/>). A cell's kernels have this member alone (one step per call, seqLen 1). Declare
    /// it in a struct even to return false (the default body boxes).
    /// </summary>
    bool TryRunRowFromInput(int layer, int direction, ref float x, nint xStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c) => false;

    /// <summary>
    /// The most parts one row of <paramref name="layer"/>'s step may split into over threads by tiles of units
    /// (<see cref="StepRowTiles"/>): 1 where it does not split. The generator decides it from the layer's weights (a part
    /// per 384 KiB of them). A struct implementing this interface should declare this member (the default body, called
    /// on a struct, boxes it).
    /// </summary>
    int RowParts(int layer) => 1;

    /// <summary>The tiles of hidden units <see cref="StepRowTiles"/> takes ranges of (read only where <see cref="RowParts"/> is above 1, which must declare it).</summary>
    int RowTiles => throw new System.NotSupportedException("These kernels do not split a row (RowParts is 1).");

    /// <summary>
    /// One row's step over tiles [<paramref name="firstTile"/>, <paramref name="endTile"/>) of <see cref="RowTiles"/> only,
    /// so that threads can share a row whose weights are large (<see cref="Parallelism"/>): those tiles' input
    /// projection from the row x (as <see cref="Project"/> computes it), then their step (as <see cref="Step"/> computes
    /// it), bit for bit. x and hPrev are read whole; h (hidden-size floats), c (padded to <see cref="CellStride"/>, an
    /// LSTM's cell state, read and written in place) and pre (scratch) only at the tiles' units. No gates are kept.
    /// </summary>
    void StepRowTiles(int layer, int direction, ref float x, ref float hPrev, ref float pre, ref float h, ref float c, int firstTile, int endTile) =>
        throw new System.NotSupportedException("These kernels do not split a row (RowParts is 1).");

    /// <summary>Back through a step's product: for r &lt; rows, <c>dh[r] = da[r] · W_hh(layer, direction)</c> (overwritten).</summary>
    void BackStep(int layer, int direction, ref float da, int rows, ref float dh) => throw InferenceOnly();

    /// <summary>Back through the input projection: for r &lt; rows, <c>dx[r] += da[r] · W_ih(layer, direction)</c>.</summary>
    void BackProject(int layer, int direction, ref float da, int rows, ref float dx) => throw InferenceOnly();

    /// <summary>
    /// An LSTM's projection (<c>proj_size</c>): for r &lt; rows, <c>h[r] = m[r] · W_hr(layer, direction)ᵀ</c>, written
    /// exactly state-size wide; m rows are <see cref="CellStride"/> apart.
    /// </summary>
    void ProjectOutput(int layer, int direction, ref float m, int rows, ref float h, nint hStride) => throw NoProjection();

    /// <summary>Back through the projection: for r &lt; rows, <c>dm[r] = dh[r] · W_hr(layer, direction)</c> (overwritten; dh rows <see cref="StateStride"/> apart, dm rows <see cref="CellStride"/>).</summary>
    void BackProjectOutput(int layer, int direction, ref float dh, int rows, ref float dm) => throw NoProjection();

    /// <summary>The projection's weight gradient: for q &lt; state size, <c>dw[q] += Σ_r dh[r][q] · m[r]</c> (dw and m rows <see cref="CellStride"/> apart).</summary>
    void ProjectionWeightGrad(ref float dh, ref float m, int rows, ref float dw) => throw NoProjection();

    // Default bodies so that only projecting kernels carry these; a module without a projection never calls them.
    private static System.NotSupportedException NoProjection() => new("This module has no projection (proj_size is 0).");

    /// <summary>
    /// A weight gradient in <see cref="Layout"/>'s row order: for every position q of a pre-activation row,
    /// <c>dw[q] += Σ_r da[r][q] · x[r]</c>. For W_ih (<paramref name="recurrent"/> false) x and dw rows hold
    /// <see cref="InputStride"/> floats; for W_hh, <see cref="StateStride"/>.
    /// </summary>
    void WeightGrad(int layer, bool recurrent, ref float da, ref float x, int rows, ref float dw) => throw InferenceOnly();

    // Default bodies so that an inference-only module's kernels (Training = false) carry no backward code; its class offers
    // no Backward, so the driver never calls these on it.
    private static System.NotSupportedException InferenceOnly() => new("This module is inference-only (Training = false): it has no backward kernels.");
}

using System.ComponentModel;
using System.Diagnostics;

namespace RnnGen.__Internals;

/// <summary>
/// Scalar kernels for any <see cref="RnnShape"/> and cell kind, reading the parameters in PyTorch's layout
/// directly (no packing, so never stale). They run where no SIMD path applies, back the run-time-sized
/// modules in <see cref="RnnGen.Dynamic"/>, and are the reference the generated kernels are tested against.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct GenericKernels<TStep> : IRnnKernels
    where TStep : struct, IGenericStep
{
    private readonly RnnShape _shape;
    private readonly ParameterSet _parameters;

    /// <summary>Kernels for <paramref name="shape"/> over <paramref name="parameters"/> (laid out as the shape says).</summary>
    public GenericKernels(in RnnShape shape, ParameterSet parameters)
    {
        _shape = shape;
        _parameters = parameters;
    }

    /// <inheritdoc/>
    public int StateStride => _shape.StateSize;

    /// <inheritdoc/>
    public int CellStride => _shape.HiddenSize;

    /// <inheritdoc/>
    public int PreStride => TStep.Gates * _shape.HiddenSize;

    /// <inheritdoc/>
    public GateLayout Layout => GenericProducts.Layout(_shape);

    /// <inheritdoc/>
    public int InputStride(int layer) => _shape.LayerInputSize(layer);

    /// <inheritdoc/>
    public void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre, bool tilesBackward = false) =>
        GenericProducts.Project(_shape, _parameters, layer, direction, ref x, xStride, rows, ref pre, TStep.HiddenBiasFromGate);

    /// <inheritdoc/>
    public void Step(int layer, int direction, StridedRows hPrev, ref float pre, int rows, StridedRows h, StridedRows cPrev, StridedRows c, ref float gates, bool tilesBackward = false)
    {
        Debug.Assert(rows >= 0 && (rows <= 1 || h.Stride >= _shape.HiddenSize), "h rows are written: they must not overlap");
        Debug.Assert(cPrev.IsNone == c.IsNone && (c.IsNone || rows <= 1 || c.Stride >= _shape.HiddenSize), "c rows are written: they must not overlap");
        TStep.Step(_shape, _parameters, layer, direction, hPrev, ref pre, rows, h, cPrev, c, ref gates);
    }

    /// <summary>Not claimed (the generic steps are not written to allow it). Declared so that the interface's default body does not box this struct.</summary>
    public bool OneRowStepInPlace => false;

    /// <summary>No block kernel: the driver steps. Declared so that the interface's default body does not box this struct.</summary>
    public bool TryRunRow(int layer, int direction, ref float pre, nint preStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c) => false;

    /// <summary>No block kernel: the driver projects and steps. Declared so that the interface's default body does not box this struct.</summary>
    public bool TryRunRowFromInput(int layer, int direction, ref float x, nint xStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c) => false;

    /// <summary>A row is not split. Declared so that the interface's default body does not box this struct.</summary>
    public int RowParts(int layer) => 1;

    /// <inheritdoc/>
    public void BackStep(int layer, int direction, ref float da, int rows, ref float dh) =>
        GenericProducts.BackStep(_shape, _parameters, layer, direction, ref da, rows, ref dh);

    /// <inheritdoc/>
    public void BackProject(int layer, int direction, ref float da, int rows, ref float dx) =>
        GenericProducts.BackProject(_shape, _parameters, layer, direction, ref da, rows, ref dx);

    /// <inheritdoc/>
    public void WeightGrad(int layer, bool recurrent, ref float da, ref float x, int rows, ref float dw) =>
        GenericProducts.WeightGrad(_shape, layer, recurrent, ref da, ref x, rows, ref dw);

    /// <inheritdoc/>
    public void ProjectOutput(int layer, int direction, ref float m, int rows, ref float h, nint hStride) =>
        GenericProjection.Forward(_shape, _parameters, layer, direction, ref m, rows, ref h, hStride);

    /// <inheritdoc/>
    public void BackProjectOutput(int layer, int direction, ref float dh, int rows, ref float dm) =>
        GenericProjection.Backward(_shape, _parameters, layer, direction, ref dh, rows, ref dm);

    /// <inheritdoc/>
    public void ProjectionWeightGrad(ref float dh, ref float m, int rows, ref float dw) =>
        GenericProjection.WeightGrad(_shape, ref dh, ref m, rows, ref dw);
}

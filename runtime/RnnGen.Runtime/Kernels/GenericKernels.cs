using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

/// <summary>
/// Scalar products for any <see cref="RnnShape"/>, reading the parameters in PyTorch's layout directly (no
/// packing, so never stale): the part of the generic kernels that does not depend on the cell kind. Gate
/// rows are in PyTorch's order (the generic <see cref="GateLayout"/> has one tile).
/// </summary>
internal static class GenericProducts
{
    public static GateLayout Layout(in RnnShape shape) => new(shape.HiddenSize, shape.HiddenSize, shape.HiddenSize, shape.GateCount);

    /// <summary>pre = x · W_ihᵀ + b_ih + b_hh; rows from <paramref name="hiddenBiasFromGate"/> on (a GRU's n) take b_ih only.</summary>
    public static void Project(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float x, nint xStride, int rows, ref float pre, int hiddenBiasFromGate = int.MaxValue)
    {
        int gateRows = shape.GateCount * shape.HiddenSize, cols = shape.LayerInputSize(layer);
        Debug.Assert(rows >= 0 && xStride >= 0, "x rows are read: a stride of 0 repeats one");
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightIhIndex(layer, direction));
        int bih = shape.Bias ? parameters.OffsetOf(shape.BiasIhIndex(layer, direction)) : -1;
        int bhh = shape.Bias ? parameters.OffsetOf(shape.BiasHhIndex(layer, direction)) : -1;
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref x, r * xStride);
            for (int j = 0; j < gateRows; j++)
            {
                float sum = bih < 0 ? 0f : j / shape.HiddenSize >= hiddenBiasFromGate ? p[bih + j] : p[bih + j] + p[bhh + j];
                int row = w + j * cols;
                for (int k = 0; k < cols; k++)
                    sum += p[row + k] * Unsafe.Add(ref xr, k);
                Unsafe.Add(ref pre, r * gateRows + j) = sum;
            }
        }
    }

    /// <summary>pre + Σ_k W_hh[j][k] · hPrev[k] over the <paramref name="stateSize"/> features of h: gate row j of one batch row.</summary>
    public static float GateSum(float[] p, int w, int stateSize, int j, ref float hPrev, float pre)
    {
        float sum = pre;
        int row = w + j * stateSize;
        for (int k = 0; k < stateSize; k++)
            sum += p[row + k] * Unsafe.Add(ref hPrev, k);
        return sum;
    }

    public static void BackStep(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float da, int rows, ref float dh)
    {
        int stateSize = shape.StateSize, gateRows = shape.GateCount * shape.HiddenSize;
        Debug.Assert(rows >= 0);
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightHhIndex(layer, direction));
        for (int r = 0; r < rows; r++)
        {
            ref float dar = ref Unsafe.Add(ref da, r * gateRows);
            ref float dhr = ref Unsafe.Add(ref dh, r * stateSize);
            for (int k = 0; k < stateSize; k++)
                Unsafe.Add(ref dhr, k) = 0f;
            for (int j = 0; j < gateRows; j++)
            {
                float g = Unsafe.Add(ref dar, j);
                int row = w + j * stateSize;
                for (int k = 0; k < stateSize; k++)
                    Unsafe.Add(ref dhr, k) += g * p[row + k];
            }
        }
    }

    public static void BackProject(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float da, int rows, ref float dx)
    {
        int gateRows = shape.GateCount * shape.HiddenSize, cols = shape.LayerInputSize(layer);
        Debug.Assert(rows >= 0);
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightIhIndex(layer, direction));
        for (int r = 0; r < rows; r++)
        {
            ref float dar = ref Unsafe.Add(ref da, r * gateRows);
            ref float dxr = ref Unsafe.Add(ref dx, r * cols);
            for (int j = 0; j < gateRows; j++)
            {
                float g = Unsafe.Add(ref dar, j);
                int row = w + j * cols;
                for (int k = 0; k < cols; k++)
                    Unsafe.Add(ref dxr, k) += g * p[row + k];
            }
        }
    }

    public static void WeightGrad(in RnnShape shape, int layer, bool recurrent, ref float da, ref float x, int rows, ref float dw)
    {
        int gateRows = shape.GateCount * shape.HiddenSize, cols = recurrent ? shape.StateSize : shape.LayerInputSize(layer);
        Debug.Assert(rows >= 0 && layer >= 0 && layer < shape.NumLayers);
        for (int j = 0; j < gateRows; j++)
        {
            ref float dwj = ref Unsafe.Add(ref dw, j * cols);
            for (int r = 0; r < rows; r++)
            {
                float g = Unsafe.Add(ref da, r * gateRows + j);
                ref float xr = ref Unsafe.Add(ref x, r * cols);
                for (int k = 0; k < cols; k++)
                    Unsafe.Add(ref dwj, k) += g * Unsafe.Add(ref xr, k);
            }
        }
    }
}

/// <summary>An LSTM's projection (<c>weight_hr</c>, proj_size × hidden) in the generic kernels: states R wide, m rows H wide.</summary>
internal static class GenericProjection
{
    /// <summary>h[r] = m[r] · W_hrᵀ.</summary>
    public static void Forward(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float m, int rows, ref float h, nint hStride)
    {
        int hidden = shape.HiddenSize, proj = shape.ProjSize;
        Debug.Assert(rows >= 0 && (rows <= 1 || hStride >= proj), "h rows are written: they must not overlap");
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightHrIndex(layer, direction));
        for (int r = 0; r < rows; r++)
        {
            ref float mr = ref Unsafe.Add(ref m, r * hidden);
            for (int q = 0; q < proj; q++)
            {
                float sum = 0f;
                int row = w + q * hidden;
                for (int k = 0; k < hidden; k++)
                    sum += p[row + k] * Unsafe.Add(ref mr, k);
                Unsafe.Add(ref h, r * hStride + q) = sum;
            }
        }
    }

    /// <summary>dm[r] = dh[r] · W_hr (overwritten).</summary>
    public static void Backward(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float dh, int rows, ref float dm)
    {
        int hidden = shape.HiddenSize, proj = shape.ProjSize;
        Debug.Assert(rows >= 0);
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightHrIndex(layer, direction));
        for (int r = 0; r < rows; r++)
        {
            ref float dmr = ref Unsafe.Add(ref dm, r * hidden);
            for (int k = 0; k < hidden; k++)
                Unsafe.Add(ref dmr, k) = 0f;
            for (int q = 0; q < proj; q++)
            {
                float g = Unsafe.Add(ref dh, r * proj + q);
                int row = w + q * hidden;
                for (int k = 0; k < hidden; k++)
                    Unsafe.Add(ref dmr, k) += g * p[row + k];
            }
        }
    }

    /// <summary>dW_hr[q] += Σ_r dh[r][q] · m[r].</summary>
    public static void WeightGrad(in RnnShape shape, ref float dh, ref float m, int rows, ref float dw)
    {
        int hidden = shape.HiddenSize, proj = shape.ProjSize;
        Debug.Assert(rows >= 0 && proj > 0);
        for (int q = 0; q < proj; q++)
        {
            ref float dwq = ref Unsafe.Add(ref dw, q * hidden);
            for (int r = 0; r < rows; r++)
            {
                float g = Unsafe.Add(ref dh, r * proj + q);
                ref float mr = ref Unsafe.Add(ref m, r * hidden);
                for (int k = 0; k < hidden; k++)
                    Unsafe.Add(ref dwq, k) += g * Unsafe.Add(ref mr, k);
            }
        }
    }
}

/// <summary>The step of one cell kind in the generic kernels (the products are the same for every kind).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGenericStep
{
    /// <summary>Gates per hidden unit.</summary>
    static abstract int Gates { get; }

    /// <summary>The first gate whose bias_hh stays out of the input projection (a GRU's n: 2), else int.MaxValue.</summary>
    static abstract int HiddenBiasFromGate { get; }

    /// <summary>One recurrent step, with <see cref="IRnnKernels.Step"/>'s contract, on PyTorch-layout parameters.</summary>
    static abstract void Step(in RnnShape shape, ParameterSet parameters, int layer, int direction, StridedRows hPrev, ref float pre, int rows,
        StridedRows h, StridedRows cPrev, StridedRows c, ref float gates);
}

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
    public void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre) =>
        GenericProducts.Project(_shape, _parameters, layer, direction, ref x, xStride, rows, ref pre, TStep.HiddenBiasFromGate);

    /// <inheritdoc/>
    public void Step(int layer, int direction, StridedRows hPrev, ref float pre, int rows, StridedRows h, StridedRows cPrev, StridedRows c, ref float gates)
    {
        Debug.Assert(rows >= 0 && (rows <= 1 || h.Stride >= _shape.HiddenSize), "h rows are written: they must not overlap");
        Debug.Assert(cPrev.IsNone == c.IsNone && (c.IsNone || rows <= 1 || c.Stride >= _shape.HiddenSize), "c rows are written: they must not overlap");
        TStep.Step(_shape, _parameters, layer, direction, hPrev, ref pre, rows, h, cPrev, c, ref gates);
    }

    /// <summary>No block kernel: the driver steps. Declared so that the interface's default body does not box this struct.</summary>
    public bool TryRunRow(int layer, int direction, ref float pre, nint preStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c) => false;

    /// <inheritdoc/>
    public void BackStep(int layer, int direction, ref float da, int rows, ref float dh) =>
        GenericProducts.BackStep(_shape, _parameters, layer, direction, ref da, rows, ref dh);

    /// <inheritdoc/>
    public void BackProject(int layer, int direction, ref float da, int rows, ref float dx) =>
        GenericProducts.BackProject(_shape, _parameters, layer, direction, ref da, rows, ref dx);

    /// <inheritdoc/>
    public void WeightGrad(int layer, int direction, bool recurrent, ref float da, ref float x, int rows, ref float dw) =>
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

/// <summary>The Elman step: h = act(pre + hPrev · W_hhᵀ).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct ElmanStep<TActivation> : IGenericStep
    where TActivation : struct, IActivation
{
    /// <inheritdoc/>
    public static int Gates => 1;

    /// <inheritdoc/>
    public static int HiddenBiasFromGate => int.MaxValue;

    /// <inheritdoc/>
    public static void Step(in RnnShape shape, ParameterSet parameters, int layer, int direction, StridedRows hPrev, ref float pre, int rows,
        StridedRows h, StridedRows cPrev, StridedRows c, ref float gates)
    {
        int hidden = shape.HiddenSize, stateSize = shape.StateSize;
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightHhIndex(layer, direction));
        for (int r = 0; r < rows; r++)
        {
            ref float hr = ref hPrev[r];
            for (int j = 0; j < hidden; j++)
                Unsafe.Add(ref h[r], j) = TActivation.Invoke(GenericProducts.GateSum(p, w, stateSize, j, ref hr, Unsafe.Add(ref pre, r * hidden + j)));
        }
    }
}

/// <summary>The LSTM step (gate rows i, f, g, o): c = f ⊙ cPrev + i ⊙ g, h = o ⊙ tanh(c).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct LstmStep : IGenericStep
{
    /// <inheritdoc/>
    public static int Gates => 4;

    /// <inheritdoc/>
    public static int HiddenBiasFromGate => int.MaxValue;

    /// <inheritdoc/>
    public static void Step(in RnnShape shape, ParameterSet parameters, int layer, int direction, StridedRows hPrev, ref float pre, int rows,
        StridedRows h, StridedRows cPrev, StridedRows c, ref float gates)
    {
        int hidden = shape.HiddenSize, stateSize = shape.StateSize;
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightHhIndex(layer, direction));
        bool keepGates = !Unsafe.IsNullRef(ref gates);
        for (int r = 0; r < rows; r++)
        {
            ref float hr = ref hPrev[r];
            ref float pr = ref Unsafe.Add(ref pre, r * 4 * hidden);
            for (int u = 0; u < hidden; u++)
            {
                float i = SigmoidActivation.Invoke(GenericProducts.GateSum(p, w, stateSize, u, ref hr, Unsafe.Add(ref pr, u)));
                float f = SigmoidActivation.Invoke(GenericProducts.GateSum(p, w, stateSize, hidden + u, ref hr, Unsafe.Add(ref pr, hidden + u)));
                float g = TanhActivation.Invoke(GenericProducts.GateSum(p, w, stateSize, 2 * hidden + u, ref hr, Unsafe.Add(ref pr, 2 * hidden + u)));
                float o = SigmoidActivation.Invoke(GenericProducts.GateSum(p, w, stateSize, 3 * hidden + u, ref hr, Unsafe.Add(ref pr, 3 * hidden + u)));
                float cNew = f * Unsafe.Add(ref cPrev[r], u) + i * g;
                Unsafe.Add(ref c[r], u) = cNew;
                Unsafe.Add(ref h[r], u) = o * TanhActivation.Invoke(cNew);
                if (keepGates)
                {
                    ref float gr = ref Unsafe.Add(ref gates, r * 4 * hidden);
                    Unsafe.Add(ref gr, u) = i;
                    Unsafe.Add(ref gr, hidden + u) = f;
                    Unsafe.Add(ref gr, 2 * hidden + u) = g;
                    Unsafe.Add(ref gr, 3 * hidden + u) = o;
                }
            }
        }
    }
}

/// <summary>
/// The GRU step (gate rows r, z, n; b_hn inside the reset product): n = tanh(pre_n + r ⊙ (W_hn h + b_hn)),
/// h' = (1 − z) ⊙ n + z ⊙ h. The tape keeps r, z, n and W_hn h + b_hn.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct GruStep : IGenericStep
{
    /// <inheritdoc/>
    public static int Gates => 3;

    /// <inheritdoc/>
    public static int HiddenBiasFromGate => 2;

    /// <inheritdoc/>
    public static void Step(in RnnShape shape, ParameterSet parameters, int layer, int direction, StridedRows hPrev, ref float pre, int rows,
        StridedRows h, StridedRows cPrev, StridedRows c, ref float gates)
    {
        int hidden = shape.HiddenSize, stateSize = shape.StateSize;
        float[] p = parameters.Data;
        int w = parameters.OffsetOf(shape.WeightHhIndex(layer, direction));
        int bhh = shape.Bias ? parameters.OffsetOf(shape.BiasHhIndex(layer, direction)) : -1;
        bool keep = !Unsafe.IsNullRef(ref gates);
        for (int r = 0; r < rows; r++)
        {
            ref float hr = ref hPrev[r];
            ref float pr = ref Unsafe.Add(ref pre, r * 3 * hidden);
            for (int u = 0; u < hidden; u++)
            {
                float reset = SigmoidActivation.Invoke(GenericProducts.GateSum(p, w, stateSize, u, ref hr, Unsafe.Add(ref pr, u)));
                float update = SigmoidActivation.Invoke(GenericProducts.GateSum(p, w, stateSize, hidden + u, ref hr, Unsafe.Add(ref pr, hidden + u)));
                float hn = GenericProducts.GateSum(p, w, stateSize, 2 * hidden + u, ref hr, bhh >= 0 ? p[bhh + 2 * hidden + u] : 0f);
                float n = TanhActivation.Invoke(Unsafe.Add(ref pr, 2 * hidden + u) + reset * hn);
                Unsafe.Add(ref h[r], u) = (1f - update) * n + update * Unsafe.Add(ref hr, u);
                if (keep)
                {
                    ref float gr = ref Unsafe.Add(ref gates, r * 4 * hidden);
                    Unsafe.Add(ref gr, u) = reset;
                    Unsafe.Add(ref gr, hidden + u) = update;
                    Unsafe.Add(ref gr, 2 * hidden + u) = n;
                    Unsafe.Add(ref gr, 3 * hidden + u) = hn;
                }
            }
        }
    }
}

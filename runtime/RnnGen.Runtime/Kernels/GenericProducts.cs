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
                float bias = bih < 0 ? 0f : j / shape.HiddenSize >= hiddenBiasFromGate ? p[bih + j] : p[bih + j] + p[bhh + j];
                Unsafe.Add(ref pre, r * gateRows + j) = GateSum(p, w, cols, j, ref xr, bias);
            }
        }
    }

    /// <summary>
    /// pre + Σ_k W[j][k] · x[k] over the <paramref name="width"/> columns of the matrix at <paramref name="w"/> in
    /// <paramref name="p"/>: row j of a product (a gate of one batch row when W is W_hh and x is h).
    /// </summary>
    public static float GateSum(float[] p, int w, int width, int j, ref float x, float pre)
    {
        float sum = pre;
        int row = w + j * width;
        for (int k = 0; k < width; k++)
            sum += p[row + k] * Unsafe.Add(ref x, k);
        return sum;
    }

    /// <summary>dh[r] = da[r] · W_hh (overwritten).</summary>
    public static void BackStep(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float da, int rows, ref float dh) =>
        RowsTimesMatrix(parameters.Data, parameters.OffsetOf(shape.WeightHhIndex(layer, direction)), ref da, rows, shape.GateCount * shape.HiddenSize,
            shape.StateSize, ref dh, accumulate: false);

    /// <summary>dx[r] += da[r] · W_ih.</summary>
    public static void BackProject(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float da, int rows, ref float dx) =>
        RowsTimesMatrix(parameters.Data, parameters.OffsetOf(shape.WeightIhIndex(layer, direction)), ref da, rows, shape.GateCount * shape.HiddenSize,
            shape.LayerInputSize(layer), ref dx, accumulate: true);

    /// <summary>dW_ih (or dW_hh when <paramref name="recurrent"/>) [j] += Σ_r da[r][j] · x[r].</summary>
    public static void WeightGrad(in RnnShape shape, int layer, bool recurrent, ref float da, ref float x, int rows, ref float dw)
    {
        Debug.Assert(layer >= 0 && layer < shape.NumLayers);
        AddOuterProducts(ref da, rows, shape.GateCount * shape.HiddenSize, ref x, recurrent ? shape.StateSize : shape.LayerInputSize(layer), ref dw);
    }

    /// <summary>
    /// c[r] (= or +=) Σ_j a[r][j] · W[j] for r &lt; rows: a rows <paramref name="count"/> wide, W (at <paramref name="w"/>
    /// in <paramref name="p"/>) and c rows <paramref name="width"/> wide.
    /// </summary>
    public static void RowsTimesMatrix(float[] p, int w, ref float a, int rows, int count, int width, ref float c, bool accumulate)
    {
        Debug.Assert(rows >= 0 && w >= 0 && w + count * width <= p.Length);
        for (int r = 0; r < rows; r++)
        {
            ref float ar = ref Unsafe.Add(ref a, r * count);
            ref float cr = ref Unsafe.Add(ref c, r * width);
            if (!accumulate)
                for (int k = 0; k < width; k++)
                    Unsafe.Add(ref cr, k) = 0f;
            for (int j = 0; j < count; j++)
            {
                float g = Unsafe.Add(ref ar, j);
                int row = w + j * width;
                for (int k = 0; k < width; k++)
                    Unsafe.Add(ref cr, k) += g * p[row + k];
            }
        }
    }

    /// <summary>dw[j] += Σ_r a[r][j] · x[r] for j &lt; count: a rows <paramref name="count"/> wide, x and dw rows <paramref name="width"/> wide.</summary>
    public static void AddOuterProducts(ref float a, int rows, int count, ref float x, int width, ref float dw)
    {
        Debug.Assert(rows >= 0);
        for (int j = 0; j < count; j++)
        {
            ref float dwj = ref Unsafe.Add(ref dw, j * width);
            for (int r = 0; r < rows; r++)
            {
                float g = Unsafe.Add(ref a, r * count + j);
                ref float xr = ref Unsafe.Add(ref x, r * width);
                for (int k = 0; k < width; k++)
                    Unsafe.Add(ref dwj, k) += g * Unsafe.Add(ref xr, k);
            }
        }
    }
}

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

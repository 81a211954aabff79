using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

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
            for (int q = 0; q < proj; q++)
                Unsafe.Add(ref h, r * hStride + q) = GenericProducts.GateSum(p, w, hidden, q, ref Unsafe.Add(ref m, r * hidden), 0f);
    }

    /// <summary>dm[r] = dh[r] · W_hr (overwritten).</summary>
    public static void Backward(in RnnShape shape, ParameterSet parameters, int layer, int direction, ref float dh, int rows, ref float dm) =>
        GenericProducts.RowsTimesMatrix(parameters.Data, parameters.OffsetOf(shape.WeightHrIndex(layer, direction)), ref dh, rows, shape.ProjSize,
            shape.HiddenSize, ref dm, accumulate: false);

    /// <summary>dW_hr[q] += Σ_r dh[r][q] · m[r].</summary>
    public static void WeightGrad(in RnnShape shape, ref float dh, ref float m, int rows, ref float dw)
    {
        Debug.Assert(shape.ProjSize > 0);
        GenericProducts.AddOuterProducts(ref dh, rows, shape.ProjSize, ref m, shape.HiddenSize, ref dw);
    }
}

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

using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

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

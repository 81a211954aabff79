using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

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

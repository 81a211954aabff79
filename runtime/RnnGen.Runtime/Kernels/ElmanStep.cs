using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

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

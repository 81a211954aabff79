using System;
using System.ComponentModel;
using System.Diagnostics;

namespace RnnGen.__Internals;

/// <summary>The Elman cell: h = act(a); the backward step needs only h.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct ElmanGates<TActivation> : IGateMath
    where TActivation : struct, IActivation
{
    /// <inheritdoc/>
    public static int Gates => 1;

    /// <inheritdoc/>
    public static bool HasCell => false;

    /// <inheritdoc/>
    public static int TapeSlots => 0;

    /// <inheritdoc/>
    public static bool SplitsGradients => false;

    /// <inheritdoc/>
    public static void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> tape, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect)
    {
        Debug.Assert(layout.Gates == 1 && da.Length >= layout.RowLength);
        Debug.Assert(gradOutput.Length >= layout.Hidden && gradRecurrent.Length >= layout.Hidden && h.Length >= layout.Hidden);
        for (int u = 0; u < layout.Hidden; u++)
            da[u] = (gradOutput[u] + gradRecurrent[u]) * TActivation.DerivativeFromOutput(h[u]);
    }
}

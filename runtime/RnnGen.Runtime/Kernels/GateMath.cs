using System;
using System.ComponentModel;

namespace RnnGen.Kernels;

/// <summary>
/// What distinguishes one kind of recurrent cell in the shape-agnostic driver: how many gates it has,
/// whether it carries a cell state, and its backward step (the kernels carry its forward step).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGateMath
{
    /// <summary>Gates per hidden unit.</summary>
    static abstract int Gates { get; }

    /// <summary>Whether the cell carries a state c besides h (the LSTM).</summary>
    static abstract bool HasCell { get; }

    /// <summary>
    /// Back through one step for one row: from the gradient at h (<paramref name="gradOutput"/> from the
    /// output plus <paramref name="gradRecurrent"/> from the next step) and, with a cell state, at c
    /// (<paramref name="gradCell"/>, replaced by the gradient at the previous c), writes the gradient at the
    /// pre-activations into <paramref name="da"/> (in <paramref name="layout"/>; padding left as it is).
    /// </summary>
    static abstract void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> h, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev, Span<float> da);
}

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
    public static void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> h, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev, Span<float> da)
    {
        for (int u = 0; u < layout.Hidden; u++)
            da[u] = (gradOutput[u] + gradRecurrent[u]) * TActivation.DerivativeFromOutput(h[u]);
    }
}

/// <summary>
/// The LSTM cell (PyTorch's gate order i, f, g, o): c = f ⊙ cPrev + i ⊙ g, h = o ⊙ tanh(c). Backward:
/// dc += dh ⊙ o ⊙ (1 − tanh²c); di = dc ⊙ g, df = dc ⊙ cPrev, dg = dc ⊙ i, do = dh ⊙ tanh c; dcPrev = dc ⊙ f;
/// then through σ (σ(1 − σ)) and tanh (1 − g²).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct LstmGates : IGateMath
{
    /// <inheritdoc/>
    public static int Gates => 4;

    /// <inheritdoc/>
    public static bool HasCell => true;

    /// <inheritdoc/>
    public static void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> h, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev, Span<float> da)
    {
        for (int u = 0; u < layout.Hidden; u++)
        {
            int pi = layout.Offset(0, u), pf = layout.Offset(1, u), pg = layout.Offset(2, u), po = layout.Offset(3, u);
            float i = gates[pi], f = gates[pf], g = gates[pg], o = gates[po];
            float dh = gradOutput[u] + gradRecurrent[u];
            float tc = TanhActivation.Invoke(c[u]); // the forward's tanh(c), recomputed with the same function
            float dc = gradCell[u] + dh * o * (1f - tc * tc);
            gradCell[u] = dc * f;
            da[pi] = dc * g * i * (1f - i);
            da[pf] = dc * cPrev[u] * f * (1f - f);
            da[pg] = dc * i * (1f - g * g);
            da[po] = dh * tc * o * (1f - o);
        }
    }
}

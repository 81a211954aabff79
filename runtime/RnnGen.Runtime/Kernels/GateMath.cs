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

    /// <summary>Vectors of units a training step records per row (gate activations and the like; 0: none).</summary>
    static abstract int TapeSlots { get; }

    /// <summary>
    /// Whether the gradient at the input-side pre-activations differs from the hidden side's (the GRU, whose n
    /// gate multiplies the hidden product by r), and h' depends on h directly (z ⊙ h).
    /// </summary>
    static abstract bool SplitsGradients { get; }

    /// <summary>
    /// Back through one step for one row: from the gradient at h (<paramref name="gradOutput"/> from the
    /// output plus <paramref name="gradRecurrent"/> from the next step) and, with a cell state, at c
    /// (<paramref name="gradCell"/>, replaced by the gradient at the previous c), writes the gradient at the
    /// hidden-side pre-activations into <paramref name="da"/> (in <paramref name="layout"/>; padding left as it
    /// is) and, when <see cref="SplitsGradients"/>, the input side's into <paramref name="daInput"/> and the
    /// direct gradient at the previous h into <paramref name="gradDirect"/>. <paramref name="tape"/> is the
    /// step's record in <paramref name="tapeLayout"/>.
    /// </summary>
    static abstract void Backward(in GateLayout layout, in GateLayout tapeLayout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> tape, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect);
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
    public static int TapeSlots => 0;

    /// <inheritdoc/>
    public static bool SplitsGradients => false;

    /// <inheritdoc/>
    public static void Backward(in GateLayout layout, in GateLayout tapeLayout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> tape, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect)
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
    public static int TapeSlots => 4;

    /// <inheritdoc/>
    public static bool SplitsGradients => false;

    /// <inheritdoc/>
    public static void Backward(in GateLayout layout, in GateLayout tapeLayout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect)
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

/// <summary>
/// The GRU cell (PyTorch's gate order r, z, n): r = σ(a_r), z = σ(a_z), hn = W_hn h + b_hn,
/// n = tanh(x_n + b_in + r ⊙ hn), h' = (1 − z) ⊙ n + z ⊙ h. The tape keeps r, z, n and hn. Backward:
/// dn = dh ⊙ (1 − z), dz = dh ⊙ (h − n), da_n = dn ⊙ (1 − n²), dr = da_n ⊙ hn; the hidden side's n-gradient is
/// da_n ⊙ r, the input side's da_n; and dh_prev gets dh ⊙ z directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct GruGates : IGateMath
{
    /// <inheritdoc/>
    public static int Gates => 3;

    /// <inheritdoc/>
    public static bool HasCell => false;

    /// <inheritdoc/>
    public static int TapeSlots => 4;

    /// <inheritdoc/>
    public static bool SplitsGradients => true;

    /// <inheritdoc/>
    public static void Backward(in GateLayout layout, in GateLayout tapeLayout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> tape, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect)
    {
        for (int u = 0; u < layout.Hidden; u++)
        {
            float r = tape[tapeLayout.Offset(0, u)], z = tape[tapeLayout.Offset(1, u)], n = tape[tapeLayout.Offset(2, u)], hn = tape[tapeLayout.Offset(3, u)];
            float dh = gradOutput[u] + gradRecurrent[u];
            float dan = dh * (1f - z) * (1f - n * n);
            float dar = dan * hn * r * (1f - r);
            float daz = dh * (hPrev[u] - n) * z * (1f - z);
            int pr = layout.Offset(0, u), pz = layout.Offset(1, u), pn = layout.Offset(2, u);
            da[pr] = dar;
            da[pz] = daz;
            da[pn] = dan * r;
            daInput[pr] = dar;
            daInput[pz] = daz;
            daInput[pn] = dan;
            gradDirect[u] = dh * z;
        }
    }
}

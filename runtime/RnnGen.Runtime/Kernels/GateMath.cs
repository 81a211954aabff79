using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

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
    /// step's record, laid out as <paramref name="layout"/> lays out <see cref="TapeSlots"/> gates. Spans of units hold at
    /// least the hidden size; <paramref name="da"/> and <paramref name="daInput"/> a whole row of the layout.
    /// </summary>
    static abstract void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
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
    public static void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect)
    {
        // The vector loop loads and stores whole vectors without bounds checks, within these lengths.
        Debug.Assert(layout.Gates == 4 && gates.Length >= layout.RowLength && da.Length >= layout.RowLength);
        Debug.Assert(gradOutput.Length >= layout.Hidden && gradRecurrent.Length >= layout.Hidden && gradCell.Length >= layout.Hidden);
        Debug.Assert(c.Length >= layout.Hidden && cPrev.Length >= layout.Hidden);
        // Tile by tile: within a tile, each gate's units are consecutive, as they are in the unit-ordered spans.
        for (int tile = 0; tile < layout.Hidden; tile += layout.TileWidth)
        {
            int width = layout.WidthAt(tile), units = layout.UnitsAt(tile);
            int gi = tile * 4, gf = gi + width, gg = gf + width, go = gg + width;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= units; j += 8)
                {
                    int u = tile + j;
                    Vector256<float> one = Vector256<float>.One;
                    Vector256<float> i = Load(gates, gi + j), f = Load(gates, gf + j), g = Load(gates, gg + j), o = Load(gates, go + j);
                    Vector256<float> dh = Load(gradOutput, u) + Load(gradRecurrent, u);
                    Vector256<float> tc = TanhActivation.Invoke(Load(c, u));
                    Vector256<float> dc = Load(gradCell, u) + dh * o * (one - tc * tc);
                    (dc * f).StoreUnsafe(ref MemoryMarshal.GetReference(gradCell), (nuint)u);
                    ref float target = ref MemoryMarshal.GetReference(da);
                    (dc * g * i * (one - i)).StoreUnsafe(ref target, (nuint)(gi + j));
                    (dc * Load(cPrev, u) * f * (one - f)).StoreUnsafe(ref target, (nuint)(gf + j));
                    (dc * i * (one - g * g)).StoreUnsafe(ref target, (nuint)(gg + j));
                    (dh * tc * o * (one - o)).StoreUnsafe(ref target, (nuint)(go + j));
                }
            }
            for (; j < units; j++)
            {
                int u = tile + j;
                float i = gates[gi + j], f = gates[gf + j], g = gates[gg + j], o = gates[go + j];
                float dh = gradOutput[u] + gradRecurrent[u];
                float tc = TanhActivation.Invoke(c[u]); // the forward's tanh(c), recomputed
                float dc = gradCell[u] + dh * o * (1f - tc * tc);
                gradCell[u] = dc * f;
                da[gi + j] = dc * g * i * (1f - i);
                da[gf + j] = dc * cPrev[u] * f * (1f - f);
                da[gg + j] = dc * i * (1f - g * g);
                da[go + j] = dh * tc * o * (1f - o);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Load(ReadOnlySpan<float> span, int index) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)index);
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
    public static void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> tape, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect)
    {
        // The vector loop loads and stores whole vectors without bounds checks, within these lengths.
        Debug.Assert(layout.Gates == 3 && tape.Length >= 4 * layout.PaddedHidden && da.Length >= layout.RowLength && daInput.Length >= layout.RowLength);
        Debug.Assert(gradOutput.Length >= layout.Hidden && gradRecurrent.Length >= layout.Hidden && hPrev.Length >= layout.Hidden && gradDirect.Length >= layout.Hidden);
        for (int tile = 0; tile < layout.Hidden; tile += layout.TileWidth)
        {
            int width = layout.WidthAt(tile), units = layout.UnitsAt(tile);
            int tr = tile * 4, tz = tr + width, tn = tz + width, thn = tn + width; // the tape: r, z, n, hn
            int pr = tile * 3, pz = pr + width, pn = pz + width;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= units; j += 8)
                {
                    int u = tile + j;
                    Vector256<float> one = Vector256<float>.One;
                    Vector256<float> r = LstmGates.Load(tape, tr + j), z = LstmGates.Load(tape, tz + j), n = LstmGates.Load(tape, tn + j), hn = LstmGates.Load(tape, thn + j);
                    Vector256<float> dh = LstmGates.Load(gradOutput, u) + LstmGates.Load(gradRecurrent, u);
                    Vector256<float> dan = dh * (one - z) * (one - n * n);
                    Vector256<float> dar = dan * hn * r * (one - r);
                    Vector256<float> daz = dh * (LstmGates.Load(hPrev, u) - n) * z * (one - z);
                    ref float hidden = ref MemoryMarshal.GetReference(da);
                    ref float input = ref MemoryMarshal.GetReference(daInput);
                    dar.StoreUnsafe(ref hidden, (nuint)(pr + j));
                    daz.StoreUnsafe(ref hidden, (nuint)(pz + j));
                    (dan * r).StoreUnsafe(ref hidden, (nuint)(pn + j));
                    dar.StoreUnsafe(ref input, (nuint)(pr + j));
                    daz.StoreUnsafe(ref input, (nuint)(pz + j));
                    dan.StoreUnsafe(ref input, (nuint)(pn + j));
                    (dh * z).StoreUnsafe(ref MemoryMarshal.GetReference(gradDirect), (nuint)u);
                }
            }
            for (; j < units; j++)
            {
                int u = tile + j;
                float r = tape[tr + j], z = tape[tz + j], n = tape[tn + j], hn = tape[thn + j];
                float dh = gradOutput[u] + gradRecurrent[u];
                float dan = dh * (1f - z) * (1f - n * n);
                float dar = dan * hn * r * (1f - r);
                float daz = dh * (hPrev[u] - n) * z * (1f - z);
                da[pr + j] = dar;
                da[pz + j] = daz;
                da[pn + j] = dan * r;
                daInput[pr + j] = dar;
                daInput[pz + j] = daz;
                daInput[pn + j] = dan;
                gradDirect[u] = dh * z;
            }
        }
    }
}

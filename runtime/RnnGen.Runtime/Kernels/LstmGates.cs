using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

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

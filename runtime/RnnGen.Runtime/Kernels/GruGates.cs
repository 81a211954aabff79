using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

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

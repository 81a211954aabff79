using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

/// <summary>
/// The LSTM cell update of one vector of hidden units, written once for every width: the generated steps compute the
/// gate pre-activations (where the shape decides the code) and call this on each row's registers; it inlines.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class LstmCellUpdate
{
    /// <summary>
    /// From the pre-activations <paramref name="i"/>, <paramref name="f"/>, <paramref name="g"/>, <paramref name="o"/>:
    /// stores <c>c = σ(f) ⊙ cPrev + σ(i) ⊙ tanh(g)</c> at <paramref name="c"/> (which may be <paramref name="cPrev"/>) and
    /// returns <c>h = σ(o) ⊙ tanh(c)</c> for the caller to store exactly as wide as the row is. With <paramref name="keep"/>
    /// (a training step), also stores σ(i), σ(f), tanh(g), σ(o) one vector apart from <paramref name="gates"/> +
    /// <paramref name="gatesOffset"/>; <paramref name="gates"/> is not read or offset otherwise (it may be a null reference).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Row<TWidth, TVector>(TVector i, TVector f, TVector g, TVector o, ref float cPrev, ref float c, bool keep, ref float gates, int gatesOffset)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
    {
        i = TWidth.Activate<SigmoidActivation>(i);
        f = TWidth.Activate<SigmoidActivation>(f);
        g = TWidth.Activate<TanhActivation>(g);
        o = TWidth.Activate<SigmoidActivation>(o);
        // σ(i) ⊙ tanh(g) last: f ⊙ cPrev runs beside the longer σ(i) and tanh(g), and c waits on one multiply-add after them.
        TVector cNext = TWidth.MultiplyAdd(i, g, TWidth.Multiply(f, TWidth.Load(ref cPrev)));
        TWidth.Store(cNext, ref c);
        TVector h = TWidth.Multiply(o, TWidth.Activate<TanhActivation>(cNext));
        if (keep)
        {
            ref float row = ref Unsafe.Add(ref gates, gatesOffset);
            int n = TWidth.Count;
            TWidth.Store(i, ref row);
            TWidth.Store(f, ref Unsafe.Add(ref row, n));
            TWidth.Store(g, ref Unsafe.Add(ref row, 2 * n));
            TWidth.Store(o, ref Unsafe.Add(ref row, 3 * n));
        }
        return h;
    }
}

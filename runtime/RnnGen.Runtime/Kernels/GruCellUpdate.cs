using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

/// <summary>
/// PyTorch's GRU update of one vector of hidden units, written once for every width: the generated steps compute the
/// products (where the shape decides the code) and call this on each row's registers; it inlines.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GruCellUpdate
{
    /// <summary>
    /// From the reset and update pre-activations <paramref name="r"/>, <paramref name="z"/>, the hidden side of the new gate
    /// <paramref name="hn"/> = W_hn h + b_hn, the input side <paramref name="preN"/> and the previous state
    /// <paramref name="hPrev"/>: returns <c>h' = (1 − z) ⊙ n + z ⊙ hPrev</c> with <c>r = σ(r)</c>, <c>z = σ(z)</c>,
    /// <c>n = tanh(preN + r ⊙ hn)</c>, for the caller to store exactly as wide as the row is. With <paramref name="keep"/>
    /// (a training step), also stores r, z, n and hn one vector apart from <paramref name="gates"/> + <paramref name="gatesOffset"/>;
    /// <paramref name="gates"/> is not read or offset otherwise (it may be a null reference).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Row<TWidth, TVector>(TVector r, TVector z, TVector hn, TVector preN, TVector hPrev, bool keep, ref float gates, int gatesOffset)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
    {
        r = TWidth.Activate<SigmoidActivation>(r);
        z = TWidth.Activate<SigmoidActivation>(z);
        TVector n = TWidth.Activate<TanhActivation>(TWidth.MultiplyAdd(r, hn, preN));
        // (1 − z) ⊙ n last: z ⊙ hPrev runs beside the chain σ(r), tanh(n), and h waits on one multiply-add after tanh.
        TVector next = TWidth.MultiplyAdd(TWidth.OneMinus(z), n, TWidth.Multiply(z, hPrev));
        if (keep)
        {
            ref float row = ref Unsafe.Add(ref gates, gatesOffset);
            int count = TWidth.Count;
            TWidth.Store(r, ref row);
            TWidth.Store(z, ref Unsafe.Add(ref row, count));
            TWidth.Store(n, ref Unsafe.Add(ref row, 2 * count));
            TWidth.Store(hn, ref Unsafe.Add(ref row, 3 * count));
        }
        return next;
    }
}

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGen.__Internals;

/// <summary>
/// tanh and σ on 16 lanes as piecewise polynomials looked up in registers (AVX-512 <c>vpermps</c>): the short
/// dependency chain a one-row streaming step waits on, twice per LSTM step.
/// </summary>
/// <remarks>
/// <para>
/// The argument's magnitude is shifted, u = |x| + s (tanh: s = 0.75; σ: s = 1.5, each a quarter-octave boundary), and
/// u picks one of 16 segments by its float bits alone: its exponent and two top mantissa bits, counted from s's (one
/// float addition, then one subtraction, one shift and one minimum on the bits). So the segments are float
/// quarter-octaves of u, narrow where |x| is small and about 1 wide (tanh) or 2 wide (σ) where the function nears its
/// limit: segment 0 is x in [0, ⅛) (σ: [0, ¼)), segments 1–14 reach x = 9.25 (σ: 18.5), and segment 15, from there on
/// (∞ and NaN included), is the constant limit, within 1.8e-8 (σ: 9.2e-9) of the function there. Within a quarter
/// the polynomial's variable t = (the 21 low mantissa bits of u as a number in [1, 1.25)) − 1.125 ∈ [−⅛, ⅛): one bitwise
/// operation and one subtraction beside the lookup, finite for every u. ±∞ gives ±1 (σ: 1, 0) exactly; tanh(x) is x
/// itself below 2^-12 (±0 and denormals included, where it is x to the last bit) and for a NaN, and σ of a NaN is the NaN.
/// Above 2^-12 the error is absolute, not relative: u's rounding moves x by up to 3e-8 (from 2^-12 to ⅛ that is up to
/// 1.2e-4 of tanh(x) in relative terms, where PyTorch's tanh is within a float step). σ is kept at or above 0 by a
/// final maximum (where σ(x) is below p01's rounding, x near −18, the sum could come out −2e-8).
/// </para>
/// <para>
/// Each segment holds a degree-5 polynomial in t, evaluated as (c0 + c1 t) + t²((c2 + c3 t) + t²(c4 + c5 t)): three
/// multiply-adds deep after the lookup, the three pairs side by side. Its coefficients are Chebyshev interpolation of
/// the function at six nodes of the quarter, rounded to float, in the tables below (the test
/// <c>ActivationTests</c> rebuilds them with the same method and checks them and the error bound); in double
/// precision the interpolation is within 6.3e-8 (tanh) and 3.1e-8 (σ) of the function. tanh(|x|) takes x's sign bit
/// (an OR); σ(x) = (½ + s·(c0 + c1 t)) + (s·t²)(…) with s = ±1 applied by flipping sign bits (exact), so that the ½ is
/// added off the chain, not after the last multiply-add.
/// </para>
/// <para>
/// Measured against double precision (a sweep of four million points over [−25, 25]) the absolute error is at most
/// 1.7e-7 (tanh; 1.64e-7 measured) and 1.3e-7 (σ; 1.28e-7), and about 1e-7 from |x| = 2 on, where tanh's derivative 1 − y² is small and a
/// gradient through it carries y's error magnified; the rational functions of the narrower paths are within 2.4e-7 and
/// 1.5e-7. Sixteen segments make each table row one register, so each coefficient is one single-source permute
/// (<c>vpermps</c>) of one aligned constant, where an earlier form (seven octaves in quarters, 30 segments, degree 4)
/// took a two-source permute of two loads (<c>vpermt2ps</c>): 6 loads and 6 permutes per activation instead of 10 and 5,
/// at the same depth (a copy of the block kernel of <c>Lstm(1→32)</c>, ten activations per step, ran 1.23× as fast in a
/// probe on Zen 5). The form before this one cut |x| itself into half-octaves from 1/16 (tanh) to 8, without the shift:
/// one float addition shorter, but the half-octave [4, 6) is 2 wide where tanh still bends, and its error reached 4.4e-7
/// (σ 2.6e-7) there, enough to move the gradient of a one-unit RNN 37× further from PyTorch's in a parity test
/// (docs/performance.md); this form costs 3–7% of a streaming step against it (σ's maximum included).
/// </para>
/// </remarks>
internal static class SegmentedActivation
{
    // The tables are constant data in the assembly (a ReadOnlySpan over a collection of constants), not static fields:
    // a kernel compiled before a class's static constructor has run would keep a class-initialisation check and reload
    // the field on every call (AggressiveOptimization compiles it once, fully optimised, and never again); here there
    // is nothing to initialise, and the .NET 10 JIT was seen to read each row as a 64-byte-aligned constant. Not
    // Vector512.Create(…) constants: the JIT hoisted those out of a kernel's loop into registers it then spilled. The
    // compiler points such a span into the assembly's data only when it optimises; a Debug build would allocate the
    // floats on every use, so there the tables are arrays, made once.
#if DEBUG
    private static readonly float[] s_tanhTable = TanhData.ToArray(), s_sigmoidTable = SigmoidData.ToArray();
#endif

    /// <summary>The segments' coefficients, c0 of every segment, then c1, … c5 (16 floats each).</summary>
    internal static ReadOnlySpan<float> TanhTable =>
#if DEBUG
        s_tanhTable;
#else
        TanhData;
#endif

    /// <summary>As <see cref="TanhTable"/> for σ(a) − ½ = ½ tanh(a/2): with σ's u twice tanh's (s = 1.5 against 0.75), segment for segment exactly half tanh's table.</summary>
    internal static ReadOnlySpan<float> SigmoidTable =>
#if DEBUG
        s_sigmoidTable;
#else
        SigmoidData;
#endif

    private static ReadOnlySpan<float> TanhData =>
    [
        // c0
        0.062418748f, 0.18533319f, 0.3583574f, 0.5545997f, 0.7039056f, 0.8093011f, 0.9051483f, 0.9640276f,
        0.9866143f, 0.9950547f, 0.9988944f, 0.9998503f, 0.99997973f, 0.99999726f, 0.9999999f, 1f,
        // c1
        0.49805194f, 0.48282582f, 0.87158f, 0.6924192f, 0.5045169f, 0.34503177f, 0.3614132f, 0.14130165f,
        0.053184453f, 0.019732075f, 0.008839621f, 0.0011974575f, 0.00016207923f, 2.1935424E-05f, 2.1851347E-06f, 0f,
        // c2
        -0.01554384f, -0.044741698f, -0.31232762f, -0.38401216f, -0.35513407f, -0.27923712f, -0.65432835f, -0.27243632f,
        -0.10493879f, -0.039265703f, -0.03526459f, -0.004781442f, -0.000647261f, -8.760024E-05f, -1.698934E-05f, 0f,
        // c3
        -0.04101916f, -0.03608938f, -0.17860007f, -0.017835576f, 0.08180577f, 0.11097461f, 0.702599f, 0.33688384f,
        0.13616669f, 0.051838618f, 0.09391649f, 0.012758425f, 0.0017275496f, 0.00023381463f, 9.211026E-05f, 0f,
        // c4
        0.0025670435f, 0.0070509785f, 0.16649108f, 0.13733211f, 0.061099656f, 0.0037006172f, -0.38868722f, -0.28645113f,
        -0.129839f, -0.051369324f, -0.19639155f, -0.026815636f, -0.0036334563f, -0.00049181463f, -0.0004535922f, 0f,
        // c5
        0.004020316f, 0.0030172097f, 0.01895456f, -0.054450728f, -0.058590736f, -0.03202853f, -0.09696437f, 0.1510021f,
        0.091664806f, 0.039273605f, 0.30688712f, 0.042249337f, 0.005731017f, 0.00077585055f, 0.0013743198f, 0f
    ];

    private static ReadOnlySpan<float> SigmoidData =>
    [
        // c0
        0.031209374f, 0.092666596f, 0.1791787f, 0.27729985f, 0.3519528f, 0.40465054f, 0.45257416f, 0.4820138f,
        0.49330714f, 0.49752736f, 0.4994472f, 0.49992514f, 0.49998987f, 0.49999863f, 0.49999994f, 0.5f,
        // c1
        0.24902597f, 0.24141291f, 0.43579f, 0.3462096f, 0.25225845f, 0.17251588f, 0.1807066f, 0.07065082f,
        0.026592227f, 0.009866037f, 0.0044198106f, 0.0005987288f, 8.1039616E-05f, 1.0967712E-05f, 1.0925673E-06f, 0f,
        // c2
        -0.00777192f, -0.022370849f, -0.15616381f, -0.19200608f, -0.17756703f, -0.13961856f, -0.32716417f, -0.13621816f,
        -0.052469395f, -0.019632852f, -0.017632294f, -0.002390721f, -0.0003236305f, -4.380012E-05f, -8.49467E-06f, 0f,
        // c3
        -0.02050958f, -0.01804469f, -0.08930004f, -0.008917788f, 0.040902887f, 0.055487305f, 0.3512995f, 0.16844192f,
        0.068083346f, 0.025919309f, 0.046958245f, 0.0063792127f, 0.0008637748f, 0.000116907315f, 4.605513E-05f, 0f,
        // c4
        0.0012835218f, 0.0035254892f, 0.08324554f, 0.068666056f, 0.030549828f, 0.0018503086f, -0.19434361f, -0.14322557f,
        -0.0649195f, -0.025684662f, -0.09819578f, -0.013407818f, -0.0018167282f, -0.00024590731f, -0.0002267961f, 0f,
        // c5
        0.002010158f, 0.0015086049f, 0.00947728f, -0.027225364f, -0.029295368f, -0.016014265f, -0.048482183f, 0.07550105f,
        0.045832403f, 0.019636802f, 0.15344356f, 0.021124668f, 0.0028655084f, 0.00038792528f, 0.0006871599f, 0f
    ];

    /// <summary>tanh(x) (<see cref="Avx512F"/> only; the callers also ask for <see cref="Avx512BW"/>, which the half-octave form before this one used).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<float> magnitude = Vector512.Abs(x);
        Vector512<int> segment = Locate(magnitude, TanhStart, out Vector512<float> t);
        Vector512<float> t2 = t * t;
        Vector512<float> p25 = Terms(TanhTable, segment, t, t2, out Vector512<float> p01);
        // tanh(|x|) ≥ 0 takes x's sign bit (one vpternlogd); below 2^-12, where tanh(x) is x to the last bit, and for a NaN, x itself.
        Vector512<float> y = Vector512.MultiplyAddEstimate(t2, p25, p01) | (x & Vector512.Create(-0f));
        return Vector512.ConditionalSelect(Avx512F.CompareNotGreaterThanOrEqual(magnitude, Vector512.Create(TanhIsX)), x, y);
    }

    /// <summary>σ(x) (<see cref="Avx512F"/> only, as <see cref="Tanh"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        Vector512<int> segment = Locate(Vector512.Abs(x), SigmoidStart, out Vector512<float> t);
        Vector512<float> t2 = t * t;
        Vector512<float> p25 = Terms(SigmoidTable, segment, t, t2, out Vector512<float> p01);
        // ½ + s·(p01 + t²·p25), s = ±1 by x's sign: s applied by flipping sign bits (exact), the ½ added off the chain.
        Vector512<float> sign = x & Vector512.Create(-0f);
        Vector512<float> y = Vector512.MultiplyAddEstimate(t2 ^ sign, p25, (p01 ^ sign) + Vector512.Create(0.5f));
        // Not below 0: where σ(x) is under the rounding of p01 near ½ (x ≈ −18, σ ≈ 2e-8), ½ − p01 can be −2^-24 and
        // the sum −2e-8 (the positive side rounds to at most 1). NaN in, NaN out.
        return Vector512.ConditionalSelect(Avx512F.CompareUnordered(x, x), x, Vector512.MaxNative(y, Vector512<float>.Zero));
    }

    /// <summary>Where tanh's segments start: u = |x| + 0.75 (segment 0: x in [0, 0.125)).</summary>
    internal const float TanhStart = 0.75f;

    /// <summary>Below this |x|, tanh(x) is x rounded (x − x³/3 differs from x by less than half a float step).</summary>
    internal const float TanhIsX = 1f / 4096;

    /// <summary>Where σ's segments start: u = |x| + 1.5 (segment 0: x in [0, 0.25)).</summary>
    internal const float SigmoidStart = 1.5f;

    /// <summary>
    /// The segment of each lane's |x| (<paramref name="magnitude"/>; see the remarks) and the polynomial's variable
    /// <paramref name="t"/> there: u = |x| + <paramref name="start"/>, its float quarter-octave counted from
    /// <paramref name="start"/>'s (at most 15, the limit), and t its place in that quarter.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Locate(Vector512<float> magnitude, float start, out Vector512<float> t)
    {
        Vector512<uint> bits = (magnitude + Vector512.Create(start)).AsUInt32();
        // The exponent and the two top mantissa bits (bits >> 21), 4 per octave, counted from start's (a quarter
        // boundary: its 21 low bits are zero); from the 16th quarter on, and for ∞ and NaN, segment 15.
        Vector512<uint> segment = Vector512.Min((bits - Vector512.Create(BitConverter.SingleToUInt32Bits(start))) >> 21, Vector512.Create(15u));
        // The 21 low mantissa bits as a number in [1, 1.25), less 1.125: t in [−⅛, ⅛), finite for ∞ and NaN too
        // (segment 15's polynomial is the constant limit).
        t = ((bits & Vector512.Create(0x001F_FFFFu)) | Vector512.Create(0x3F80_0000u)).AsSingle() - Vector512.Create(1.125f);
        return segment.AsInt32();
    }

    /// <summary>The polynomial's parts with each lane's segment's coefficients: (c2 + c3 t) + t²(c4 + c5 t), returned, and <paramref name="p01"/> = c0 + c1 t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Terms(ReadOnlySpan<float> table, Vector512<int> segment, Vector512<float> t, Vector512<float> t2, out Vector512<float> p01)
    {
        p01 = Vector512.MultiplyAddEstimate(Coefficient(table, 1, segment), t, Coefficient(table, 0, segment));
        Vector512<float> p23 = Vector512.MultiplyAddEstimate(Coefficient(table, 3, segment), t, Coefficient(table, 2, segment));
        Vector512<float> p45 = Vector512.MultiplyAddEstimate(Coefficient(table, 5, segment), t, Coefficient(table, 4, segment));
        return Vector512.MultiplyAddEstimate(t2, p45, p23);
    }

    /// <summary>Coefficient <paramref name="k"/> of each lane's segment: one permute of the table's row (<c>vpermps</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Coefficient(ReadOnlySpan<float> table, int k, Vector512<int> segment)
        => Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(table), (nuint)(16 * k)), segment);
}

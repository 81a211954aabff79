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
/// The argument's magnitude a = |x| picks one of 16 segments by its float bits alone (one saturating subtraction, one
/// shift, one minimum; integer operations of one cycle each): segment 0 is a below the first octave (tanh: 1/16; σ:
/// 1/8), segments 1–14 are seven octaves cut in halves (the exponent and the top mantissa bit), and segment 15 is
/// everything from the last octave's end on (tanh: 8, where tanh is 1 − 2.3e-7; σ: 16, where σ is 1 − 1.1e-7), whose
/// polynomial is the constant limit. Within a half-octave the polynomial's variable t = (the 22 low mantissa bits as a
/// number in [1, 1.5)) − 1.25 ∈ [−¼, ¼), which takes one bitwise operation and one (masked) subtraction, beside the
/// lookup, and is finite for every |x| from the first half-octave on, ∞ included; in segment 0, and for a NaN (whose
/// bits pick segment 15), t = a. So NaN stays NaN, and ±∞ (segment 15, the constant limit) gives ±1 (σ: 1, 0) exactly.
/// </para>
/// <para>
/// Each segment holds a degree-5 polynomial in t, evaluated as (c0 + c1 t) + t²((c2 + c3 t) + t²(c4 + c5 t)): three
/// multiply-adds deep after the lookup, the three pairs side by side. Its coefficients are Chebyshev interpolation of
/// the function at six nodes of the half-octave, rounded to float, in the tables below (the test
/// <c>ActivationTests</c> rebuilds them with the same method and checks them and the error bound). Segment 0 is the
/// Taylor polynomial at 0 (tanh: a − a³/3; σ − ½: a/4 − a³/48), whose error at the segment's end is 1.3e-7 and
/// 6.5e-8. tanh(|x|) takes x's sign bit (an OR); σ(x) = (½ + s·(c0 + c1 t)) + (s·t²)(…) with s = ±1 applied by
/// flipping sign bits (exact), so that the ½ is added off the chain, not after the last multiply-add.
/// </para>
/// <para>
/// Measured against double precision the absolute error is at most 4.4e-7 (tanh) and 2.6e-7 (σ); the rational
/// function's is 2.4e-7 and 1.5e-7. What it buys is time. Sixteen segments make each table row one register, so each
/// coefficient is one single-source permute (<c>vpermps</c>) of one aligned constant, where the previous form of this class (seven
/// octaves in quarters, 30 segments, degree 4) took a two-source permute of two loads (<c>vpermt2ps</c>): 6 loads and 6
/// permutes per activation instead of 10 and 5, at the same depth. A streaming LSTM step of 32 units makes ten of
/// these; against that form, a copy of the block kernel of <c>Lstm(1→32)</c> ran 1.23× as fast in a probe (Zen 5;
/// side by side, the generated kernels 1.13–1.25×: docs/performance.md).
/// A first version of the quarter-octave form (which capped a with a float minimum before the lookup, clamped the
/// segment with a signed maximum and added σ's ½ after the polynomial) took 30 cycles per σ and per tanh in a dependent
/// chain where the rational functions took 54 and 47 (Xeon, AVX-512).
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

    /// <summary>As <see cref="TanhTable"/> for σ(a) − ½ = ½ tanh(a/2) (so, octave for octave, half tanh's table, but for segment 0).</summary>
    internal static ReadOnlySpan<float> SigmoidTable =>
#if DEBUG
        s_sigmoidTable;
#else
        SigmoidData;
#endif

    private static ReadOnlySpan<float> TanhData =>
    [
        // c0
        0f, 0.077966444f, 0.10894093f, 0.15499073f, 0.21532634f, 0.30270973f, 0.41157004f, 0.5545997f,
        0.7039056f, 0.84828377f, 0.94137555f, 0.9866139f, 0.9981778f, 0.9999089f, 0.99999833f, 1f,
        // c1
        1f, 0.062120076f, 0.061758243f, 0.12199724f, 0.11920432f, 0.2270917f, 0.20765252f, 0.3462096f,
        0.25225845f, 0.28041482f, 0.11381208f, 0.05318452f, 0.00728181f, 0.0007266439f, 1.3310175E-05f, 0f,
        // c2
        0f, -0.00030270507f, -0.00042050003f, -0.0023635547f, -0.0032084782f, -0.017185679f, -0.021365857f, -0.09600304f,
        -0.08878352f, -0.23790453f, -0.107144445f, -0.10484604f, -0.014515067f, -0.0028248692f, -5.1743067E-05f, 0f,
        // c3
        -0.33333334f, -7.941046E-05f, -7.7551274E-05f, -0.00058961107f, -0.0005344971f, -0.0034305062f, -0.002127707f, -0.002229447f,
        0.010225722f, 0.10832068f, 0.06292584f, 0.13614897f, 0.019300332f, 0.00765615f, 0.00014026593f, 0f,
        // c4
        0f, 7.809466E-07f, 1.07534E-06f, 2.371449E-05f, 3.107389E-05f, 0.00061598903f, 0.0006626359f, 0.008583257f,
        0.0038187285f, -0.011169651f, -0.023328185f, -0.13301054f, -0.02010256f, -0.018832741f, -0.00034536046f, 0f,
        // c5
        0f, 1.2063947E-07f, 1.14580445E-07f, 3.271338E-06f, 2.5925574E-06f, 4.4439563E-05f, -5.8436017E-06f, -0.0017015852f,
        -0.0018309605f, -0.019621199f, 0.0035129914f, 0.09227765f, 0.015608445f, 0.028503707f, 0.0005231883f, 0f
    ];

    private static ReadOnlySpan<float> SigmoidData =>
    [
        // c0
        0f, 0.038983222f, 0.054470465f, 0.07749537f, 0.10766317f, 0.15135486f, 0.20578502f, 0.27729985f,
        0.3519528f, 0.42414188f, 0.47068778f, 0.49330696f, 0.4990889f, 0.49995446f, 0.49999917f, 0.5f,
        // c1
        0.25f, 0.031060038f, 0.030879121f, 0.06099862f, 0.05960216f, 0.11354585f, 0.10382626f, 0.1731048f,
        0.12612922f, 0.14020741f, 0.05690604f, 0.02659226f, 0.003640905f, 0.00036332195f, 6.6550874E-06f, 0f,
        // c2
        0f, -0.00015135253f, -0.00021025001f, -0.0011817773f, -0.0016042391f, -0.008592839f, -0.010682928f, -0.04800152f,
        -0.04439176f, -0.11895227f, -0.053572223f, -0.05242302f, -0.0072575337f, -0.0014124346f, -2.5871534E-05f, 0f,
        // c3
        -0.020833334f, -3.970523E-05f, -3.8775637E-05f, -0.00029480553f, -0.00026724854f, -0.0017152531f, -0.0010638535f, -0.0011147235f,
        0.005112861f, 0.05416034f, 0.03146292f, 0.06807449f, 0.009650166f, 0.003828075f, 7.013296E-05f, 0f,
        // c4
        0f, 3.904733E-07f, 5.3767E-07f, 1.1857245E-05f, 1.5536945E-05f, 0.00030799452f, 0.00033131795f, 0.0042916285f,
        0.0019093642f, -0.0055848253f, -0.011664093f, -0.06650527f, -0.01005128f, -0.009416371f, -0.00017268023f, 0f,
        // c5
        0f, 6.0319735E-08f, 5.7290222E-08f, 1.635669E-06f, 1.2962787E-06f, 2.2219781E-05f, -2.9218008E-06f, -0.0008507926f,
        -0.00091548025f, -0.0098105995f, 0.0017564957f, 0.046138827f, 0.0078042224f, 0.014251853f, 0.00026159416f, 0f
    ];

    /// <summary>tanh(x) (<see cref="Avx512F"/> and <see cref="Avx512BW"/> only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<int> segment = Locate(x, firstExponent: -4, out Vector512<float> t);
        Vector512<float> t2 = t * t;
        Vector512<float> p25 = Terms(TanhTable, segment, t, t2, out Vector512<float> p01);
        // tanh(|x|) ≥ 0 takes x's sign bit (one vpternlogd).
        return Vector512.MultiplyAddEstimate(t2, p25, p01) | (x & Vector512.Create(-0f));
    }

    /// <summary>σ(x) (<see cref="Avx512F"/> and <see cref="Avx512BW"/> only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        Vector512<int> segment = Locate(x, firstExponent: -3, out Vector512<float> t);
        Vector512<float> t2 = t * t;
        Vector512<float> p25 = Terms(SigmoidTable, segment, t, t2, out Vector512<float> p01);
        // ½ + s·(p01 + t²·p25), s = ±1 by x's sign: s applied by flipping sign bits (exact), the ½ added off the chain.
        Vector512<float> sign = x & Vector512.Create(-0f);
        return Vector512.MultiplyAddEstimate(t2 ^ sign, p25, (p01 ^ sign) + Vector512.Create(0.5f));
    }

    /// <summary>
    /// The segment of each lane's |x| (see the remarks) and the polynomial's variable <paramref name="t"/> there.
    /// <paramref name="firstExponent"/>: the first half-octave starts at 2^firstExponent; from 2^(firstExponent + 7)
    /// on, segment 15.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Locate(Vector512<float> x, int firstExponent, out Vector512<float> t)
    {
        Vector512<float> magnitude = Vector512.Abs(x);
        Vector512<uint> bits = magnitude.AsUInt32();
        // Exponent and top mantissa bit (bits >> 22), 2 per octave, less those below the first half-octave's:
        // subtracted from the upper 16-bit halves with unsigned saturation, so that everything below the first
        // half-octave lands on segment 0; then at most 15 (the limit; also ∞ and NaN).
        Vector512<uint> first = Vector512.Create((uint)(2 * (127 + firstExponent) - 1) << 22);
        Vector512<uint> above = Avx512BW.SubtractSaturate(bits.AsUInt16(), first.AsUInt16()).AsUInt32();
        Vector512<int> segment = Vector512.Min(above >> 22, Vector512.Create(15u)).AsInt32();
        // Within a half-octave (and past the last: any finite t, the limit's polynomial being constant), t from the 22
        // low mantissa bits; below the first, and for a NaN (for which the ordered compare is false), t = |x|.
        Vector512<float> withinHalf = ((bits & Vector512.Create(0x003F_FFFFu)) | Vector512.Create(0x3F80_0000u)).AsSingle() - Vector512.Create(1.25f);
        Vector512<float> inHalves = Avx512F.CompareGreaterThanOrEqual(magnitude, Vector512.Create(BitConverter.UInt32BitsToSingle((uint)(127 + firstExponent) << 23)));
        t = Vector512.ConditionalSelect(inHalves, withinHalf, magnitude);
        return segment;
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

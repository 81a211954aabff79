using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGen.__Internals;

/// <summary>
/// tanh and σ on 16 lanes as piecewise polynomials looked up in registers (AVX-512 <c>vpermt2ps</c>): the short
/// dependency chain a one-row streaming step waits on, twice per LSTM step.
/// </summary>
/// <remarks>
/// <para>
/// The argument's magnitude a = |x| picks one of 30 segments by its float bits alone (one saturating subtraction, one
/// shift, one minimum; integer operations of one cycle each): segment 0 is a below the first octave (tanh: 1/16; σ:
/// 1/8), segments 1–28 are seven octaves cut in quarters (the exponent and the top two mantissa bits), and segment 29
/// is everything from the last octave's end on (tanh: 8, where tanh is 1 − 2.3e-7; σ: 16, where σ is 1 − 1.1e-7),
/// whose polynomial is the constant limit. Within a quarter-octave the polynomial's variable t = (the 21 low mantissa
/// bits as a number in [1, 1.25)) − 1.125 ∈ [−⅛, ⅛), which takes one bitwise operation and one (masked) subtraction,
/// beside the lookup, and is finite for every |x| from the first quarter-octave on, ∞ included; in segment 0, and for a
/// NaN (whose bits pick segment 29), t = a. So NaN stays NaN, and ±∞ (segment 29, the constant limit) gives ±1 (σ: 1,
/// 0) exactly.
/// </para>
/// <para>
/// Each segment holds a degree-4 polynomial in t, c0 + c1 t + t²(c2 + t(c3 + c4 t)) (three multiply-adds deep after
/// the lookup; entries 29–31 of the 32-entry tables hold the limit): Chebyshev interpolation of the function at five
/// nodes of the quarter-octave, rounded to float, in the tables below (the test <c>ActivationTests</c> rebuilds them
/// with the same method and checks them and the error bound). Segment 0 is the Taylor polynomial at 0 (tanh: a − a³/3;
/// σ − ½: a/4 − a³/48), whose error at the segment's end is 1.3e-7 and 6.5e-8. tanh(|x|) takes x's sign bit (an OR);
/// σ(x) = (½ + s·(c0 + c1 t)) + (s·t²)(c2 + …) with s = ±1 applied by flipping sign bits (exact), so that the ½ is
/// added off the chain, not after the last multiply-add.
/// </para>
/// <para>
/// Measured against double precision the absolute error is at most 3.2e-7 (tanh) and 1.9e-7 (σ), the rational
/// function's 2.4e-7 and 1.5e-7. What it buys is latency. A first version (which capped a with a float minimum before
/// the lookup, clamped the segment with a signed maximum and added σ's ½ after the polynomial) took 30 cycles per σ and
/// per tanh in a dependent chain where the rational functions took 54 and 47 (Xeon, AVX-512; that round's measurement).
/// Against that first version, in one process on the same Xeon (best of three runs), a dependent chain of this σ runs
/// 1.5× as fast and of this tanh 1.25×, and four independent chains of σ 1.3–1.5× (tanh: within ±7%).
/// </para>
/// </remarks>
internal static class SegmentedActivation
{
    /// <summary>The segments' coefficients, c0 of every segment, then c1, … c4 (32 floats each).</summary>
    internal static readonly float[] TanhTable =
    [
        // c0
        0f, 0.07019686f, 0.08572657f, 0.10121473f, 0.11665399f, 0.1397053f, 0.17020231f, 0.20037672f,
        0.2301757f, 0.2740616f, 0.33082113f, 0.38528398f, 0.43718877f, 0.50983f, 0.59637356f, 0.6709671f,
        0.7340715f, 0.8093011f, 0.8798267f, 0.9253462f, 0.95404524f, 0.9780261f, 0.99185973f, 0.99699765f,
        0.99889445f, 0.99975324f, 0.9999666f, 0.99999547f, 0.9999994f, 1f, 1f, 1f,
        // c1
        1f, 0.062192027f, 0.062040683f, 0.061859723f, 0.06164949f, 0.1225603f, 0.1213789f, 0.11998115f,
        0.118377395f, 0.23122256f, 0.22263935f, 0.21288906f, 0.20221649f, 0.3700368f, 0.32216945f, 0.27490175f,
        0.23056963f, 0.3450342f, 0.2259057f, 0.14373426f, 0.08979729f, 0.08692012f, 0.032423906f, 0.011989553f,
        0.004419072f, 0.0019687952f, 0.0002665018f, 3.6068093E-05f, 4.8813035E-06f, 0f, 0f, 0f,
        // c2
        0f, -0.0002728553f, -0.00033240844f, -0.0003913197f, -0.00044947868f, -0.0021402906f, -0.002582371f, -0.0030051786f,
        -0.00340595f, -0.015842304f, -0.018413449f, -0.020505685f, -0.022101695f, -0.09432785f, -0.09606661f, -0.09222497f,
        -0.08462727f, -0.279236f, -0.19875807f, -0.13300437f, -0.08567106f, -0.17003576f, -0.06432653f, -0.023909668f,
        -0.008829331f, -0.007887378f, -0.0010678897f, -0.00014453138f, -1.9560346E-05f, 0f, 0f, 0f,
        // c3
        -0.33333334f, -7.977972E-05f, -7.89988E-05f, -7.8068784E-05f, -7.699348E-05f, -0.00060089194f, -0.0005771802f, -0.0005495766f,
        -0.0005185061f, -0.0037305683f, -0.003114821f, -0.002459948f, -0.0017975179f, -0.0068173874f, 0.0017607302f, 0.00799321f,
        0.011814706f, 0.1103491f, 0.09938553f, 0.07519125f, 0.051891614f, 0.21918795f, 0.08556665f, 0.032169294f,
        0.011929158f, 0.022383565f, 0.0030323868f, 0.00041044576f, 5.5548833E-05f, 0f, 0f, 0f,
        // c4
        0f, 7.052783E-07f, 8.560679E-07f, 1.0033599E-06f, 1.1465762E-06f, 2.1638392E-05f, 2.5726633E-05f, 2.9413955E-05f,
        3.265408E-05f, 0.0005853843f, 0.00064093363f, 0.00066384155f, 0.000656611f, 0.009580362f, 0.007465771f, 0.004993198f,
        0.0027091498f, 0.0036284127f, -0.021138016f, -0.025137313f, -0.020851444f, -0.19806595f, -0.08228171f, -0.031611122f,
        -0.011814067f, -0.043812715f, -0.0059408727f, -0.00080421986f, -0.000108843175f, 0f, 0f, 0f
    ];

    /// <summary>As <see cref="TanhTable"/> for σ(a) − ½ = ½ tanh(a/2) (so, octave for octave, half tanh's table, but for segment 0).</summary>
    internal static readonly float[] SigmoidTable =
    [
        // c0
        0f, 0.03509843f, 0.042863283f, 0.050607365f, 0.058326993f, 0.06985265f, 0.08510116f, 0.10018836f,
        0.11508785f, 0.1370308f, 0.16541056f, 0.19264199f, 0.21859439f, 0.254915f, 0.29818678f, 0.33548355f,
        0.36703575f, 0.40465054f, 0.43991336f, 0.4626731f, 0.47702262f, 0.48901305f, 0.49592987f, 0.49849883f,
        0.49944723f, 0.49987662f, 0.4999833f, 0.49999774f, 0.4999997f, 0.5f, 0.5f, 0.5f,
        // c1
        0.25f, 0.031096013f, 0.031020341f, 0.030929862f, 0.030824745f, 0.06128015f, 0.06068945f, 0.059990574f,
        0.059188697f, 0.11561128f, 0.111319676f, 0.10644453f, 0.101108246f, 0.1850184f, 0.16108473f, 0.13745087f,
        0.115284815f, 0.1725171f, 0.11295285f, 0.07186713f, 0.044898644f, 0.04346006f, 0.016211953f, 0.0059947767f,
        0.002209536f, 0.0009843976f, 0.0001332509f, 1.8034047E-05f, 2.4406518E-06f, 0f, 0f, 0f,
        // c2
        0f, -0.00013642765f, -0.00016620422f, -0.00019565986f, -0.00022473934f, -0.0010701453f, -0.0012911855f, -0.0015025893f,
        -0.001702975f, -0.007921152f, -0.009206724f, -0.010252843f, -0.011050847f, -0.047163926f, -0.048033305f, -0.046112485f,
        -0.042313635f, -0.139618f, -0.09937903f, -0.06650218f, -0.04283553f, -0.08501788f, -0.032163266f, -0.011954834f,
        -0.0044146655f, -0.003943689f, -0.00053394487f, -7.226569E-05f, -9.780173E-06f, 0f, 0f, 0f,
        // c3
        -0.020833334f, -3.988986E-05f, -3.94994E-05f, -3.9034392E-05f, -3.849674E-05f, -0.00030044597f, -0.0002885901f, -0.0002747883f,
        -0.00025925305f, -0.0018652842f, -0.0015574105f, -0.001229974f, -0.00089875894f, -0.0034086937f, 0.0008803651f, 0.003996605f,
        0.005907353f, 0.05517455f, 0.049692765f, 0.037595626f, 0.025945807f, 0.10959397f, 0.042783324f, 0.016084647f,
        0.005964579f, 0.011191783f, 0.0015161934f, 0.00020522288f, 2.7774417E-05f, 0f, 0f, 0f,
        // c4
        0f, 3.5263915E-07f, 4.2803396E-07f, 5.0167995E-07f, 5.732881E-07f, 1.0819196E-05f, 1.2863316E-05f, 1.4706978E-05f,
        1.632704E-05f, 0.00029269216f, 0.00032046682f, 0.00033192078f, 0.0003283055f, 0.004790181f, 0.0037328855f, 0.002496599f,
        0.0013545749f, 0.0018142064f, -0.010569008f, -0.012568656f, -0.010425722f, -0.099032976f, -0.041140854f, -0.015805561f,
        -0.0059070336f, -0.021906357f, -0.0029704364f, -0.00040210993f, -5.4421587E-05f, 0f, 0f, 0f
    ];

    /// <summary>tanh(x) (<see cref="Avx512F"/> and <see cref="Avx512BW"/> only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<int> segment = Locate(x, firstExponent: -4, out Vector512<float> t);
        Vector512<float> p24 = Terms(TanhTable, segment, t, out Vector512<float> p01);
        // tanh(|x|) ≥ 0 takes x's sign bit (one vpternlogd).
        return Vector512.MultiplyAddEstimate(t * t, p24, p01) | (x & Vector512.Create(-0f));
    }

    /// <summary>σ(x) (<see cref="Avx512F"/> and <see cref="Avx512BW"/> only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        Vector512<int> segment = Locate(x, firstExponent: -3, out Vector512<float> t);
        Vector512<float> p24 = Terms(SigmoidTable, segment, t, out Vector512<float> p01);
        // ½ + s·(p01 + t²·p24), s = ±1 by x's sign: s applied by flipping sign bits (exact), the ½ added off the chain.
        Vector512<float> sign = x & Vector512.Create(-0f);
        return Vector512.MultiplyAddEstimate(t * (t ^ sign), p24, (p01 ^ sign) + Vector512.Create(0.5f));
    }

    /// <summary>
    /// The segment of each lane's |x| (see the remarks) and the polynomial's variable <paramref name="t"/> there.
    /// <paramref name="firstExponent"/>: the first quarter-octave starts at 2^firstExponent; from 2^(firstExponent + 7)
    /// on, segment 29.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Locate(Vector512<float> x, int firstExponent, out Vector512<float> t)
    {
        Vector512<float> magnitude = Vector512.Abs(x);
        Vector512<uint> bits = magnitude.AsUInt32();
        // Exponent and top two mantissa bits (bits >> 21), 4 per octave, less those below the first quarter-octave's:
        // subtracted from the upper 16-bit halves with unsigned saturation, so that everything below the first
        // quarter-octave lands on segment 0; then at most 29 (the limit; also ∞ and NaN).
        Vector512<uint> first = Vector512.Create((uint)(4 * (127 + firstExponent) - 1) << 21);
        Vector512<uint> above = Avx512BW.SubtractSaturate(bits.AsUInt16(), first.AsUInt16()).AsUInt32();
        Vector512<int> segment = Vector512.Min(above >> 21, Vector512.Create(29u)).AsInt32();
        // Within a quarter-octave (and past the last: any finite t, the limit's polynomial being constant), t from the 21
        // low mantissa bits; below the first, and for a NaN (for which the ordered compare is false), t = |x|.
        Vector512<float> withinQuarter = ((bits & Vector512.Create(0x001F_FFFFu)) | Vector512.Create(0x3F80_0000u)).AsSingle() - Vector512.Create(1.125f);
        Vector512<float> inQuarters = Avx512F.CompareGreaterThanOrEqual(magnitude, Vector512.Create(BitConverter.UInt32BitsToSingle((uint)(127 + firstExponent) << 23)));
        t = Vector512.ConditionalSelect(inQuarters, withinQuarter, magnitude);
        return segment;
    }

    /// <summary>The polynomial's two parts with each lane's segment's coefficients: c2 + t(c3 + c4 t), returned, and <paramref name="p01"/> = c0 + c1 t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Terms(float[] table, Vector512<int> segment, Vector512<float> t, out Vector512<float> p01)
    {
        p01 = Vector512.MultiplyAddEstimate(Coefficient(table, 1, segment), t, Coefficient(table, 0, segment));
        return Vector512.MultiplyAddEstimate(Vector512.MultiplyAddEstimate(Coefficient(table, 4, segment), t, Coefficient(table, 3, segment)), t, Coefficient(table, 2, segment));
    }

    /// <summary>Coefficient <paramref name="k"/> of each lane's segment: one two-register permute of the table's row (<c>vpermt2ps</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Coefficient(float[] table, int k, Vector512<int> segment)
    {
        ref float row = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(table), 32 * k);
        return Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref row), segment, Vector512.LoadUnsafe(ref row, 16));
    }
}

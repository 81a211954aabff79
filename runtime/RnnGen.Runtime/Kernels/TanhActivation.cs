using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGen.__Internals;

/// <summary>
/// tanh as a clamped rational function: an odd degree-13 numerator over an even degree-6 denominator,
/// evaluated on x clamped to ±7.90531110763549805 (where the rational rounds to ±1), and x itself
/// for |x| &lt; 0.0004. These are Eigen's coefficients (<c>ptanh_float</c>, also used by ONNX Runtime's
/// MLAS); measured against double-precision tanh over [-20, 20] the absolute error is below 1e-6
/// (see the test <c>ActivationTests</c>). Finite input never gives NaN; NaN stays NaN. The 16-lane form with AVX-512
/// is a segmented polynomial instead (<see cref="SegmentedActivation"/>: 16 segments of degree 5, each coefficient one
/// single-source permute of one load; within 1.7e-7).
/// </summary>
/// <remarks>
/// Both polynomials are evaluated by Estrin's scheme (terms paired in x², the pairs combined with x⁴, then x⁸)
/// rather than Horner's: the same coefficients with a dependency chain of 3 multiply-adds instead of 6 for the
/// numerator, which is what a one-row streaming step waits on (each LSTM step runs two activations back to back).
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct TanhActivation : IActivation
{
    private const float Clamp = 7.90531110763549805f;
    private const float Tiny = 0.0004f;
    private const float A1 = 4.89352455891786e-03f;
    private const float A3 = 6.37261928875436e-04f;
    private const float A5 = 1.48572235717979e-05f;
    private const float A7 = 5.12229709037114e-08f;
    private const float A9 = -8.60467152213735e-11f;
    private const float A11 = 2.00018790482477e-13f;
    private const float A13 = -2.76076847742355e-16f;
    private const float B0 = 4.89352518554385e-03f;
    private const float B2 = 2.26843463243900e-03f;
    private const float B4 = 1.18534705686654e-04f;
    private const float B6 = 1.19825839466702e-06f;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float x)
    {
        if (float.Abs(x) < Tiny)
            return x;
        float c = float.Clamp(x, -Clamp, Clamp); // NaN stays NaN
        float x2 = c * c, x4 = x2 * x2, x8 = x4 * x4;
        float p03 = x4 * (x2 * A7 + A5) + (x2 * A3 + A1);
        float p46 = x4 * A13 + (x2 * A11 + A9);
        float p = (x8 * p46 + p03) * c;
        float q = x4 * (x2 * B6 + B4) + (x2 * B2 + B0);
        return p / q;
    }

    /// <inheritdoc/>
    /// <remarks>tanh' = 1 − tanh².</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DerivativeFromOutput(float y) => 1f - y * y;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> x)
    {
        // MinNative/MaxNative with x second: on x86 the second operand is returned when either is NaN.
        Vector128<float> c = Vector128.MaxNative(Vector128.Create(-Clamp), Vector128.MinNative(Vector128.Create(Clamp), x));
        Vector128<float> x2 = c * c, x4 = x2 * x2, x8 = x4 * x4;
        // Estrin's scheme (see the type's remarks): pairs in x², then x⁴, then x⁸.
        Vector128<float> p01 = Vector128.MultiplyAddEstimate(x2, Vector128.Create(A3), Vector128.Create(A1));
        Vector128<float> p23 = Vector128.MultiplyAddEstimate(x2, Vector128.Create(A7), Vector128.Create(A5));
        Vector128<float> p45 = Vector128.MultiplyAddEstimate(x2, Vector128.Create(A11), Vector128.Create(A9));
        Vector128<float> p03 = Vector128.MultiplyAddEstimate(x4, p23, p01);
        Vector128<float> p46 = Vector128.MultiplyAddEstimate(x4, Vector128.Create(A13), p45);
        Vector128<float> p = Vector128.MultiplyAddEstimate(x8, p46, p03) * c;
        Vector128<float> q = Vector128.MultiplyAddEstimate(x4,
            Vector128.MultiplyAddEstimate(x2, Vector128.Create(B6), Vector128.Create(B4)),
            Vector128.MultiplyAddEstimate(x2, Vector128.Create(B2), Vector128.Create(B0)));
        return Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(x), Vector128.Create(Tiny)), x, p / q);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> c = Vector256.MaxNative(Vector256.Create(-Clamp), Vector256.MinNative(Vector256.Create(Clamp), x));
        Vector256<float> x2 = c * c, x4 = x2 * x2, x8 = x4 * x4;
        // Estrin's scheme (see the type's remarks): pairs in x², then x⁴, then x⁸.
        Vector256<float> p01 = Vector256.MultiplyAddEstimate(x2, Vector256.Create(A3), Vector256.Create(A1));
        Vector256<float> p23 = Vector256.MultiplyAddEstimate(x2, Vector256.Create(A7), Vector256.Create(A5));
        Vector256<float> p45 = Vector256.MultiplyAddEstimate(x2, Vector256.Create(A11), Vector256.Create(A9));
        Vector256<float> p03 = Vector256.MultiplyAddEstimate(x4, p23, p01);
        Vector256<float> p46 = Vector256.MultiplyAddEstimate(x4, Vector256.Create(A13), p45);
        Vector256<float> p = Vector256.MultiplyAddEstimate(x8, p46, p03) * c;
        Vector256<float> q = Vector256.MultiplyAddEstimate(x4,
            Vector256.MultiplyAddEstimate(x2, Vector256.Create(B6), Vector256.Create(B4)),
            Vector256.MultiplyAddEstimate(x2, Vector256.Create(B2), Vector256.Create(B0)));
        return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Tiny)), x, p / q);
    }

    /// <inheritdoc/>
    /// <remarks>With AVX-512 (F and BW, which every CPU whose 512-bit kernels run natively has): the segmented polynomial of <see cref="SegmentedActivation"/>; without (software emulation of 512-bit vectors), the form of the narrower widths.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> x)
    {
        if (Avx512F.IsSupported && Avx512BW.IsSupported)
            return SegmentedActivation.Tanh(x);
        Vector512<float> c = Vector512.MaxNative(Vector512.Create(-Clamp), Vector512.MinNative(Vector512.Create(Clamp), x));
        Vector512<float> x2 = c * c, x4 = x2 * x2, x8 = x4 * x4;
        // Estrin's scheme (see the type's remarks): pairs in x², then x⁴, then x⁸.
        Vector512<float> p01 = Vector512.MultiplyAddEstimate(x2, Vector512.Create(A3), Vector512.Create(A1));
        Vector512<float> p23 = Vector512.MultiplyAddEstimate(x2, Vector512.Create(A7), Vector512.Create(A5));
        Vector512<float> p45 = Vector512.MultiplyAddEstimate(x2, Vector512.Create(A11), Vector512.Create(A9));
        Vector512<float> p03 = Vector512.MultiplyAddEstimate(x4, p23, p01);
        Vector512<float> p46 = Vector512.MultiplyAddEstimate(x4, Vector512.Create(A13), p45);
        Vector512<float> p = Vector512.MultiplyAddEstimate(x8, p46, p03) * c;
        Vector512<float> q = Vector512.MultiplyAddEstimate(x4,
            Vector512.MultiplyAddEstimate(x2, Vector512.Create(B6), Vector512.Create(B4)),
            Vector512.MultiplyAddEstimate(x2, Vector512.Create(B2), Vector512.Create(B0)));
        return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Tiny)), x, p / q);
    }
}

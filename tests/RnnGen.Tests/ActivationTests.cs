using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NUnit.Framework;
using RnnGen.__Internals;

namespace RnnGen.Tests;

[Category("Numeric")]
public class ActivationTests
{
    private const double TanhBound = 1e-6;
    private const double SigmoidBound = 5e-7;

    // The 16-lane forms with AVX-512 F and BW: the bounds SegmentedActivation's remarks document.
    private const double SegmentedTanhBound = 1.7e-7;
    private const double SegmentedSigmoidBound = 1.3e-7;
    private static bool Segmented => Avx512F.IsSupported && Avx512BW.IsSupported;

    private static float[] Grid()
    {
        // [-20, 20] every 2^-10 (40k points), plus the neighbourhoods of the rational form's clamp and tiny threshold and
        // of the segmented forms' ends (tanh(x) = x below 2^-12; the limits from 9.25 and 18.5) and a former one (8).
        var xs = new System.Collections.Generic.List<float>();
        for (int i = -20 * 1024; i <= 20 * 1024; i++)
            xs.Add(i / 1024f);
        foreach (float c in new[] { 7.90531110763549805f, 0.0004f, 1f / 4096, 0.125f, 8f, 9.25f, 18.5f })
            for (int i = -64; i <= 64; i++)
            {
                xs.Add(c + i * 1e-6f);
                xs.Add(-c - i * 1e-6f);
            }
        xs.AddRange(new[] { 1e-30f, -1e-30f, 0f, -0f, 88f, -88f, 1e30f, -1e30f, float.MaxValue, float.MinValue });
        return xs.ToArray();
    }

    [Test]
    public void ScalarTanhIsWithinBoundOfDoublePrecision()
    {
        double worst = 0;
        foreach (float x in Grid())
            worst = Math.Max(worst, Math.Abs(TanhActivation.Invoke(x) - Math.Tanh(x)));
        TestContext.Out.WriteLine($"scalar tanh max abs error {worst:E3}");
        Assert.That(worst, Is.LessThanOrEqualTo(TanhBound));
    }

    [Test]
    public void VectorTanhMatchesDoublePrecisionAtEveryWidth()
    {
        float[] xs = Grid();
        double w128 = 0, w256 = 0, w512 = 0;
        int outOfRange = 0;
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            Vector512<float> v = Vector512.Create(xs.AsSpan(i, 16));
            Vector512<float> r512 = TanhActivation.Invoke(v);
            Vector256<float> r256a = TanhActivation.Invoke(v.GetLower()), r256b = TanhActivation.Invoke(v.GetUpper());
            for (int j = 0; j < 16; j++)
            {
                double exact = Math.Tanh(xs[i + j]);
                w512 = Math.Max(w512, Math.Abs(r512[j] - exact));
                outOfRange += Math.Abs(r512[j]) <= 1f ? 0 : 1;
                w256 = Math.Max(w256, Math.Abs((j < 8 ? r256a[j] : r256b[j - 8]) - exact));
                w128 = Math.Max(w128, Math.Abs(TanhActivation.Invoke(Vector128.Create(xs.AsSpan(i + j / 4 * 4, 4)))[j % 4] - exact));
            }
        }
        TestContext.Out.WriteLine($"tanh max abs error: 128-bit {w128:E3}, 256-bit {w256:E3}, 512-bit {w512:E3}");
        Assert.Multiple(() =>
        {
            Assert.That(w128, Is.LessThanOrEqualTo(TanhBound));
            Assert.That(w256, Is.LessThanOrEqualTo(TanhBound));
            Assert.That(w512, Is.LessThanOrEqualTo(Segmented ? SegmentedTanhBound : TanhBound));
            Assert.That(outOfRange, Is.Zero, "16-lane |tanh| ≤ 1 everywhere");
        });
    }

    [Test]
    public void TanhSaturatesAndPropagatesNaN()
    {
        Assert.Multiple(() =>
        {
            Assert.That(TanhActivation.Invoke(float.PositiveInfinity), Is.EqualTo(1f).Within(1e-6));
            Assert.That(TanhActivation.Invoke(float.NegativeInfinity), Is.EqualTo(-1f).Within(1e-6));
            Assert.That(float.IsNaN(TanhActivation.Invoke(float.NaN)), Is.True);
            Vector256<float> v = TanhActivation.Invoke(Vector256.Create(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, 1e30f, -1e30f, 3f, -3f));
            Assert.That(float.IsNaN(v[0]), Is.True, "NaN in, NaN out");
            Assert.That(v[1], Is.EqualTo(1f).Within(1e-6));
            Assert.That(v[2], Is.EqualTo(-1f).Within(1e-6));
            Assert.That(v[3], Is.EqualTo(0f));
            Assert.That(v[4], Is.EqualTo(1f).Within(1e-6));
            Assert.That(v[6], Is.EqualTo((float)Math.Tanh(3)).Within(1e-6));
        });
    }

    [Test]
    public void VectorSigmoidMatchesDoublePrecisionAtEveryWidth()
    {
        float[] xs = Grid();
        double w128 = 0, w256 = 0, w512 = 0, wScalar = 0;
        int outOfRange = 0;
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            Vector512<float> v = Vector512.Create(xs.AsSpan(i, 16));
            Vector512<float> r512 = SigmoidActivation.Invoke(v);
            Vector256<float> r256a = SigmoidActivation.Invoke(v.GetLower()), r256b = SigmoidActivation.Invoke(v.GetUpper());
            for (int j = 0; j < 16; j++)
            {
                double exact = 1 / (1 + Math.Exp(-(double)xs[i + j]));
                w512 = Math.Max(w512, Math.Abs(r512[j] - exact));
                outOfRange += r512[j] is >= 0f and <= 1f ? 0 : 1;
                w256 = Math.Max(w256, Math.Abs((j < 8 ? r256a[j] : r256b[j - 8]) - exact));
                w128 = Math.Max(w128, Math.Abs(SigmoidActivation.Invoke(Vector128.Create(xs.AsSpan(i + j / 4 * 4, 4)))[j % 4] - exact));
                wScalar = Math.Max(wScalar, Math.Abs(SigmoidActivation.Invoke(xs[i + j]) - exact));
            }
        }
        TestContext.Out.WriteLine($"sigmoid max abs error: scalar {wScalar:E3}, 128-bit {w128:E3}, 256-bit {w256:E3}, 512-bit {w512:E3}");
        Assert.Multiple(() =>
        {
            Assert.That(wScalar, Is.LessThanOrEqualTo(SigmoidBound));
            Assert.That(w128, Is.LessThanOrEqualTo(SigmoidBound));
            Assert.That(w256, Is.LessThanOrEqualTo(SigmoidBound));
            Assert.That(w512, Is.LessThanOrEqualTo(Segmented ? SegmentedSigmoidBound : SigmoidBound));
            Assert.That(outOfRange, Is.Zero, "16-lane σ in [0, 1] everywhere");
        });
    }

    [Test]
    public void SixteenLaneActivationsSaturateKeepSignsAndPropagateNaN()
    {
        // Every special value; where tanh(x) stops being x (2^-12); segment 0's end (tanh: 0.125, σ: 0.25); and where the
        // segmented forms become the limit itself (tanh: 9.25, σ: 18.5).
        Vector512<float> x = Vector512.Create(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-30f, -1e-40f, 1e30f,
            9.25f, -9.25f, 1f / 4096, -0.125f, 18.5f, -18.5f, float.MaxValue, -0.25f);
        Vector512<float> tanh = TanhActivation.Invoke(x), sigmoid = SigmoidActivation.Invoke(x);
        Assert.Multiple(() =>
        {
            Assert.That(float.IsNaN(tanh[0]) && float.IsNaN(sigmoid[0]), Is.True, "NaN in, NaN out");
            Assert.That(BitConverter.SingleToUInt32Bits(tanh[4]), Is.EqualTo(BitConverter.SingleToUInt32Bits(-0f)), "tanh(-0) = -0");
            Assert.That(tanh[5], Is.EqualTo(1e-30f), "tanh(x) = x for tiny x");
            Assert.That(tanh[6], Is.EqualTo(-1e-40f), "denormals too");
            Assert.That(sigmoid[3], Is.EqualTo(0.5f), "σ(0) = ½");
            Assert.That(sigmoid[4], Is.EqualTo(0.5f), "σ(-0) = ½");
            foreach (int j in Avx512F.IsSupported && Avx512BW.IsSupported ? new[] { 1, 2, 7, 8, 9, 12, 13, 14 } : Array.Empty<int>())
            {
                Assert.That(tanh[j], j is 1 or 7 or 8 or 12 or 14 ? Is.EqualTo(1f) : Is.EqualTo(-1f), $"tanh({x[j]:R}) is ±1 exactly");
                if (j is not 8 and not 9)
                    Assert.That(sigmoid[j], j is 1 or 7 or 12 or 14 ? Is.EqualTo(1f) : Is.EqualTo(0f), $"σ({x[j]:R}) is 0 or 1 exactly");
            }
            for (int j = 1; j < 16; j++)
            {
                double exactTanh = Math.Tanh(x[j]), exactSigmoid = 1 / (1 + Math.Exp(-(double)x[j]));
                Assert.That(tanh[j], Is.EqualTo(exactTanh).Within(TanhBound), $"tanh({x[j]:R})");
                Assert.That(sigmoid[j], Is.EqualTo(exactSigmoid).Within(SigmoidBound), $"σ({x[j]:R})");
                Assert.That(Math.Sign(tanh[j]), Is.EqualTo(Math.Sign(x[j])), $"tanh({x[j]:R}) keeps the sign");
                Assert.That(Math.Abs(tanh[j]), Is.LessThanOrEqualTo(1f), $"|tanh({x[j]:R})| ≤ 1");
                Assert.That(sigmoid[j], Is.InRange(0f, 1f), $"σ({x[j]:R}) in [0, 1]");
            }
        });
    }

    [Test]
    public void SegmentedTablesAreTheDocumentedInterpolation()
    {
        // Rebuilt from the method SegmentedActivation's remarks describe, in double precision, then rounded to float:
        // a stale or hand-edited coefficient fails here, not only in the error bound.
        AssertTable(SegmentedActivation.TanhTable, Math.Tanh, SegmentedActivation.TanhStart, limit: 1);
        AssertTable(SegmentedActivation.SigmoidTable, a => 0.5 * Math.Tanh(a / 2), SegmentedActivation.SigmoidStart, limit: 0.5);
        Assert.Multiple(() =>
        {
            // tanh(x) is x below TanhIsX.
            double tiny = SegmentedActivation.TanhIsX;
            Assert.That(tiny - Math.Tanh(tiny), Is.LessThan(0.5 * Math.ScaleB(1, -24) * tiny), "tanh(x) rounds to x below TanhIsX");
        });
    }

    /// <summary>
    /// Segment s of u = |x| + start is the float quarter-octave whose first u has the bits of start + s·2^21; segments
    /// 0–14 hold f there as the degree-5 polynomial in t through six Chebyshev nodes (u = 2^e (1.125 + q/4 + t), t ∈ [−⅛, ⅛]),
    /// segment 15 the limit.
    /// </summary>
    private static void AssertTable(ReadOnlySpan<float> table, Func<double, double> f, float start, double limit)
    {
        Assert.That(table.Length, Is.EqualTo(6 * 16));
        Assert.That(BitConverter.SingleToUInt32Bits(start) & 0x1F_FFFF, Is.Zero, "start is a quarter-octave boundary");
        for (int segment = 0; segment < 16; segment++)
        {
            uint first = BitConverter.SingleToUInt32Bits(start) + ((uint)segment << 21);
            double scale = Math.ScaleB(1, (int)(first >> 23) - 127), mid = 1.125 + ((first >> 21) & 3) / 4.0;
            double[] expected = segment == 15 ? new[] { limit, 0, 0, 0, 0, 0 } : Interpolate(t => f(scale * (mid + t) - start));
            for (int k = 0; k < 6; k++)
            {
                float actual = table[16 * k + segment];
                // The double coefficient rounded to float (within half a float step), or, for the small high-order ones,
                // within what moves c_k·t^k (|t| ≤ ⅛) by 1e-12: a libm under Math.Tanh that differs in its last bit at a
                // node moves a segment's high-order coefficients by more than a rounding where they are tiny.
                float magnitude = MathF.Abs((float)expected[k]);
                Assert.That(actual, Is.EqualTo(expected[k]).Within(0.5 * (MathF.BitIncrement(magnitude) - magnitude) + 1e-12 * Math.Pow(8, k)), $"segment {segment}, c{k}");
            }
        }
    }

    /// <summary>g(t) on t ∈ [−⅛, ⅛]: the degree-5 polynomial through the six Chebyshev nodes, in powers of t.</summary>
    private static double[] Interpolate(Func<double, double> g)
    {
        const int N = 6;
        double[] nodes = new double[N], c = new double[N];
        for (int i = 0; i < N; i++)
            nodes[i] = 0.125 * Math.Cos(Math.PI * (i + 0.5) / N);
        // Newton's divided differences, then the Newton form expanded into powers of t.
        double[] d = Array.ConvertAll(nodes, t => g(t));
        for (int j = 1; j < N; j++)
            for (int i = N - 1; i >= j; i--)
                d[i] = (d[i] - d[i - 1]) / (nodes[i] - nodes[i - j]);
        for (int i = N - 1; i >= 0; i--)
        {
            // c := c · (t − nodes[i]) + d[i]
            for (int k = N - 1; k > 0; k--)
                c[k] = c[k - 1] - c[k] * nodes[i];
            c[0] = d[i] - c[0] * nodes[i];
        }
        return c;
    }

    [Test]
    public void ReluIsMaxWithZeroAndPropagatesNaN()
    {
        Vector128<float> v = ReluActivation.Invoke(Vector128.Create(-2f, 0.5f, float.NaN, float.NegativeInfinity));
        Assert.Multiple(() =>
        {
            Assert.That(v[0], Is.EqualTo(0f));
            Assert.That(v[1], Is.EqualTo(0.5f));
            Assert.That(float.IsNaN(v[2]), Is.True);
            Assert.That(v[3], Is.EqualTo(0f));
            Assert.That(ReluActivation.Invoke(-1f), Is.EqualTo(0f));
            Assert.That(float.IsNaN(ReluActivation.Invoke(float.NaN)), Is.True);
            Assert.That(ReluActivation.Invoke(Vector512.Create(-1f))[0], Is.EqualTo(0f));
        });
    }
}

using System;
using System.Runtime.Intrinsics;
using NUnit.Framework;
using RnnGen.__Internals;

namespace RnnGen.Tests;

[Category("Numeric")]
public class ActivationTests
{
    private const double TanhBound = 1e-6;

    private static float[] Grid()
    {
        // [-20, 20] every 2^-10 (40k points), plus the neighbourhood of the clamp and of the tiny threshold.
        var xs = new System.Collections.Generic.List<float>();
        for (int i = -20 * 1024; i <= 20 * 1024; i++)
            xs.Add(i / 1024f);
        foreach (float c in new[] { 7.90531110763549805f, 0.0004f })
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
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            Vector512<float> v = Vector512.Create(xs.AsSpan(i, 16));
            Vector512<float> r512 = TanhActivation.Invoke(v);
            Vector256<float> r256a = TanhActivation.Invoke(v.GetLower()), r256b = TanhActivation.Invoke(v.GetUpper());
            for (int j = 0; j < 16; j++)
            {
                double exact = Math.Tanh(xs[i + j]);
                w512 = Math.Max(w512, Math.Abs(r512[j] - exact));
                w256 = Math.Max(w256, Math.Abs((j < 8 ? r256a[j] : r256b[j - 8]) - exact));
                w128 = Math.Max(w128, Math.Abs(TanhActivation.Invoke(Vector128.Create(xs.AsSpan(i + j / 4 * 4, 4)))[j % 4] - exact));
            }
        }
        TestContext.Out.WriteLine($"tanh max abs error: 128-bit {w128:E3}, 256-bit {w256:E3}, 512-bit {w512:E3}");
        Assert.Multiple(() =>
        {
            Assert.That(w128, Is.LessThanOrEqualTo(TanhBound));
            Assert.That(w256, Is.LessThanOrEqualTo(TanhBound));
            Assert.That(w512, Is.LessThanOrEqualTo(TanhBound));
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

using System;
using NUnit.Framework;

namespace RnnGen.Tests.Support;

/// <summary>Random data and the project's forward tolerance: |actual − expected| ≤ 1e-5 · max(1, |expected|).</summary>
internal static class Numerics
{
    public const double ForwardTolerance = 1e-5;

    /// <summary>A fresh seed per run (printed by the caller), so every run draws new cases.</summary>
    public static int FreshSeed() => Random.Shared.Next();

    /// <summary>
    /// Runs <paramref name="calls"/> until the process is in steady state before allocations are counted: at least 200
    /// times and at least one second, so that workspaces have grown and the tiered JIT has finished promoting the hot
    /// methods (its call counting starts ~100 ms after the last new method, then compiles in the background).
    /// </summary>
    public static void WarmUp(Action calls)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 200 || clock.ElapsedMilliseconds < 1000; i++)
            calls();
    }

    public static float[] Uniform(Random random, int length, float bound = 1f)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
            values[i] = (2f * random.NextSingle() - 1f) * bound;
        return values;
    }

    /// <summary>The floats' bits, for comparisons that must be exact (NaNs and signed zeros included).</summary>
    public static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
            bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        return bits;
    }

    /// <summary>The largest |a − e| / max(1, |e|); NaN anywhere counts as infinite.</summary>
    public static double MaxScaledError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), "lengths differ");
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double err = Math.Abs(a - e) / Math.Max(1.0, Math.Abs(e));
            if (double.IsNaN(err))
                return double.PositiveInfinity;
            worst = Math.Max(worst, err);
        }
        return worst;
    }

    public const double GradientTolerance = 1e-4;

    /// <summary>
    /// ‖actual − expected‖₂ / max(‖expected‖₂, 0.01·√n). The floor keeps a gradient that nearly cancels (a
    /// 1x1 weight_hh of a hidden-size-1 layer summing a few terms of opposite sign, say) from turning float32
    /// rounding into a large relative error: below an RMS of 0.01 per element the comparison becomes absolute,
    /// 1e-6 RMS at the 1e-4 tolerance.
    /// </summary>
    public static double RelativeNormError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), "lengths differ");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }
        double err = Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 0.01 * Math.Sqrt(actual.Length));
        return double.IsNaN(err) ? double.PositiveInfinity : err;
    }

    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what, double tolerance = ForwardTolerance)
    {
        double err = MaxScaledError(actual, expected);
        Assert.That(err, Is.LessThanOrEqualTo(tolerance), $"{what}: max scaled error {err:E3} exceeds {tolerance:E1}");
    }
}

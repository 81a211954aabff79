using System;
using System.Linq;

namespace RnnGen.Demo;

/// <summary>Small helpers to print like the PyTorch tutorial does.</summary>
internal static class Tensor
{
    /// <summary>Standard normal values (Box–Muller), like torch.randn.</summary>
    public static float[] RandN(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return values;
    }

    public static string Shape(params int[] dims) => $"[{string.Join(", ", dims)}]";

    public static string Shape(ReadOnlySpan<int> dims) => Shape(dims.ToArray());

    public static string Row(float[] values, int start, int count) =>
        "[" + string.Join(", ", values.Skip(start).Take(count).Select(v => v.ToString("F4"))) + "]";
}

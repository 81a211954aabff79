using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace RnnGen.Tests.Support;

/// <summary>What the file-reader fuzz tests share: bitwise comparison, failure reports with the input saved, text edits.</summary>
internal static class Fuzzing
{
    /// <summary>Bit-for-bit equality of floats (NaN payloads and signed zeros included).</summary>
    public static bool BitwiseEqual(ReadOnlySpan<float> a, float[] b) =>
        MemoryMarshal.Cast<float, uint>(a).SequenceEqual(MemoryMarshal.Cast<float, uint>(b.AsSpan()));

    /// <summary>Saves the failing input beside the test results and fails with the seed and case that replay it.</summary>
    public static void Fail(string fileName, int seed, int index, byte[] bytes, string what)
    {
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, fileName);
        File.WriteAllBytes(path, bytes);
        Assert.Fail($"seed {seed}, case {index}: {what}\nbytes saved to {path}");
    }

    /// <summary>Replaces one randomly chosen match of <paramref name="pattern"/> (the text unchanged when none).</summary>
    public static string ReplaceOne(Random random, string text, Regex pattern, Func<Match, string> replacement)
    {
        MatchCollection matches = pattern.Matches(text);
        if (matches.Count == 0)
            return text;
        Match m = matches[random.Next(matches.Count)];
        return text[..m.Index] + replacement(m) + text[(m.Index + m.Length)..];
    }

    /// <summary>Inserts <paramref name="token"/> at a random place (with <paramref name="afterBrace"/>, just after the next '{').</summary>
    public static string Insert(Random random, string text, string token, bool afterBrace = false)
    {
        int at = random.Next(text.Length + 1);
        if (afterBrace)
        {
            int brace = text.IndexOf('{', at < text.Length ? at : 0);
            at = brace < 0 ? at : brace + 1;
        }
        return text[..at] + token + text[at..];
    }
}

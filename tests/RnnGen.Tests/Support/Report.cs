using System;
using System.IO;
using NUnit.Framework;

namespace RnnGen.Tests.Support;

/// <summary>
/// Summary lines (largest errors per path, seeds) for the test log and, when RNNGEN_REPORT names a file,
/// appended there too, so that CI can print them after all its runs.
/// </summary>
internal static class Report
{
    private static readonly object s_gate = new();

    public static void Line(string text)
    {
#if DEBUG
        text = "Debug build: " + text; // CI's run with the runtime's asserts on
#endif
        TestContext.Out.WriteLine(text);
        string? path = Environment.GetEnvironmentVariable("RNNGEN_REPORT");
        if (string.IsNullOrEmpty(path))
            return;
        lock (s_gate)
            File.AppendAllText(path, text + Environment.NewLine);
    }
}

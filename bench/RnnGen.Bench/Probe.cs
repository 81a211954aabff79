using System;
using System.Diagnostics;

namespace RnnGen.Bench;

// Development probe (not a benchmark): the fastest of many short timings, robust to a noisy machine.
internal static class Probe
{
    public static void Run(string? only = null)
    {
        s_only = only;
        if (only is not null && only.StartsWith("forward:", StringComparison.Ordinal))
        {
            var forward = new SequenceForward { Case = only.Substring("forward:".Length) };
            forward.GlobalSetup();
            Report(only, forward.RnnGen);
            return;
        }
        if (only is not null && only.StartsWith("training:", StringComparison.Ordinal))
        {
            var training = new SequenceTraining { Case = only.Substring("training:".Length) };
            training.GlobalSetup();
            Report(only, training.RnnGen);
            return;
        }
        foreach (string module in new[] { "LstmCell", "Lstm" })
            foreach (int hidden in new[] { 16, 32 })
            {
                var c = new StreamingLstm { Module = module, Hidden = hidden };
                c.Setup();
                Report($"{module}{hidden}", () => c.RnnGen());
            }
        foreach (string module in new[] { "GruCell", "RnnCell" })
        {
            var c = new StreamingCell { Module = module };
            c.Setup();
            Report(module, () => c.RnnGen());
        }
    }

    private static string? s_only;

    private static void Report(string name, Func<float> f)
    {
        if (s_only is not null && s_only != name)
            return;
        long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // a second: tiered compilation reaches tier 1
        while (Stopwatch.GetTimestamp() < until)
            f();
        double best = double.MaxValue;
        long t1 = Stopwatch.GetTimestamp();
        f();
        int calls = (int)Math.Clamp(1e6 / Math.Max(1, Stopwatch.GetElapsedTime(t1).TotalNanoseconds), 1, 1000);
        for (int rep = 0; rep < 300; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) f();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalNanoseconds / calls);
        }
        Console.WriteLine($"{name}: {best:F1} ns");
    }
}

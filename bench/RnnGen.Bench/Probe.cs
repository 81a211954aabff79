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
        if (only == "scaling")
        {
            Scaling();
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

    /// <summary>Where splitting the batch over threads stops paying: Lstm(128,128) s100 forward over batch sizes, 1 thread and every core.</summary>
    private static void Scaling()
    {
        foreach (int batch in new[] { 4, 8, 16, 32, 64 })
        {
            var lstm = new Lstm128(1);
            float[] x = new float[100 * batch * 128], output = new float[100 * batch * 128];
            float[] hN = new float[batch * 128], cN = new float[batch * 128];
            for (int i = 0; i < x.Length; i++)
                x[i] = MathF.Sin(i * 0.1f);
            double one = 0;
            foreach (int threads in new[] { 1, Environment.ProcessorCount })
            {
                Parallelism.MaxDegreeOfParallelism = threads;
                s_only = null;
                double ns = Time(() => { lstm.Forward(x, 100, batch, output, hN, cN); return output[0]; });
                if (threads == 1)
                    one = ns;
                Console.WriteLine($"Lstm(128,128) s100 b{batch}, {threads} thread(s): {ns / 1e3:F0} µs" + (threads > 1 ? $"  speed-up {one / ns:F2}x" : ""));
            }
            Parallelism.MaxDegreeOfParallelism = 1;
        }
    }

    private static double Time(Func<float> f)
    {
        long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < until)
            f();
        double best = double.MaxValue;
        for (int rep = 0; rep < 50; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            f();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        }
        return best;
    }

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

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Text;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using RnnGen.Bench.Peers;

namespace RnnGen.Bench;

/// <summary>
/// The quick comparison: every case and peer through BenchmarkDotNet with a short job (in-process, 2 warm-up
/// and 7 measured iterations of about 100 ms), then one table: medians, RnnGen's speed-up over each peer,
/// RnnGen's GFLOP/s and its share of this machine's FP32 FMA peak (measured here, one core), bytes allocated.
/// </summary>
internal static class Compare
{
    private static readonly string[] s_peers = { "generic fallback", "PyTorch", "ONNX Runtime", "RTNeural" };

    public static void Run()
    {
        var stopwatch = Stopwatch.StartNew();
        double peak = MeasurePeakGflops();
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(100));
        // RTNeural runs where it is built (RNNGEN_RTNEURAL: see bench/rtneural/build.sh); else its column reads "—".
        var config = DefaultConfig.Instance.AddJob(job).AddDiagnoser(MemoryDiagnoser.Default).WithOptions(ConfigOptions.DisableLogFile)
            .AddFilter(new SimpleFilter(c => RtNeuralPeer.Available || c.Descriptor.WorkloadMethod.Name != nameof(StreamBlock.RtNeural)));
        Type[] types = { typeof(StreamingLstm), typeof(StreamingCell), typeof(StreamBlock), typeof(SequenceForward), typeof(ParallelForward), typeof(SequenceTraining) };
        // Counted before the runs: set up again after them, the peers once crashed the process in libtorch (a segfault
        // in libtorch_cpu.so / libc10.so, twice), and the table was lost.
        var allocations = new Dictionary<(Type, string), double>();
        foreach (Type type in types)
            foreach (var group in BenchmarkConverter.TypeToBenchmarks(type, config).BenchmarksCases.GroupBy(c => c.Parameters.DisplayInfo))
                allocations[(type, group.Key)] = AllocatedPerCall(Instance(group.First()));
        Summary[] summaries = BenchmarkRunner.Run(types, config);

        var rows = new List<(string Case, double Flops, int Threads, Dictionary<string, double> Median, double Allocated)>();
        foreach (Summary summary in summaries)
        {
            foreach (var group in summary.Reports.GroupBy(r => r.BenchmarkCase.Parameters.DisplayInfo))
            {
                BenchmarkReport first = group.First();
                CaseBase instance = Instance(first.BenchmarkCase);
                var medians = new Dictionary<string, double>();
                foreach (BenchmarkReport report in group)
                {
                    if (report.ResultStatistics is not null)
                        medians[report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\'')] = report.ResultStatistics.Median;
                }
                rows.Add((instance.CaseName, instance.Flops, instance is SequenceForwardBase s ? s.ThreadCount : 1, medians,
                    allocations.GetValueOrDefault((first.BenchmarkCase.Descriptor.Type, group.Key), double.NaN)));
            }
        }

        var table = new StringBuilder();
        table.AppendLine($"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformationText()}; FP32 FMA peak measured here: {peak:F0} GFLOP/s per core. All peers single-threaded, except in the \", N threads\" rows: every peer at N threads there, and % of peak against N cores.");
        table.AppendLine();
        table.AppendLine("| case | RnnGen | generic fallback | PyTorch 2.10 | ONNX Runtime 1.31 | RTNeural | × generic | × PyTorch | × ORT | × RTNeural | RnnGen GFLOP/s | % of peak | RnnGen bytes/call |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, flops, threads, median, allocated) in rows)
        {
            median.TryGetValue("RnnGen", out double ours);
            string Time(string peer) => median.TryGetValue(peer, out double t) ? Format(t) : "—";
            string Ratio(string peer) => median.TryGetValue(peer, out double t) && ours > 0 ? (t / ours).ToString("F1", CultureInfo.InvariantCulture) + "×" : "—";
            double gflops = ours > 0 ? flops / ours : double.NaN;
            table.AppendLine(string.Join(" | ",
                "| " + name, Time("RnnGen"), Time(s_peers[0]), Time(s_peers[1]), Time(s_peers[2]), Time(s_peers[3]),
                Ratio(s_peers[0]), Ratio(s_peers[1]), Ratio(s_peers[2]), Ratio(s_peers[3]),
                gflops.ToString("F1", CultureInfo.InvariantCulture), (100 * gflops / (peak * threads)).ToString("F0", CultureInfo.InvariantCulture) + "%",
                double.IsNaN(allocated) ? "?" : allocated.ToString("F0", CultureInfo.InvariantCulture)) + " |");
        }
        table.AppendLine();
        table.AppendLine($"Medians of BenchmarkDotNet (in-process, 7 iterations of ~100 ms after 2 warm-ups); '—': the peer has no such operation. Whole run: {stopwatch.Elapsed.TotalMinutes:F1} min.");
        Console.WriteLine();
        Console.WriteLine(table.ToString());
        string path = Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts", "compare.md");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, table.ToString());
        Console.WriteLine($"Written to {path}");
    }

    /// <summary>A new instance of the case's class with the case's parameters set (not set up).</summary>
    private static CaseBase Instance(BenchmarkCase benchmark)
    {
        var instance = (CaseBase)Activator.CreateInstance(benchmark.Descriptor.Type)!;
        foreach (var parameter in benchmark.Parameters.Items)
            instance.GetType().GetProperty(parameter.Name)!.SetValue(instance, parameter.Value);
        return instance;
    }

    /// <summary>
    /// Bytes RnnGen allocates per steady-state call, counted directly (GC.GetAllocatedBytesForCurrentThread over
    /// ten calls after 0.3 s of calls): BenchmarkDotNet's per-iteration figure cannot amortise its own in-process
    /// noise over calls that take milliseconds.
    /// </summary>
    private static double AllocatedPerCall(CaseBase instance)
    {
        MethodInfo[] methods = instance.GetType().GetMethods();
        methods.Single(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null).Invoke(instance, null);
        // A delegate, not MethodInfo.Invoke, which would box every float it returns.
        var baseline = methods.Single(m => m.GetCustomAttribute<BenchmarkAttribute>() is { Baseline: true }).CreateDelegate<Func<float>>(instance);
        // Counted before BenchmarkDotNet runs the case: first ~0.3 s of calls, so that the JIT has promoted the code
        // (unoptimised code may allocate where optimised code does not).
        for (long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3 / 10; Stopwatch.GetTimestamp() < end;)
            baseline();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
            baseline();
        double perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 10.0;
        methods.SingleOrDefault(m => m.GetCustomAttribute<GlobalCleanupAttribute>() is not null)?.Invoke(instance, null);
        return perCall;
    }

    private static string Format(double ns) => ns switch
    {
        < 1_000 => ns.ToString("F0", CultureInfo.InvariantCulture) + " ns",
        < 1_000_000 => (ns / 1_000).ToString("F2", CultureInfo.InvariantCulture) + " µs",
        _ => (ns / 1_000_000).ToString("F2", CultureInfo.InvariantCulture) + " ms",
    };

    private static string RuntimeInformationText() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, kernels on the {Simd.Path} path";

    /// <summary>
    /// The FP32 FMA peak of one core: twelve independent chains of fused multiply-adds on the widest hardware
    /// vector, for about 0.3 s (best of three). Only the denominator of "% of peak".
    /// </summary>
    private static double MeasurePeakGflops()
    {
        double best = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            const int Iterations = 10_000_000;
            var timer = Stopwatch.StartNew();
            float sink = Vector512.IsHardwareAccelerated ? Chains512(Iterations) : Chains256(Iterations);
            double seconds = timer.Elapsed.TotalSeconds;
            int lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
            best = Math.Max(best, 12.0 * 2 * lanes * Iterations / seconds / 1e9 + sink * 0);
        }
        return best;
    }

    private static float Chains256(int n)
    {
        Vector256<float> a = Vector256.Create(0.999f), b = Vector256.Create(1e-7f);
        Vector256<float> c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b, c8 = b, c9 = b, c10 = b, c11 = b;
        for (int i = 0; i < n; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b); c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b); c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b); c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    private static float Chains512(int n)
    {
        Vector512<float> a = Vector512.Create(0.999f), b = Vector512.Create(1e-7f);
        Vector512<float> c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b, c8 = b, c9 = b, c10 = b, c11 = b;
        for (int i = 0; i < n; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b); c2 = Vector512.FusedMultiplyAdd(c2, a, b);
            c3 = Vector512.FusedMultiplyAdd(c3, a, b); c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b); c8 = Vector512.FusedMultiplyAdd(c8, a, b);
            c9 = Vector512.FusedMultiplyAdd(c9, a, b); c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}

// Times builds of different commits side by side in one process: each probe build (bench/side-by-side/Probe.cs
// compiled against one checkout) loads into its own AssemblyLoadContext, with its own RnnGen.Runtime, and the
// harness alternates short chunks of each build's workload, in a new random order each round, (about 4 calls, tens of microseconds) for the given time
// after 1.5 s of warm-up each. So every build meets the same machine state, which on a noisy VM moves by tens of
// percent from one second to the next. Reports per case and build the fastest, 10th-percentile and median chunk
// (ns per sample), and the ratios of the first build's times to the others' (below 1: the first is faster). A case
// "a+b" is one row of several workloads, all builds' interleaved alike, named workload@build, ratios against the first.
// A build may also be a native peer, name=path/to/librtneural_probe.so (bench/rtneural/build.sh), timed alike.
//   Harness <cases, comma-separated> <seconds per case> <name=path/to/Probe.dll or .so>...
//   Harness --merge <output>...   the geometric means, per row and workload, of runs' outputs (run.sh: the builds named
//                                 in both orders, since the one named first can read up to ~15% slower), ratios as above
//   Harness --medians <output>... per row and workload, the range and median of the p10s over runs' outputs (run.sh with
//                                 SOLO=n: each build alone in its own process, n times), ratios of the medians
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text;

if (args.Length > 0 && args[0] is "--merge" or "--medians")
    return Merge.Run(args.Skip(1).ToArray(), medians: args[0] == "--medians");
string[] cases = args[0].Split(',');
double seconds = double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var builds = args.Skip(2).Select(a => a.Split('=', 2)).Select(p => (Name: p[0], Path: Path.GetFullPath(p[1]))).ToArray();
if (builds.Length == 0)
{
    Console.Error.WriteLine("usage: Harness <cases> <seconds> <name=Probe.dll>...");
    return 2;
}
// A build is a probe assembly (Probe.dll) or a native peer (a .so from bench/rtneural/build.sh).
var probes = builds.Select(b => b.Path.EndsWith(".so", StringComparison.Ordinal)
    ? null
    : new ProbeContext(b.Path).LoadFromAssemblyPath(b.Path).GetType("Probe", throwOnError: true)).ToArray();
foreach (string row in cases)
{
    // A row of several workloads ("block12+cell12") interleaves them all, every build's, chunk by chunk: their times
    // compare within the row too (as the block against the cell of an older commit).
    string[] names = row.Split('+');
    // A native peer runs only the cases it has (RTNeural: the per-sample ones, cellH and grucell).
    var entries = names.SelectMany(name => builds.Select((b, i) => (Label: names.Length == 1 ? b.Name : $"{name}@{b.Name}", Build: i, Case: name)))
        .Select(e => (e.Label, e.Case, Work: probes[e.Build] is Type probe
            ? (Func<float>?)probe.GetMethod("Make")!.Invoke(null, new object[] { e.Case })!
            : NativeProbe.Make(builds[e.Build].Path, e.Case),
            Samples: probes[e.Build] is Type p ? (int)p.GetMethod("Samples")!.Invoke(null, new object[] { e.Case })! : NativeProbe.Block))
        .Where(e => e.Work is not null).ToArray();
    if (entries.Length == 0)
    {
        Console.WriteLine($"{row,-9} | no build has these cases");
        continue;
    }
    var work = entries.Select(e => e.Work!).ToArray();
    var samples = entries.Select(e => e.Samples).ToArray();
    for (int round = 0; round < 3; round++)
        foreach (Func<float> f in work)
            for (long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2; Stopwatch.GetTimestamp() < until;)
                f();
    var times = work.Select(_ => new List<double>()).ToArray();
    // Each round takes the workloads in a new random order, so that none mostly follows the same one.
    var random = new Random(1);
    int[] order = Enumerable.Range(0, work.Length).ToArray();
    for (long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency); Stopwatch.GetTimestamp() < end;)
    {
        random.Shuffle(order);
        foreach (int i in order)
        {
            int calls = samples[i] == 1 ? 40 : 4;
            long start = Stopwatch.GetTimestamp();
            for (int k = 0; k < calls; k++)
                work[i]();
            times[i].Add((Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency / calls / samples[i]);
        }
    }
    foreach (List<double> t in times)
        t.Sort();
    double P(int i, double q) => times[i][(int)(q * (times[i].Count - 1))];
    Console.Write($"{row,-9}");
    for (int i = 0; i < work.Length; i++)
        Console.Write($" | {entries[i].Label}: min {P(i, 0),8:F1} p10 {P(i, 0.1),8:F1} p50 {P(i, 0.5),8:F1} ns");
    for (int i = 1; i < work.Length; i++)
        Console.Write($" | {entries[0].Label}/{entries[i].Label} p10 {P(0, 0.1) / P(i, 0.1):F3} p50 {P(0, 0.5) / P(i, 0.5):F3}");
    Console.WriteLine($" | chunks {times[0].Count}");
}
return 0;

/// <summary>One probe build's load context: its own copies of the probe and of RnnGen.Runtime.</summary>
internal sealed class ProbeContext(string probePath) : AssemblyLoadContext(isCollectible: false)
{
    private readonly AssemblyDependencyResolver _resolver = new(probePath);

    protected override Assembly? Load(AssemblyName name) =>
        _resolver.ResolveAssemblyToPath(name) is string path ? LoadFromAssemblyPath(path) : null;
}

/// <summary>
/// A native peer built by bench/rtneural/build.sh: its C API (rtn_make, rtn_run) runs the workload of Probe.cs's case of
/// the same name, 64 samples per call, each sample one forward call with the Dense(H→1) head, state carried.
/// </summary>
internal static unsafe class NativeProbe
{
    public const int Block = 64;

    /// <summary>The case's workload, or null where the peer has no such case.</summary>
    public static Func<float>? Make(string library, string name)
    {
        nint handle = NativeLibrary.Load(library);
        var make = (delegate* unmanaged<byte*, nint>)NativeLibrary.GetExport(handle, "rtn_make");
        nint run = NativeLibrary.GetExport(handle, "rtn_run");
        nint model;
        fixed (byte* n = Encoding.ASCII.GetBytes(name + "\0"))
            model = make(n);
        if (model == 0)
            return null;
        // The same input as Probe.cs, in pinned arrays (the peer keeps no pointer past a call). The workload captures the
        // arrays themselves, not only their addresses: a pinned array nothing references is collected like any other, and
        // the peer would then write its outputs into memory the GC has handed to something else.
        float[] x = GC.AllocateArray<float>(Block, pinned: true), y = GC.AllocateArray<float>(Block, pinned: true);
        for (int i = 0; i < Block; i++)
            x[i] = MathF.Sin(i * 0.37f);
        return () => ((delegate* unmanaged<nint, float*, float*, int, float>)run)(model, (float*)Unsafe.AsPointer(ref x[0]), (float*)Unsafe.AsPointer(ref y[0]), Block);
    }
}

/// <summary>
/// Combines the outputs of several runs of the same rows (the builds named in different orders): per row and workload,
/// the geometric means of the p10 and p50 times, and the first workload's ratios to the others (the first of the first
/// output: the first build as given), which are the geometric means of the runs' ratios. With <c>medians</c> (runs of
/// one build each, one process per run: what a step whose weights about fill L2 needs, since builds in one process
/// share the L2 and each process places its pages anew), the range and the median of each workload's p10s instead, and
/// the first workload's ratios to the others' medians.
/// </summary>
internal static class Merge
{
    public static int Run(string[] files, bool medians)
    {
        var rows = new List<string>();
        var times = new Dictionary<(string Row, string Label), List<(double P10, double P50)>>();
        var labels = new Dictionary<string, List<string>>();
        var entry = new System.Text.RegularExpressions.Regex(@"^\s*(\S+): min\s+[\d.]+ p10\s+([\d.]+) p50\s+([\d.]+) ns\s*$");
        foreach (string file in files)
            foreach (string line in File.ReadLines(file))
            {
                string[] parts = line.Split('|');
                if (parts.Length < 2 || line.StartsWith("machine", StringComparison.Ordinal))
                    continue;
                string row = parts[0].Trim();
                if (!labels.ContainsKey(row)) { rows.Add(row); labels[row] = new List<string>(); }
                foreach (string part in parts.Skip(1))
                {
                    var m = entry.Match(part);
                    if (!m.Success)
                        continue;
                    string label = m.Groups[1].Value;
                    if (!labels[row].Contains(label)) labels[row].Add(label);
                    var key = (row, label);
                    if (!times.TryGetValue(key, out var list)) times[key] = list = new List<(double, double)>();
                    list.Add((double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture)));
                }
            }
        Console.WriteLine(medians ? $"p10 per run: range and median per workload, over {files.Length} outputs" : $"geometric means of {files.Length} runs:");
        foreach (string row in rows.Where(r => labels[r].Count > 0))
        {
            // Per workload, what is printed and the figure(s) the ratios take: the medians of the p10s, or the geometric
            // means of the p10s and p50s.
            var summary = labels[row].ToDictionary(l => l, l =>
            {
                var runs = times[(row, l)];
                if (!medians)
                    return (Text: $"p10 {Geo(runs.Select(t => t.P10)),8:F1} p50 {Geo(runs.Select(t => t.P50)),8:F1} ns ({runs.Count} runs)",
                        Figures: new[] { ("p10", Geo(runs.Select(t => t.P10))), ("p50", Geo(runs.Select(t => t.P50))) });
                double[] p10 = runs.Select(t => t.P10).Order().ToArray();
                return (Text: $"{p10[0]:F1}–{p10[^1]:F1} median {Median(p10),8:F1} ns ({p10.Length} runs)", Figures: new[] { ("median", Median(p10)) });
            });
            Console.Write($"{row,-9}");
            foreach (string l in labels[row])
                Console.Write($" | {l}: {summary[l].Text}");
            string first = labels[row][0];
            foreach (string l in labels[row].Skip(1))
                Console.Write($" | {first}/{l} " + string.Join(" ", summary[first].Figures.Zip(summary[l].Figures, (a, b) => $"{a.Item1} {a.Item2 / b.Item2:F3}")));
            Console.WriteLine();
        }
        return 0;
    }

    private static double Geo(IEnumerable<double> values) => Math.Exp(values.Average(Math.Log));

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

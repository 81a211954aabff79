// Times builds of different commits side by side in one process: each probe build (bench/side-by-side/Probe.cs
// compiled against one checkout) loads into its own AssemblyLoadContext, with its own RnnGen.Runtime, and the
// harness alternates short chunks of each build's workload, in a new random order each round, (about 4 calls, tens of microseconds) for the given time
// after 1.5 s of warm-up each. So every build meets the same machine state, which on a noisy VM moves by tens of
// percent from one second to the next. Reports per case and build the fastest, 10th-percentile and median chunk
// (ns per sample), and the ratios of the first build's times to the others' (below 1: the first is faster). A case
// "a+b" is one row of several workloads, all builds' interleaved alike, named workload@build, ratios against the first.
//   Harness <cases, comma-separated> <seconds per case> <name=path/to/Probe.dll>...
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;

string[] cases = args[0].Split(',');
double seconds = double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var builds = args.Skip(2).Select(a => a.Split('=', 2)).Select(p => (Name: p[0], Path: Path.GetFullPath(p[1]))).ToArray();
if (builds.Length == 0)
{
    Console.Error.WriteLine("usage: Harness <cases> <seconds> <name=Probe.dll>...");
    return 2;
}
var contexts = builds.Select(b => new ProbeContext(b.Path)).ToArray();
var probes = contexts.Select((c, i) => c.LoadFromAssemblyPath(builds[i].Path).GetType("Probe", throwOnError: true)!).ToArray();
foreach (string row in cases)
{
    // A row of several workloads ("block12+cell12") interleaves them all, every build's, chunk by chunk: their times
    // compare within the row too (as the block against the cell of an older commit).
    string[] names = row.Split('+');
    var entries = names.SelectMany(name => builds.Select((b, i) => (Label: names.Length == 1 ? b.Name : $"{name}@{b.Name}", Probe: probes[i], Case: name))).ToArray();
    var work = new Func<float>[entries.Length];
    var samples = new int[entries.Length];
    for (int i = 0; i < entries.Length; i++)
    {
        work[i] = (Func<float>)entries[i].Probe.GetMethod("Make")!.Invoke(null, new object[] { entries[i].Case })!;
        samples[i] = (int)entries[i].Probe.GetMethod("Samples")!.Invoke(null, new object[] { entries[i].Case })!;
    }
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

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using RnnGen;

// Streams LstmCell(1->32) one sample per call, and Lstm(1->32) one 64-sample block per call, paced at 48 kHz:
// each block starts on its deadline, as an audio callback would, for 10 s. Each mode runs in a fresh process
// (this program starts itself), so its cold first call is really cold. Reported: the cold first call (JIT
// compilation under the JIT), then after the documented warm-up (one call) the first block, the worst block and
// the medians of the first and the last second, against the 1.33 ms budget of one block.

const int SampleRate = 48_000, BlockSize = 64;
double budgetUs = 1e6 * BlockSize / SampleRate;

if (args.Length >= 1 && (args[0] == "cell" || args[0] == "block"))
{
    double seconds = args.Length >= 2 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10;
    Stream(args[0], seconds);
    return;
}

string seconds10 = args.Length >= 1 ? args[0] : "10";
string runtime = RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "NativeAOT";
Console.WriteLine($"{runtime}, kernel path {Simd.Path}, {Environment.ProcessorCount} logical cores; 48 kHz, {BlockSize}-sample blocks (budget {budgetUs:F0} µs), {seconds10} s per mode");
Console.WriteLine();
Console.WriteLine("| mode | construction | cold first call | first block after warm-up | worst block | median, first second | median, last second | first / last | steady per sample |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (string mode in new[] { "cell", "block" })
{
    // Start this program again for each mode: the JIT (and the kernels' first-call work) is then cold.
    string self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]); // the .dll under "dotnet"
    start.ArgumentList.Add(mode);
    start.ArgumentList.Add(seconds10);
    using Process child = Process.Start(start)!;
    Console.Write(child.StandardOutput.ReadToEnd());
    child.WaitForExit();
    if (child.ExitCode != 0)
        throw new InvalidOperationException($"mode {mode} failed with exit code {child.ExitCode}");
}

void Stream(string mode, double seconds)
{
    int blocks = (int)Math.Round(seconds * SampleRate / BlockSize);
    var input = new float[BlockSize];
    for (int i = 0; i < BlockSize; i++)
        input[i] = 0.5f * MathF.Sin(2 * MathF.PI * 110f * i / SampleRate);
    var output = new float[BlockSize * 32];
    var h = new float[32];
    var c = new float[32];

    // Construction (under the JIT it compiles the streaming forward path: the first instance of a module type warms
    // it), then the cold first call: the first Forward.
    double construction, cold;
    Action process;
    long t0 = Stopwatch.GetTimestamp();
    if (mode == "cell")
    {
        var cell = new StreamCell(seed: 1);
        construction = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        long t1 = Stopwatch.GetTimestamp();
        cell.Forward(input.AsSpan(0, 1), 1, h, c, h, c);
        cold = Stopwatch.GetElapsedTime(t1).TotalMicroseconds;
        process = () =>
        {
            for (int t = 0; t < BlockSize; t++)
                cell.Forward(input.AsSpan(t, 1), 1, h, c, h, c); // state carried in place
        };
    }
    else
    {
        var lstm = new StreamLstm(seed: 1);
        construction = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        long t1 = Stopwatch.GetTimestamp();
        lstm.Forward(input, BlockSize, 1, output, h, c, h, c);
        cold = Stopwatch.GetElapsedTime(t1).TotalMicroseconds;
        process = () => lstm.Forward(input, BlockSize, 1, output, h, c, h, c);
    }

    // The documented warm-up: one block through the whole processing (the module's call above, and the code
    // around it, here this lambda, which the JIT compiles at its first call too). Then the stream: block k starts at
    // its deadline start + k·period.
    process();
    var durations = new double[blocks];
    long period = (long)Math.Round((double)Stopwatch.Frequency * BlockSize / SampleRate);
    long startAt = Stopwatch.GetTimestamp() + period;
    for (int k = 0; k < blocks; k++)
    {
        long deadline = startAt + k * period;
        WaitUntil(deadline);
        long begin = Stopwatch.GetTimestamp();
        process();
        durations[k] = Stopwatch.GetElapsedTime(begin).TotalMicroseconds;
    }

    int perSecond = SampleRate / BlockSize;
    double worst = 0;
    int worstAt = 0;
    for (int k = 0; k < blocks; k++)
        if (durations[k] > worst) (worst, worstAt) = (durations[k], k);
    double firstMedian = Median(durations.AsSpan(0, Math.Min(perSecond, blocks)));
    double lastMedian = Median(durations.AsSpan(Math.Max(0, blocks - perSecond)));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {(mode == "cell" ? "LstmCell(1→32), one call per sample" : "Lstm(1→32), one call per 64-sample block")} " +
        $"| {construction / 1000:F1} ms | {cold:F0} µs ({cold / budgetUs:P0}) | {durations[0]:F1} µs ({durations[0] / budgetUs:P1}) | {worst:F1} µs ({worst / budgetUs:P1}, block {worstAt}) " +
        $"| {firstMedian:F1} µs | {lastMedian:F1} µs | {firstMedian / lastMedian:F2} | {1000 * lastMedian / BlockSize:F0} ns |"));
    if (Environment.GetEnvironmentVariable("RT_DEBUG") is not null)
        Console.WriteLine(string.Join(" ", durations.Take(40).Select(d => d.ToString("F1", CultureInfo.InvariantCulture))));
}

static void WaitUntil(long deadline)
{
    // Sleep while far from the deadline (as an audio thread waits for its callback), then spin the last part.
    long margin = Stopwatch.Frequency / 2000; // 0.5 ms
    long remaining = deadline - Stopwatch.GetTimestamp();
    if (remaining > margin)
        Thread.Sleep(TimeSpan.FromSeconds((double)(remaining - margin) / Stopwatch.Frequency));
    while (Stopwatch.GetTimestamp() < deadline)
        Thread.SpinWait(10);
}

static double Median(Span<double> values)
{
    double[] copy = values.ToArray();
    Array.Sort(copy);
    return copy.Length % 2 == 1 ? copy[copy.Length / 2] : 0.5 * (copy[copy.Length / 2 - 1] + copy[copy.Length / 2]);
}

[LstmCell(1, 32)]
partial class StreamCell;

[Lstm(1, 32)]
partial class StreamLstm;

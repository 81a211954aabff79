using System;
using System.Diagnostics;
using System.Linq;

namespace RnnGen.Demo;

/// <summary>
/// Times the tutorial's modules on one kernel path. A process runs one path (the JIT folds the dispatch),
/// so the demo starts itself once per path with RNNGEN_KERNEL_PATH set. These are the demo's own quick
/// figures (median of 7 batches of calls after warm-up), not a benchmark: see bench/ for that.
/// </summary>
internal static class Timing
{
    public static void RunEveryPath()
    {
        foreach (KernelPath path in Enum.GetValues<KernelPath>().Where(p => p <= Simd.HardwarePath).Reverse())
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
            if (!Environment.ProcessPath!.EndsWith("RnnGen.Demo", StringComparison.Ordinal) && !Environment.ProcessPath.EndsWith("RnnGen.Demo.exe", StringComparison.Ordinal))
                start.ArgumentList.Add(typeof(Timing).Assembly.Location); // running under the dotnet host
            start.ArgumentList.Add("--time");
            start.ArgumentList.Add(path.ToString());
            start.Environment[Simd.OverrideVariable] = path.ToString();
            using Process child = Process.Start(start)!;
            Console.Write(child.StandardOutput.ReadToEnd());
            child.WaitForExit();
        }
    }

    public static void Measure(string pathName)
    {
        const int SeqLen = 6, Batch = 5;
        var random = new Random(1);
        float[] x = Tensor.RandN(random, SeqLen * Batch * TutorialCell.InputSize);
        float[] output = new float[SeqLen * Batch * TutorialRnn.HiddenSize], hN = new float[Batch * TutorialRnn.HiddenSize];
        float[] h = new float[Batch * TutorialCell.HiddenSize];
        float[] ampIn = new float[1], ampOut = new float[32], ampState = new float[32];
        var cell = new TutorialCell(1);
        var rnn = new TutorialRnn(1);
        var amp = new AmpRnn(1);

        double cellNs = Median(() => cell.Forward(x.AsSpan(0, Batch * TutorialCell.InputSize), Batch, h, h), 2000);
        double rnnNs = Median(() => rnn.Forward(x, SeqLen, Batch, output, hN), 500);
        double ampNs = Median(() => amp.Forward(ampIn, 1, 1, ampOut, ampState, ampState), 20000);
        string path = cell.LastKernelPath.ToString();
        Console.WriteLine($"  {path,-10} RnnCell(100, 200) step, batch 5: {cellNs / 1000,8:F2} µs   Rnn(100, 200) seq 6, batch 5: {rnnNs / 1000,8:F2} µs ({rnnNs / 1000 / SeqLen:F2} µs/step)   Rnn(1, 32) one sample: {ampNs,7:F0} ns");
        if (path != pathName)
            Console.WriteLine($"  (asked for {pathName}, ran {path})");
    }

    private static double Median(Action call, int callsPerBatch)
    {
        // Warm up for half a second: the JIT promotes hot methods to optimised code only after ~100 ms.
        long warmUp = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warmUp).TotalMilliseconds < 500)
            for (int i = 0; i < callsPerBatch; i++)
                call();
        var batches = new double[7];
        for (int b = 0; b < batches.Length; b++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < callsPerBatch; i++)
                call();
            batches[b] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / callsPerBatch;
        }
        Array.Sort(batches);
        return batches[batches.Length / 2];
    }
}

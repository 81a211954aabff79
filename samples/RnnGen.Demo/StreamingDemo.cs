using System;
using System.Diagnostics;

namespace RnnGen.Demo;

/// <summary>
/// Real-time audio, the way an amp model runs: one LstmCell(1 → 32) step per sample, state carried in place,
/// over one second of a 48 kHz signal. The real-time factor is the time budget (1 s) over the time taken.
/// </summary>
internal static class StreamingDemo
{
    private const int SampleRate = 48_000;

    public static void Run()
    {
        // Under the JIT, constructing the first AmpCell compiles its streaming forward path (README, "Real-time use"):
        // a real-time app constructs its modules before its stream starts, and the first call is then quick.
        long constructing = Stopwatch.GetTimestamp();
        var cell = new AmpCell(seed: 11);
        TimeSpan construction = Stopwatch.GetElapsedTime(constructing);
        float[] audio = new float[SampleRate];
        for (int i = 0; i < audio.Length; i++)
            audio[i] = 0.5f * MathF.Sin(2 * MathF.PI * 110f * i / SampleRate); // one second of an A2 note
        float[] h = new float[AmpCell.HiddenSize], c = new float[AmpCell.HiddenSize];
        float[] output = new float[audio.Length];

        // The first call, then 2 s of warm-up, so that the tiered JIT has promoted every hot method to optimised code,
        // and the timed second is the steady state.
        long first = Stopwatch.GetTimestamp();
        cell.Forward(audio.AsSpan(0, 1), 1, h, c, h, c);
        TimeSpan firstCall = Stopwatch.GetElapsedTime(first);
        const int WarmUpSeconds = 2;
        long warmUp = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warmUp).TotalSeconds < WarmUpSeconds)
            Process(cell, audio, output, h, c);
        Array.Clear(h);
        Array.Clear(c);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        Process(cell, audio, output, h, c);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        double nsPerSample = elapsed.TotalNanoseconds / audio.Length;
        Console.WriteLine($"\nStreaming: LstmCell(1 -> {AmpCell.HiddenSize}), one step per sample, 1 s of 48 kHz audio ({audio.Length} steps) on {cell.LastKernelPath}:");
        Console.WriteLine($"  construction (compiles the streaming path) {construction.TotalMilliseconds:F1} ms, first call {firstCall.TotalMilliseconds:F2} ms; then, after {WarmUpSeconds} s of warm-up (steady state):");
        Console.WriteLine($"  {nsPerSample:F0} ns per sample, {elapsed.TotalMilliseconds:F2} ms for the second: real-time factor {1000.0 / elapsed.TotalMilliseconds:F0}x, {allocated} bytes allocated");
    }

    private static void Process(AmpCell cell, float[] audio, float[] output, float[] h, float[] c)
    {
        for (int i = 0; i < audio.Length; i++)
        {
            cell.Forward(audio.AsSpan(i, 1), 1, h, c, h, c);
            output[i] = h[0]; // a real model would put a linear head here
        }
    }
}

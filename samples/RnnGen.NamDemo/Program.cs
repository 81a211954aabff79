using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using RnnGen;
using RnnGen.NamDemo;

// A Neural Amp Modeler LSTM model (NeuralAmpModelerCore's example, LSTM(1, 3)) played over a plucked-string signal
// in 64-sample blocks, as an audio callback would: real-time factor, time per block, a WAV file and a plot.

const int BlockSize = 64;
string modelPath = Path.Combine(AppContext.BaseDirectory, "Data", "lstm.nam");
NamModel amp = NamModel.Load(modelPath, new ExampleAmp());   // ExampleAmp: [Lstm(1, 3)], the file's shape
int sampleRate = (int)(amp.SampleRate ?? 48_000);
Console.WriteLine($"Model: {Path.GetFileName(modelPath)}, \"{amp.Metadata.GetValueOrDefault("name")}\" by {amp.Metadata.GetValueOrDefault("modeled_by")} " +
    $"({amp.Metadata.GetValueOrDefault("gear_make")} {amp.Metadata.GetValueOrDefault("gear_model")}), NAM file version {amp.Version}, {sampleRate} Hz");

float[] guitar = Signals.PluckedStrings(sampleRate, seconds: 4, seed: 7);
float[] output = new float[guitar.Length];

// One block before the stream starts: compiles the kernels and grows the workspace (README, "Real-time use").
long cold = Stopwatch.GetTimestamp();
amp.Process(guitar.AsSpan(0, BlockSize), output.AsSpan(0, BlockSize));
double coldMs = Stopwatch.GetElapsedTime(cold).TotalMilliseconds;
amp.Reset();

int blocks = guitar.Length / BlockSize;
double audioSeconds = blocks * BlockSize / (double)sampleRate, budget = BlockSize * 1e6 / sampleRate;
Console.WriteLine($"Playing {audioSeconds:F2} s of audio in {blocks} blocks of {BlockSize} samples on {amp.Lstm.LastKernelPath} " +
    $"(budget {budget:F0} µs per block; the first block, before the stream, took {coldMs:F1} ms):");
Play("first pass, from the first block after the warm-up", output);
// The tiered JIT recompiles hot code with full optimisation in the background during the first ~0.2 s; a second
// pass over the same audio shows the steady state (and, from the same initial state, the same output bit for bit).
float[] second = new float[guitar.Length];
amp.Reset();
Play("second pass, steady state", second);
if (!output.AsSpan().SequenceEqual(second))
    throw new InvalidOperationException("The second pass did not reproduce the first.");

void Play(string what, float[] into)
{
    var microseconds = new double[blocks];
    long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    long start = Stopwatch.GetTimestamp();
    for (int b = 0; b < blocks; b++)
    {
        long t0 = Stopwatch.GetTimestamp();
        amp.Process(guitar.AsSpan(b * BlockSize, BlockSize), into.AsSpan(b * BlockSize, BlockSize));
        microseconds[b] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
    }
    double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
    long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    double[] sorted = microseconds.Order().ToArray();
    int worst = Array.IndexOf(microseconds, sorted[^1]);
    Console.WriteLine($"  {what}: real-time factor {audioSeconds / seconds:F0}x ({seconds * 1e3:F1} ms); per block median {sorted[blocks / 2]:F1} µs, " +
        $"worst {sorted[^1]:F1} µs (block {worst}); {allocated} bytes allocated");
}

string wavPath = Path.GetFullPath("nam-demo.wav");
Wav.WriteStereo16(wavPath, sampleRate, guitar, output);
var (readRate, left, right) = Wav.ReadStereo16(wavPath);
double maxError = left.Zip(guitar).Concat(right.Zip(output.Select(Wav.Clip))).Max(p => Math.Abs(p.First - p.Second));
Console.WriteLine($"Wrote {wavPath} (16-bit stereo, {readRate} Hz: left the input, right the amp) and read it back: {left.Length} frames, " +
    $"largest difference from the float signals {maxError:E1} (16-bit quantisation: ≤ {1.0 / 32767:E1})");
if (readRate != sampleRate || left.Length != guitar.Length || maxError > 1.0 / 32767)
    throw new InvalidOperationException("The WAV file did not read back as written.");

string plotPath = Path.GetFullPath("nam-demo.png");
Plots.InputAndOutput(plotPath, sampleRate, guitar, output);
Console.WriteLine($"Plotted input and output: {plotPath}");

[Lstm(1, 3)]
internal partial class ExampleAmp;

// RnnGen demo: the PyTorch RNN tutorial, step by step, with modules sized at compile time.
//
//   rnn_cell = nn.RNNCell(100, 200)          ->  [RnnCell(100, 200)] partial class TutorialCell
//   rnn_seq  = nn.RNN(100, 200)              ->  [Rnn(100, 200)]     partial class TutorialRnn
//
// Then the time per step on every SIMD path this machine runs (each path in its own process, since a
// process runs one path).

using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using RnnGen;
using RnnGen.Demo;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

if (args.Length == 2 && args[0] == "--time")
{
    Timing.Measure(args[1]);
    return;
}

const int SeqLen = 6, Batch = 5;
var random = new Random(0);
// x = torch.randn(6, 5, 100)
float[] x = Tensor.RandN(random, SeqLen * Batch * TutorialCell.InputSize);
Console.WriteLine($"x: {Tensor.Shape(SeqLen, Batch, TutorialCell.InputSize)}");

// rnn_cell = nn.RNNCell(100, 200); h_t = zeros(5, 200); for i in range(6): h_t = rnn_cell(x[i], h_t)
var cell = new TutorialCell(seed: 42);
Console.WriteLine($"\nRnnCell({TutorialCell.InputSize}, {TutorialCell.HiddenSize}): {string.Join(", ", cell.Parameters.Names.Select(n => $"{n} {Tensor.Shape(cell.Parameters.GetShape(n))}"))}");
var hT = new float[Batch * TutorialCell.HiddenSize];
var cellOutputs = new float[SeqLen][];
for (int t = 0; t < SeqLen; t++)
{
    cell.Forward(x.AsSpan(t * Batch * TutorialCell.InputSize, Batch * TutorialCell.InputSize), Batch, hT, hT);
    cellOutputs[t] = hT.ToArray();
}
Console.WriteLine($"output: {SeqLen} x {Tensor.Shape(Batch, TutorialCell.HiddenSize)}");
Console.WriteLine($"output[0][0, :5] = {Tensor.Row(cellOutputs[0], 0, 5)}");
Console.WriteLine($"h_t[0, :5]       = {Tensor.Row(hT, 0, 5)}");

// rnn_seq = nn.RNN(100, 200); out, h_t = rnn_seq(x)
var rnn = new TutorialRnn(seed: 7);
Console.WriteLine($"\nRnn({TutorialRnn.InputSize}, {TutorialRnn.HiddenSize}): {string.Join(", ", rnn.Parameters.Names.Select(n => $"{n} {Tensor.Shape(rnn.Parameters.GetShape(n))}"))}");
var (output, hN) = rnn.Forward(x, SeqLen, Batch);
Console.WriteLine($"out: {Tensor.Shape(SeqLen, Batch, TutorialRnn.HiddenSize)}, h_t: {Tensor.Shape(TutorialRnn.NumLayers, Batch, TutorialRnn.HiddenSize)}");
Console.WriteLine($"out[0, 0, :5] = {Tensor.Row(output, 0, 5)}");
Console.WriteLine($"h_t[0, 0, :5] = {Tensor.Row(hN, 0, 5)}");

// h0 = torch.randn(1, 5, 200); out, h_t = rnn_seq(x, h0)
float[] h0 = Tensor.RandN(random, TutorialRnn.NumLayers * Batch * TutorialRnn.HiddenSize);
var (output2, hN2) = rnn.Forward(x, SeqLen, Batch, h0);
Console.WriteLine($"with h0 {Tensor.Shape(TutorialRnn.NumLayers, Batch, TutorialRnn.HiddenSize)}: out[0, 0, :5] = {Tensor.Row(output2, 0, 5)}");
Console.WriteLine($"                      h_t[0, 0, :5] = {Tensor.Row(hN2, 0, 5)}");

// The cell and the sequence module compute the same thing: give the RNN the cell's weights.
foreach (string name in cell.Parameters.Names)
    cell.Parameters.GetReadOnly(name).CopyTo(rnn.Parameters[name + "_l0"]);
var (sameOutput, _) = rnn.Forward(x, SeqLen, Batch);
float maxDiff = 0;
for (int t = 0; t < SeqLen; t++)
    for (int i = 0; i < cellOutputs[t].Length; i++)
        maxDiff = MathF.Max(maxDiff, MathF.Abs(cellOutputs[t][i] - sameOutput[t * Batch * TutorialRnn.HiddenSize + i]));
Console.WriteLine($"\nRnn with the cell's weights vs the cell stepped 6 times: max |difference| = {maxDiff:E1}");

AirlineDemo.Run();
StreamingDemo.Run();
if (Environment.GetEnvironmentVariable("RNNGEN_DEMO_SKIP_TIMING") == "1")
    return;

Console.WriteLine($"\nTime per call on each SIMD path of this machine (hardware: {Simd.HardwarePath}; each path in its own process):");
Timing.RunEveryPath();

using System;
using RnnGen;

var cell = new TutorialCell(seed: 1);
var rnn = new TutorialRnn(seed: 1);
var x = new float[6 * 5 * 100];
var rng = new Random(0);
for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle() * 2 - 1;
var (output, hN) = rnn.Forward(x, 6, 5);
Console.WriteLine($"{output.Length} {hN.Length} {output[0]} {hN[0]} {rnn.LastKernelPath}");

[RnnCell(inputSize: 100, hiddenSize: 200)]
public partial class TutorialCell;

[Rnn(inputSize: 100, hiddenSize: 200)]
public partial class TutorialRnn;

[Rnn(3, 17, NumLayers = 2, Bidirectional = true, Nonlinearity = Nonlinearity.Relu, BatchFirst = true, Bias = false)]
public partial class Odd;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Generated modules against PyTorch 2.10 itself. Every run draws fresh random configurations over every
/// flag, declares them in source, runs the RnnGen generator on it in-process, compiles and loads the
/// result, and compares each module with torch.nn.RNN / torch.nn.RNNCell on the same weights and inputs:
/// output and hN within 1e-5 · max(1, |reference|). The seed is printed, and named in every failure.
/// </summary>
[Category("Numeric")]
[NonParallelizable]
public class TorchParityTests
{
    private readonly int _seed = DrawnModules.Seed;

    [Test]
    public void RandomRnnConfigurationsMatchPyTorch()
    {
        var random = new Random(_seed ^ 0x5eed);
        var report = new StringBuilder();
        double worst = 0;
        foreach (var (config, type) in DrawnModules.Modules.Where(m => !m.Config.IsLstm && !m.Config.IsCell))
        {
            var module = (IRnnModule)Activator.CreateInstance(type, random.Next())!;
            double err = CompareRnn(config, module, random, out string shape);
            worst = Math.Max(worst, err);
            report.AppendLine($"{err:E2}  {config} {shape}");
            Assert.That(err, Is.LessThanOrEqualTo(Numerics.ForwardTolerance), $"seed {_seed}: {config} {shape}");
            Assert.That(module.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), $"seed {_seed}: kernel path");
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {_seed}, path {ExpectedPath.Get()}: RNN and GRU configurations, max scaled forward error vs PyTorch {worst:E2}");
    }

    [Test]
    public void RandomRnnCellConfigurationsMatchPyTorch()
    {
        var random = new Random(_seed ^ 0xce11);
        var report = new StringBuilder();
        double worst = 0;
        foreach (var (config, type) in DrawnModules.Modules.Where(m => !m.Config.IsLstm && m.Config.IsCell))
        {
            var cell = (IRnnCellModule)Activator.CreateInstance(type, random.Next())!;
            double err = CompareCell(config, cell, random, out string shape);
            worst = Math.Max(worst, err);
            report.AppendLine($"{err:E2}  {config} {shape}");
            Assert.That(err, Is.LessThanOrEqualTo(Numerics.ForwardTolerance), $"seed {_seed}: {config} {shape}");
            Assert.That(cell.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), $"seed {_seed}: kernel path");
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {_seed}, path {ExpectedPath.Get()}: RNNCell and GRUCell configurations, max scaled forward error vs PyTorch {worst:E2}");
    }

    public static IEnumerable<TestCaseData> DeclaredModules()
    {
        yield return new TestCaseData(new RnnConfig(false, 100, 200), (Func<int, object>)(s => new TutorialRnn(s))).SetName("TutorialRnn(100, 200)");
        yield return new TestCaseData(new RnnConfig(false, 1, 32), (Func<int, object>)(s => new StreamingRnn(s))).SetName("StreamingRnn(1, 32)");
        yield return new TestCaseData(new RnnConfig(false, 3, 17, 2, true, true, false, Nonlinearity.Relu), (Func<int, object>)(s => new MixedRnn(s))).SetName("MixedRnn(3, 17, 2 layers, bidirectional, batch-first, relu, no bias)");
        yield return new TestCaseData(new RnnConfig(false, 17, 100, 3, true), (Func<int, object>)(s => new DeepBidirectionalRnn(s))).SetName("DeepBidirectionalRnn(17, 100, 3 layers)");
        yield return new TestCaseData(new RnnConfig(false, 200, 3, BatchFirst: true), (Func<int, object>)(s => new WideInputRnn(s))).SetName("WideInputRnn(200, 3, batch-first)");
        yield return new TestCaseData(new RnnConfig(false, 5, 33, 2, Dropout: 0.25), (Func<int, object>)(s => new TwoLayerRnn(s))).SetName("TwoLayerRnn(5, 33, dropout ignored in inference)");
        yield return new TestCaseData(new RnnConfig(false, 4, 9), (Func<int, object>)(s => new Outer.NestedRnn(s))).SetName("Outer.NestedRnn(4, 9)");
        yield return new TestCaseData(new RnnConfig(true, 100, 200), (Func<int, object>)(s => new TutorialCell(s))).SetName("TutorialCell(100, 200)");
        yield return new TestCaseData(new RnnConfig(true, 1, 1), (Func<int, object>)(s => new TinyCell(s))).SetName("TinyCell(1, 1)");
        yield return new TestCaseData(new RnnConfig(true, 3, 17, Nonlinearity: Nonlinearity.Relu), (Func<int, object>)(s => new ReluCell(s))).SetName("ReluCell(3, 17)");
        yield return new TestCaseData(new RnnConfig(true, 17, 3, Bias: false), (Func<int, object>)(s => new NoBiasCell(s))).SetName("NoBiasCell(17, 3)");
    }

    [TestCaseSource(nameof(DeclaredModules))]
    public void DeclaredModuleMatchesPyTorch(RnnConfig config, Func<int, object> create)
    {
        var random = new Random(_seed);
        object module = create(random.Next());
        double err = module is IRnnModule rnn
            ? CompareRnn(config, rnn, random, out string shape)
            : CompareCell(config, (IRnnCellModule)module, random, out shape);
        TestContext.Out.WriteLine($"seed {_seed}: max scaled error {err:E2} {shape}");
        Assert.That(err, Is.LessThanOrEqualTo(Numerics.ForwardTolerance), $"seed {_seed} {shape}");
    }

    [TestCaseSource(nameof(DeclaredModules))]
    public void ParameterNamesOrderAndShapesArePyTorchs(RnnConfig config, Func<int, object> create)
    {
        object module = create(1);
        ParameterSet parameters = module is IRnnModule rnn ? rnn.Parameters : ((IRnnCellModule)module).Parameters;
        var torchLayout = Torch.ParameterLayout(config);
        Assert.That(parameters.Names, Is.EqualTo(torchLayout.Select(p => p.Name)));
        foreach (var (name, shape) in torchLayout)
            Assert.That(parameters.GetShape(name).ToArray().Select(d => (long)d), Is.EqualTo(shape), name);
    }

    /// <summary>The driver finds each parameter of a layer and direction by RnnShape's named indices; they must point at PyTorch's names.</summary>
    [TestCase(3, 5, 1, false, true, false, 1, 0)]
    [TestCase(3, 5, 3, true, true, false, 3, 0)]
    [TestCase(3, 5, 2, true, false, false, 4, 0)]
    [TestCase(3, 5, 2, true, true, false, 4, 2)]
    [TestCase(3, 5, 2, false, false, false, 4, 4)]
    [TestCase(3, 5, 1, false, true, true, 4, 0)]
    public void NamedParameterIndicesPointAtPyTorchsNames(int input, int hidden, int layers, bool bidirectional, bool bias, bool isCell, int gates, int proj)
    {
        var shape = new __Internals.RnnShape(input, hidden, layers, bidirectional, bias, isCell: isCell, gateCount: gates, projSize: proj);
        string[] names = shape.ParameterLayout().Select(p => p.Name).ToArray();
        for (int layer = 0; layer < layers; layer++)
        {
            for (int d = 0; d < shape.NumDirections; d++)
            {
                string suffix = isCell ? "" : $"_l{layer}" + (d == 1 ? "_reverse" : "");
                Assert.That(names[shape.WeightIhIndex(layer, d)], Is.EqualTo("weight_ih" + suffix));
                Assert.That(names[shape.WeightHhIndex(layer, d)], Is.EqualTo("weight_hh" + suffix));
                if (bias)
                {
                    Assert.That(names[shape.BiasIhIndex(layer, d)], Is.EqualTo("bias_ih" + suffix));
                    Assert.That(names[shape.BiasHhIndex(layer, d)], Is.EqualTo("bias_hh" + suffix));
                }
                if (proj > 0)
                    Assert.That(names[shape.WeightHrIndex(layer, d)], Is.EqualTo("weight_hr" + suffix));
            }
        }
    }

    [Test]
    public void InitialisationIsUniformWithinOneOverSqrtHidden()
    {
        var rnn = new TutorialRnn(seed: 7);
        float bound = 1f / MathF.Sqrt(TutorialRnn.HiddenSize);
        float[] all = rnn.Parameters.AsReadOnlySpan().ToArray();
        float min = float.MaxValue, max = float.MinValue;
        double mean = 0;
        foreach (float v in all)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            mean += v;
        }
        mean /= all.Length;
        Assert.Multiple(() =>
        {
            Assert.That(min, Is.GreaterThanOrEqualTo(-bound));
            Assert.That(max, Is.LessThanOrEqualTo(bound));
            Assert.That(min, Is.LessThan(-0.99f * bound), "spans the whole interval");
            Assert.That(max, Is.GreaterThan(0.99f * bound), "spans the whole interval");
            Assert.That(Math.Abs(mean), Is.LessThan(0.01 * bound), "centred");
            Assert.That(new TutorialRnn(seed: 7).Parameters.AsReadOnlySpan().SequenceEqual(all), Is.True, "same seed, same parameters");
            Assert.That(new TutorialRnn(seed: 8).Parameters.AsReadOnlySpan().SequenceEqual(all), Is.False, "another seed, other parameters");
        });
    }

    private static double CompareRnn(RnnConfig config, IRnnModule module, Random random, out string shape)
    {
        // Large shapes get shorter sequences so that the emulated and scalar re-runs stay quick.
        bool large = (long)config.HiddenSize * Math.Max(config.InputSize, config.HiddenSize) * config.NumLayers * config.Directions > 60_000;
        int seqLen = random.Next(1, large ? 9 : 21), batch = random.Next(1, large ? 5 : 9);
        bool customH0 = random.Next(2) == 1;
        int stateLength = config.NumLayers * config.Directions * batch * config.HiddenSize;
        float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, 2f);
        float[]? h0 = customH0 ? Numerics.Uniform(random, stateLength) : null;
        shape = $"seqLen {seqLen}, batch {batch}, h0 {(customH0 ? "custom" : "default")}";

        var output = new float[seqLen * batch * config.Directions * config.HiddenSize];
        var hN = new float[stateLength];
        module.Forward(input, seqLen, batch, output, hN, h0);
        var (refOutput, refHN) = Torch.RnnForward(config, module.Parameters, input, seqLen, batch, h0);
        return Math.Max(Numerics.MaxScaledError(output, refOutput), Numerics.MaxScaledError(hN, refHN));
    }

    private static double CompareCell(RnnConfig config, IRnnCellModule cell, Random random, out string shape)
    {
        int batch = random.Next(1, 9);
        bool customHx = random.Next(2) == 1;
        float[] input = Numerics.Uniform(random, batch * config.InputSize, 2f);
        float[]? hx = customHx ? Numerics.Uniform(random, batch * config.HiddenSize) : null;
        shape = $"batch {batch}, hx {(customHx ? "custom" : "default")}";
        var hNext = new float[batch * config.HiddenSize];
        cell.Forward(input, batch, hx, hNext);
        return Numerics.MaxScaledError(hNext, Torch.CellForward(config, cell.Parameters, input, batch, hx));
    }
}

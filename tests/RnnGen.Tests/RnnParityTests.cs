using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Generated RNNs and RNN cells against PyTorch 2.10 itself (torch.nn.RNN, torch.nn.RNNCell). Every run draws fresh random
/// configurations over every flag, declares them in source, runs the RnnGen generator on it in-process, compiles and loads
/// the result, and compares each module with its PyTorch counterpart on the same weights and inputs: output and hN within
/// 1e-5 · max(1, |reference|), and with dropout 0 the gradients of every parameter, the input and h0 against autograd
/// within 1e-4 relative (norm-wise; <see cref="ParityChecks"/>). The modules declared in this project are compared too.
/// The seed is printed, and named in every failure.
/// </summary>
[Category("Numeric")]
[NonParallelizable]
public class RnnParityTests
{
    private readonly int _seed = DrawnModules.Seed;

    [Test]
    public void RandomRnnConfigurationsMatchPyTorch() => ParityChecks.SequencesMatchPyTorch("RNN", _seed, new Random(_seed ^ 0x5eed));

    [Test]
    public void RandomRnnCellConfigurationsMatchPyTorch() => ParityChecks.CellsMatchPyTorch("RNNCell", _seed, new Random(_seed ^ 0xce11));

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
            ? ParityChecks.ForwardError(config, rnn, random, out string shape)
            : ParityChecks.CellForwardError(config, (IRnnCellModule)module, random, out shape);
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

    [Test]
    public void GradientsAccumulateOverBackwardCalls()
    {
        var rnn = new DeepBidirectionalRnn(3);
        var random = new Random(_seed);
        float[] x = Numerics.Uniform(random, 4 * 3 * 17), g = Numerics.Uniform(random, 4 * 3 * 200);
        var output = new float[g.Length];
        var hN = new float[3 * 2 * 3 * 100];
        rnn.ZeroGrad();
        rnn.Forward(x, 4, 3, output, hN, training: true);
        rnn.Backward(g, default, default, default);
        float[] once = rnn.Gradients.AsReadOnlySpan().ToArray();
        rnn.Backward(g, default, default, default);
        float[] twice = rnn.Gradients.AsReadOnlySpan().ToArray();
        Numerics.AssertClose(twice, once.Select(v => 2 * v).ToArray(), "two backward calls add up");
        rnn.ZeroGrad();
        Assert.That(rnn.Gradients.AsReadOnlySpan().ToArray(), Is.All.EqualTo(0f));
    }
}

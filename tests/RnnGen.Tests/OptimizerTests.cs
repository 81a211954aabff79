using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using RnnGen.Tests.Support;
using RnnGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Tests;

/// <summary>The optimizers and helpers against torch.optim and torch.nn.utils on the same values.</summary>
[NonParallelizable]
public class OptimizerTests
{
    private const int Steps = 10;
    private static readonly (string Name, int[] Shape)[] s_layout = { ("a", new[] { 7, 5 }), ("b", new[] { 13 }), ("c", new[] { 3, 2 }) };

    public static IEnumerable<TestCaseData> SgdOptions()
    {
        foreach (float momentum in new[] { 0f, 0.9f })
            foreach (float dampening in new[] { 0f, 0.2f })
                foreach (float weightDecay in new[] { 0f, 0.05f })
                    foreach (bool nesterov in new[] { false, true })
                        if (!nesterov || (momentum > 0 && dampening == 0))
                            yield return new TestCaseData(momentum, dampening, weightDecay, nesterov)
                                .SetName($"Sgd(momentum {momentum}, dampening {dampening}, weightDecay {weightDecay}, nesterov {nesterov})");
    }

    public static IEnumerable<TestCaseData> AdamOptions()
    {
        foreach (float weightDecay in new[] { 0f, 0.05f })
            foreach (bool amsgrad in new[] { false, true })
                foreach ((float beta1, float beta2) in new[] { (0.9f, 0.999f), (0.5f, 0.9f) })
                    yield return new TestCaseData(weightDecay, amsgrad, beta1, beta2)
                        .SetName($"Adam(weightDecay {weightDecay}, amsgrad {amsgrad}, betas ({beta1}, {beta2}))");
    }

    [TestCaseSource(nameof(SgdOptions))]
    public void SgdMatchesTorch(float momentum, float dampening, float weightDecay, bool nesterov)
    {
        Compare(
            (p, g) => new Sgd(p, g, lr: 0.1f, momentum, dampening, weightDecay, nesterov),
            parameters => torch.optim.SGD(parameters, 0.1, momentum, dampening, weightDecay, nesterov));
    }

    [TestCaseSource(nameof(AdamOptions))]
    public void AdamMatchesTorch(float weightDecay, bool amsgrad, float beta1, float beta2)
    {
        Compare(
            (p, g) => new Adam(p, g, lr: 0.01f, beta1, beta2, eps: 1e-8f, weightDecay, amsgrad),
            parameters => torch.optim.Adam(parameters, 0.01, beta1, beta2, 1e-8, weightDecay, amsgrad));
    }

    [TestCase(2f)]
    [TestCase(float.PositiveInfinity)]
    public void ClipGradNormMatchesTorch(float normType)
    {
        var random = new Random(5);
        var grads = new ParameterSet(s_layout);
        Numerics.Uniform(random, grads.TotalLength, 3f).CopyTo(grads.AsSpan());
        torch.set_num_threads(1);
        using var scope = torch.NewDisposeScope();
        var parameters = TorchParameters(grads, out _);
        foreach (var (p, name) in parameters.Zip(grads.Names))
            (p * torch.tensor(grads.GetReadOnly(name).ToArray(), p.shape)).sum().backward();

        float norm = TrainingFunctions.ClipGradNorm(new[] { grads }, maxNorm: 1.5f, normType);
        double torchNorm = torch.nn.utils.clip_grad_norm_(parameters, 1.5, normType);
        Assert.That(norm, Is.EqualTo(torchNorm).Within(1e-5 * torchNorm));
        foreach (var (p, name) in parameters.Zip(grads.Names))
            Numerics.AssertClose(grads.GetReadOnly(name), p.grad!.data<float>().ToArray(), name, 1e-6);
    }

    [Test]
    public void MseLossMatchesTorch()
    {
        var random = new Random(9);
        float[] prediction = Numerics.Uniform(random, 37), target = Numerics.Uniform(random, 37);
        var gradient = new float[37];
        float loss = TrainingFunctions.MseLoss(prediction, target, gradient);
        using var scope = torch.NewDisposeScope();
        Tensor p = torch.tensor(prediction, requires_grad: true);
        Tensor l = torch.nn.functional.mse_loss(p, torch.tensor(target));
        l.backward();
        Assert.That(loss, Is.EqualTo(l.item<float>()).Within(1e-6));
        Numerics.AssertClose(gradient, p.grad!.data<float>().ToArray(), "gradient", 1e-6);
    }

    [Test]
    public void BadOptionsAreRefused()
    {
        var p = new ParameterSet(s_layout);
        var g = new ParameterSet(s_layout);
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<ArgumentException>(() => new Sgd(p, g, 0.1f, momentum: 0, nesterov: true))!.ParamName, Is.EqualTo("nesterov"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(p, g, -1f))!.ParamName, Is.EqualTo("learningRate"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(p, g, beta1: 1f))!.ParamName, Is.EqualTo("beta1"));
            Assert.That(Assert.Throws<ArgumentException>(() => new Adam(p, new ParameterSet(new[] { ("x", new[] { 1 }) })))!.ParamName, Is.EqualTo("groups"));
        });
    }

    private static void Compare(Func<ParameterSet, ParameterSet, IOptimizer> ours, Func<IEnumerable<TorchSharp.Modules.Parameter>, torch.optim.Optimizer> theirs)
    {
        torch.set_num_threads(1);
        var random = new Random(17);
        var parameters = new ParameterSet(s_layout);
        var gradients = new ParameterSet(s_layout);
        Numerics.Uniform(random, parameters.TotalLength).CopyTo(parameters.AsSpan());

        using var scope = torch.NewDisposeScope();
        List<TorchSharp.Modules.Parameter> torchParameters = TorchParameters(parameters, out _);
        var optimizer = theirs(torchParameters);
        IOptimizer mine = ours(parameters, gradients);
        for (int step = 0; step < Steps; step++)
        {
            float[] grad = Numerics.Uniform(random, parameters.TotalLength);
            grad.CopyTo(gradients.AsSpan());
            optimizer.zero_grad();
            int offset = 0;
            Tensor loss = torch.zeros(1);
            foreach (var p in torchParameters)
            {
                loss = loss + (p * torch.tensor(grad.AsSpan(offset, (int)p.numel()).ToArray(), p.shape)).sum();
                offset += (int)p.numel();
            }
            loss.backward();
            optimizer.step();
            mine.Step();
        }
        float[] expected = torchParameters.SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
        double worst = 0;
        float[] actual = parameters.AsReadOnlySpan().ToArray();
        for (int i = 0; i < actual.Length; i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        TestContext.Out.WriteLine($"max |difference| after {Steps} steps: {worst:E2}");
        Assert.That(worst, Is.LessThanOrEqualTo(1e-6));
    }

    private static List<TorchSharp.Modules.Parameter> TorchParameters(ParameterSet values, out long total)
    {
        total = 0;
        var list = new List<TorchSharp.Modules.Parameter>();
        foreach (string name in values.Names)
        {
            long[] shape = values.GetShape(name).ToArray().Select(d => (long)d).ToArray();
            list.Add(new TorchSharp.Modules.Parameter(torch.tensor(values.GetReadOnly(name).ToArray(), shape), requires_grad: true));
            total += list[^1].numel();
        }
        return list;
    }
}

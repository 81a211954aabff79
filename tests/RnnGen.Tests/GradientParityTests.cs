using System;
using System.Linq;
using System.Text;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Backward against PyTorch's autograd on this run's random configurations (dropout 0): every parameter
/// gradient, the input gradient and the h0 gradient within 1e-4 relative (norm-wise), for
/// loss = Σ output · gradOutput + Σ hN · gradHn with random upstream gradients.
/// </summary>
/// <remarks>
/// Inputs are scaled so that pre-activations have about unit spread at PyTorch's initialisation (bound
/// 1/√hidden): deep in tanh's saturation the gradient factor 1 − y² is ill-conditioned in float32 (an
/// absolute error of ~7e-7 from the last bits of y, ours and PyTorch's alike), so relative comparisons there
/// measure rounding, not correctness. The forward parity tests use unscaled inputs.
/// </remarks>
[Category("Numeric")]
[NonParallelizable]
public class GradientParityTests
{
    private readonly int _seed = DrawnModules.Seed;

    [Test]
    public void RandomRnnConfigurationsMatchAutograd()
    {
        var random = new Random(_seed ^ 0xbac4);
        var report = new StringBuilder();
        double worst = 0;
        int compared = 0;
        foreach (var (config, type) in DrawnModules.Modules.Where(m => !m.Config.IsLstm && !m.Config.IsCell && m.Config.Dropout == 0))
        {
            var module = (IRnnModule)Activator.CreateInstance(type, random.Next())!;
            double err = CompareRnn(config, module, random, out string detail);
            worst = Math.Max(worst, err);
            compared++;
            report.AppendLine($"{err:E2}  {config} {detail}");
            Assert.That(err, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: {config} {detail}");
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {_seed}, path {ExpectedPath.Get()}: {compared} RNN and GRU configurations (dropout 0), max relative gradient error vs autograd {worst:E2}");
        Assert.That(compared, Is.GreaterThan(0));
    }

    [Test]
    public void RandomRnnCellConfigurationsMatchAutograd()
    {
        var random = new Random(_seed ^ 0xce1b);
        var report = new StringBuilder();
        double worst = 0;
        foreach (var (config, type) in DrawnModules.Modules.Where(m => !m.Config.IsLstm && m.Config.IsCell))
        {
            var cell = (IRnnCellModule)Activator.CreateInstance(type, random.Next())!;
            int batch = random.Next(1, 9);
            bool customHx = random.Next(2) == 1;
            float[] input = Numerics.Uniform(random, batch * config.InputSize, InputBound(config));
            float[]? hx = customHx ? Numerics.Uniform(random, batch * config.HiddenSize) : null;
            float[] gradHNext = Numerics.Uniform(random, batch * config.HiddenSize);
            var hNext = new float[batch * config.HiddenSize];
            var gradInput = new float[input.Length];
            var gradHx = customHx ? new float[hNext.Length] : Array.Empty<float>();
            cell.ZeroGrad();
            cell.Forward(input, batch, hx, hNext, training: true);
            cell.Backward(gradHNext, gradInput, gradHx);
            Torch.Gradients reference = Torch.CellBackward(config, cell.Parameters, input, batch, hx, gradHNext);
            string detail = $"batch {batch}, hx {(customHx ? "custom" : "default")}";
            double err = Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParameterError(cell.Gradients, reference, out string which));
            if (customHx)
                err = Math.Max(err, Numerics.RelativeNormError(gradHx, reference.H0!));
            Numerics.AssertClose(hNext, reference.Output, $"seed {_seed}: training forward {config} {detail}");
            worst = Math.Max(worst, err);
            report.AppendLine($"{err:E2}  {config} {detail} (worst parameter {which})");
            Assert.That(err, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: {config} {detail}");
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {_seed}, path {ExpectedPath.Get()}: RNNCell and GRUCell configurations, max relative gradient error vs autograd {worst:E2}");
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

    private double CompareRnn(RnnConfig config, IRnnModule module, Random random, out string detail)
    {
        bool large = (long)config.HiddenSize * Math.Max(config.InputSize, config.HiddenSize) * config.NumLayers * config.Directions > 60_000;
        int seqLen = random.Next(1, large ? 7 : 16), batch = random.Next(1, large ? 4 : 7);
        bool customH0 = random.Next(2) == 1, withGradHn = random.Next(2) == 1;
        int stateLength = config.NumLayers * config.Directions * batch * config.HiddenSize;
        float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, InputBound(config));
        float[]? h0 = customH0 ? Numerics.Uniform(random, stateLength) : null;
        float[] gradOutput = Numerics.Uniform(random, seqLen * batch * config.Directions * config.HiddenSize);
        float[]? gradHn = withGradHn ? Numerics.Uniform(random, stateLength) : null;
        detail = $"seqLen {seqLen}, batch {batch}, h0 {(customH0 ? "custom" : "default")}, gradHn {(withGradHn ? "given" : "none")}";

        var output = new float[gradOutput.Length];
        var hN = new float[stateLength];
        var gradInput = new float[input.Length];
        var gradH0 = customH0 ? new float[stateLength] : Array.Empty<float>();
        module.ZeroGrad();
        module.Forward(input, seqLen, batch, output, hN, h0, training: true);
        module.Backward(gradOutput, gradHn, gradInput, gradH0);

        Torch.Gradients reference = Torch.RnnBackward(config, module.Parameters, input, seqLen, batch, h0, gradOutput, gradHn);
        Numerics.AssertClose(output, reference.Output, $"seed {_seed}: training forward output {config} {detail}");
        Numerics.AssertClose(hN, reference.HN, $"seed {_seed}: training forward hN {config} {detail}");
        double err = Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParameterError(module.Gradients, reference, out string which));
        if (customH0)
            err = Math.Max(err, Numerics.RelativeNormError(gradH0, reference.H0!));
        detail += $" (worst parameter {which})";
        return err;
    }

    /// <summary>An input bound giving pre-activations of about unit spread: x·W has spread b·√(K/H)/3.</summary>
    private static float InputBound(RnnConfig config) => MathF.Min(2f, 3f * MathF.Sqrt((float)config.HiddenSize / config.InputSize));

    private static double ParameterError(ParameterSet gradients, Torch.Gradients reference, out string worstName)
    {
        double worst = 0;
        worstName = "";
        foreach (string name in gradients.Names)
        {
            double err = Numerics.RelativeNormError(gradients.GetReadOnly(name), reference.Parameters[name]);
            if (err >= worst)
            {
                worst = err;
                worstName = name;
            }
        }
        return worst;
    }
}

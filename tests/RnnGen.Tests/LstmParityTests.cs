using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using NUnit.Framework;
using RnnGen.__Internals;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Generated LSTMs and LSTM cells against PyTorch 2.10 on this run's random configurations: torch.nn.LSTM for sequences,
/// torch.nn.LSTMCell for cells (each with its own counterpart); the projection (ProjSize); and the LSTMs declared in this
/// project against the generic kernels. Forward (output, hN, cN) within
/// 1e-5 · max(1, |reference|); with dropout 0, every parameter gradient and the gradients at the input, h0 and
/// c0 within 1e-4 relative (norm-wise), for loss = Σ output·gOut + Σ hN·gHn + Σ cN·gCn.
/// </summary>
[Category("Numeric")]
[NonParallelizable]
public class LstmParityTests
{
    private readonly int _seed = DrawnModules.Seed;

    [Test]
    public void RandomLstmConfigurationsMatchPyTorch()
    {
        var random = new Random(_seed ^ 0x157);
        var report = new StringBuilder();
        double worstForward = 0, worstGradient = 0;
        int gradients = 0;
        int projected = 0;
        double worstProjectedForward = 0, worstProjectedGradient = 0;
        foreach (var (config, type) in DrawnModules.OfKind("LSTM"))
        {
            if (config.ProjSize > 0)
                projected++;
            var module = (ILstmModule)Activator.CreateInstance(type, random.Next())!;
            bool large = (long)config.HiddenSize * Math.Max(config.InputSize, config.HiddenSize) * config.NumLayers * config.Directions > 60_000;
            int seqLen = random.Next(1, large ? 7 : 16), batch = random.Next(1, large ? 4 : 7);
            bool customState = random.Next(2) == 1, upstreamState = random.Next(2) == 1;
            int stateLength = config.NumLayers * config.Directions * batch * config.StateSize;
            int cellLength = config.NumLayers * config.Directions * batch * config.HiddenSize;
            float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, ParityChecks.InputBound(config));
            float[]? h0 = customState ? Numerics.Uniform(random, stateLength) : null;
            float[]? c0 = customState ? Numerics.Uniform(random, cellLength) : null;
            float[] gradOutput = Numerics.Uniform(random, seqLen * batch * config.Directions * config.StateSize);
            float[]? gradHn = upstreamState ? Numerics.Uniform(random, stateLength) : null;
            float[]? gradCn = upstreamState ? Numerics.Uniform(random, cellLength) : null;
            string detail = $"seqLen {seqLen}, batch {batch}, state {(customState ? "custom" : "default")}, upstream state gradients {(upstreamState ? "given" : "none")}";

            var output = new float[gradOutput.Length];
            var hN = new float[stateLength];
            var cN = new float[cellLength];
            var inference = new float[gradOutput.Length];
            module.Forward(input, seqLen, batch, inference, hN, cN, h0, c0);
            var gradInput = new float[input.Length];
            var gradH0 = customState ? new float[stateLength] : Array.Empty<float>();
            var gradC0 = customState ? new float[cellLength] : Array.Empty<float>();
            module.ZeroGrad();
            var trainingHN = new float[stateLength];
            var trainingCN = new float[cellLength];
            module.Forward(input, seqLen, batch, output, trainingHN, trainingCN, h0, c0, training: true);
            module.Backward(gradOutput, gradHn, gradCn, gradInput, gradH0, gradC0);

            Torch.Gradients reference = Torch.LstmBackward(config, module.Parameters, input, seqLen, batch, h0, c0, gradOutput, gradHn, gradCn, out float[] refCN, out float[]? refGradC0);
            // The training forward drops out layer inputs when Dropout > 0; PyTorch's reference ran without dropout.
            double forward = new[]
            {
                Numerics.MaxScaledError(inference, reference.Output), Numerics.MaxScaledError(hN, reference.HN), Numerics.MaxScaledError(cN, refCN),
                config.Dropout == 0 ? Numerics.MaxScaledError(output, reference.Output) : 0, config.Dropout == 0 ? Numerics.MaxScaledError(trainingCN, refCN) : 0,
            }.Max();
            worstForward = Math.Max(worstForward, forward);
            if (config.ProjSize > 0)
                worstProjectedForward = Math.Max(worstProjectedForward, forward);
            Assert.That(forward, Is.LessThanOrEqualTo(Numerics.ForwardTolerance), $"seed {_seed}: forward {config} {detail}");
            Assert.That(module.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), $"seed {_seed}: kernel path");
            if (config.Dropout == 0)
            {
                double err = Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParityChecks.ParameterError(module.Gradients, reference));
                if (customState)
                    err = Math.Max(err, Math.Max(Numerics.RelativeNormError(gradH0, reference.H0!), Numerics.RelativeNormError(gradC0, refGradC0!)));
                worstGradient = Math.Max(worstGradient, err);
                if (config.ProjSize > 0)
                    worstProjectedGradient = Math.Max(worstProjectedGradient, err);
                gradients++;
                report.AppendLine($"forward {forward:E2}, gradient {err:E2}  {config} {detail}");
                Assert.That(err, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: gradients {config} {detail}");
            }
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {_seed}, path {ExpectedPath.Get()}: {DrawnModules.LstmConfigurations} LSTM configurations ({projected} projecting), max scaled forward error vs PyTorch {worstForward:E2}; {gradients} with dropout 0, max relative gradient error vs autograd {worstGradient:E2} (projecting: forward {worstProjectedForward:E2}, gradient {worstProjectedGradient:E2})");
    }

    [Test]
    public void RandomLstmCellConfigurationsMatchPyTorch()
    {
        var random = new Random(_seed ^ 0x1571);
        var report = new StringBuilder();
        double worstForward = 0, worstGradient = 0;
        foreach (var (config, type) in DrawnModules.OfKind("LSTMCell"))
        {
            var cell = (ILstmCellModule)Activator.CreateInstance(type, random.Next())!;
            int batch = random.Next(1, 9);
            bool customState = random.Next(2) == 1;
            int stateLength = batch * config.HiddenSize;
            float[] input = Numerics.Uniform(random, batch * config.InputSize, ParityChecks.InputBound(config));
            float[]? hx = customState ? Numerics.Uniform(random, stateLength) : null;
            float[]? cx = customState ? Numerics.Uniform(random, stateLength) : null;
            float[] gradH = Numerics.Uniform(random, stateLength), gradC = Numerics.Uniform(random, stateLength);
            var hNext = new float[stateLength];
            var cNext = new float[stateLength];
            var gradInput = new float[input.Length];
            var gradHx = customState ? new float[stateLength] : Array.Empty<float>();
            var gradCx = customState ? new float[stateLength] : Array.Empty<float>();
            cell.ZeroGrad();
            cell.Forward(input, batch, hx, cx, hNext, cNext, training: true);
            cell.Backward(gradH, gradC, gradInput, gradHx, gradCx);
            Torch.Gradients reference = Torch.LstmCellBackward(config, cell.Parameters, input, batch, hx, cx, gradH, gradC, out float[] refC, out float[]? refGradCx);
            string detail = $"batch {batch}, state {(customState ? "custom" : "default")}";
            double forward = Math.Max(Numerics.MaxScaledError(hNext, reference.Output), Numerics.MaxScaledError(cNext, refC));
            double err = Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParityChecks.ParameterError(cell.Gradients, reference));
            if (customState)
                err = Math.Max(err, Math.Max(Numerics.RelativeNormError(gradHx, reference.H0!), Numerics.RelativeNormError(gradCx, refGradCx!)));
            worstForward = Math.Max(worstForward, forward);
            worstGradient = Math.Max(worstGradient, err);
            report.AppendLine($"forward {forward:E2}, gradient {err:E2}  {config} {detail}");
            Assert.That(forward, Is.LessThanOrEqualTo(Numerics.ForwardTolerance), $"seed {_seed}: forward {config} {detail}");
            Assert.That(err, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: gradients {config} {detail}");
            Assert.That(cell.LastKernelPath, Is.EqualTo(ExpectedPath.Get()));
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {_seed}, path {ExpectedPath.Get()}: {DrawnModules.LstmCellConfigurations} LSTMCell configurations, max scaled forward error vs PyTorch {worstForward:E2}, max relative gradient error vs autograd {worstGradient:E2}");
    }

    /// <summary>
    /// Batch 5 is a block of four rows and a single row: on AVX-512 the single row of this 20-unit LSTM runs the
    /// kernel that walks both tiles of units at once (the second holding 4 real units), in inference and in training.
    /// </summary>
    [Test]
    public void SingleRowsOverTwoTilesMatchTheGenericKernelsForwardAndBackward()
    {
        var random = new Random(_seed ^ 0x20);
        var lstm = new PairTailLstm(random.Next());
        var reference = new Dynamic.Lstm(2, 20, seed: 0);
        reference.Parameters.CopyFrom(lstm.Parameters);
        const int SeqLen = 3, Batch = 5;
        float[] x = Numerics.Uniform(random, SeqLen * Batch * 2), h0 = Numerics.Uniform(random, Batch * 20), c0 = Numerics.Uniform(random, Batch * 20);
        float[] gOut = Numerics.Uniform(random, SeqLen * Batch * 20), gHn = Numerics.Uniform(random, Batch * 20), gCn = Numerics.Uniform(random, Batch * 20);
        var results = new List<float[]>();
        foreach (ILstmModule module in new ILstmModule[] { lstm, reference })
        {
            float[] output = new float[SeqLen * Batch * 20], hN = new float[Batch * 20], cN = new float[Batch * 20];
            float[] gx = new float[x.Length], gh0 = new float[h0.Length], gc0 = new float[c0.Length];
            module.Forward(x, SeqLen, Batch, output, hN, cN, h0, c0, training: true);
            module.Backward(gOut, gHn, gCn, gx, gh0, gc0);
            results.AddRange(new[] { output, hN, cN, gx, gh0, gc0, module.Gradients.AsSpan().ToArray() });
        }
        string[] names = { "output", "hN", "cN", "grad input", "grad h0", "grad c0", "parameter gradients" };
        for (int i = 0; i < names.Length; i++)
        {
            if (i < 3)
                Numerics.AssertClose(results[i], results[i + names.Length], names[i]);
            else
                Assert.That(Numerics.RelativeNormError(results[i], results[i + names.Length]), Is.LessThanOrEqualTo(Numerics.GradientTolerance), names[i]);
        }
    }

    [Test]
    public void DeclaredLstmsMatchTheGenericKernelsAndCarryStateInPlace()
    {
        var random = new Random(_seed);
        var lstm = new MixedLstm(random.Next());
        var reference = new Dynamic.Lstm(3, 17, numLayers: 2, batchFirst: true, bidirectional: true, seed: 0);
        reference.Parameters.CopyFrom(lstm.Parameters);
        float[] x = Numerics.Uniform(random, 5 * 4 * 3), h = Numerics.Uniform(random, 4 * 4 * 17), c = Numerics.Uniform(random, 4 * 4 * 17);
        var (output, hN, cN) = lstm.Forward(x, 5, 4, h, c);
        var (refOutput, refHN, refCN) = reference.Forward(x, 5, 4, h, c);
        Numerics.AssertClose(output, refOutput, "output");
        Numerics.AssertClose(hN, refHN, "hN");
        Numerics.AssertClose(cN, refCN, "cN");
        var inPlaceOutput = new float[output.Length];
        lstm.Forward(x, 5, 4, inPlaceOutput, h, c, h, c);
        Assert.That(inPlaceOutput, Is.EqualTo(output));
        Assert.That(h, Is.EqualTo(hN));
        Assert.That(c, Is.EqualTo(cN));

        var cell = new AmpLstmCell(1);
        var cellReference = new Dynamic.LstmCell(1, 32, seed: 0);
        cellReference.Parameters.CopyFrom(cell.Parameters);
        float[] sample = { 0.3f }, ch = new float[32], cc = new float[32];
        for (int t = 0; t < 20; t++)
        {
            sample[0] = MathF.Sin(t);
            var (rh, rc) = cellReference.Forward(sample, 1, ch, cc);
            cell.Forward(sample, 1, ch, cc, ch, cc);
            Numerics.AssertClose(ch, rh, $"h at step {t}");
            Numerics.AssertClose(cc, rc, $"c at step {t}");
        }
    }

    [Test]
    public void TheOperationsOracleAgreesWithNnLstm()
    {
        // The projection's oracle is nn.LSTM's equations as tensor operations (TorchSharp's nn.LSTM has no
        // proj_size); without a projection the same code must reproduce nn.LSTM itself.
        var random = new Random(_seed ^ 0x0AC1);
        int compared = 0;
        foreach (var (config, _) in DrawnModules.Modules.Where(m => m.Config.IsLstm && !m.Config.IsCell && m.Config.ProjSize == 0).Take(4))
        {
            var module = (ILstmModule)config.CreateDynamic(random.Next());
            int seqLen = random.Next(1, 5), batch = random.Next(1, 4);
            int stateLength = config.NumLayers * config.Directions * batch * config.HiddenSize;
            float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize);
            float[] h0 = Numerics.Uniform(random, stateLength), c0 = Numerics.Uniform(random, stateLength);
            float[] gradOutput = Numerics.Uniform(random, seqLen * batch * config.Directions * config.HiddenSize);
            float[] gradHn = Numerics.Uniform(random, stateLength), gradCn = Numerics.Uniform(random, stateLength);
            Torch.Gradients byModule = Torch.LstmModule(config, module.Parameters, input, seqLen, batch, h0, c0, gradOutput, gradHn, gradCn, out float[] cN, out float[]? gradC0);
            Torch.Gradients byOperations = Torch.LstmByOperations(config, module.Parameters, input, seqLen, batch, h0, c0, gradOutput, gradHn, gradCn, out float[] cNOps, out float[]? gradC0Ops);
            string what = $"seed {_seed}: {config}";
            Assert.That(new[] { Numerics.MaxScaledError(byOperations.Output, byModule.Output), Numerics.MaxScaledError(byOperations.HN, byModule.HN), Numerics.MaxScaledError(cNOps, cN) }.Max(),
                Is.LessThanOrEqualTo(Numerics.ForwardTolerance), what);
            double gradients = new[] { Numerics.RelativeNormError(byOperations.Input, byModule.Input), Numerics.RelativeNormError(byOperations.H0!, byModule.H0!), Numerics.RelativeNormError(gradC0Ops!, gradC0!) }
                .Concat(module.Parameters.Names.Select(name => Numerics.RelativeNormError(byOperations.Parameters[name], byModule.Parameters[name]))).Max();
            Assert.That(gradients, Is.LessThanOrEqualTo(Numerics.GradientTolerance), what);
            compared++;
        }
        Assert.That(compared, Is.GreaterThan(0), "no non-projecting LSTM was drawn");
    }

    [Test]
    public void ProjectionParametersHavePyTorchsNamesAndShapes()
    {
        // torch.nn.LSTM(10, 33, num_layers=2, bidirectional=True, proj_size=7).named_parameters(), from PyTorch's
        // documentation (TorchSharp's nn.LSTM cannot build it): weight_hh is (4·hidden, proj), weight_hr (proj, hidden),
        // and layer 1 reads both directions' projected outputs (2·proj).
        var expected = new List<(string, int[])>();
        foreach (string l in new[] { "_l0", "_l0_reverse", "_l1", "_l1_reverse" })
        {
            int inputs = l.StartsWith("_l0", StringComparison.Ordinal) ? 10 : 14;
            expected.Add(("weight_ih" + l, new[] { 132, inputs }));
            expected.Add(("weight_hh" + l, new[] { 132, 7 }));
            expected.Add(("bias_ih" + l, new[] { 132 }));
            expected.Add(("bias_hh" + l, new[] { 132 }));
            expected.Add(("weight_hr" + l, new[] { 7, 33 }));
        }
        var lstm = new ProjectedLstm(1);
        Assert.That(lstm.Parameters.Names, Is.EqualTo(expected.Select(e => e.Item1)));
        foreach (var (name, shape) in expected)
            Assert.That(lstm.Parameters.GetShape(name).ToArray(), Is.EqualTo(shape), name);
        Assert.That(ProjectedLstm.ProjSize, Is.EqualTo(7));
    }

    [Test]
    public void DeclaredProjectedLstmMatchesTheGenericKernelsAndPyTorch()
    {
        var random = new Random(_seed ^ 0x9E0);
        var lstm = new ProjectedLstm(random.Next());
        var reference = new Dynamic.Lstm(10, 33, numLayers: 2, bidirectional: true, projSize: 7, seed: 0);
        reference.Parameters.CopyFrom(lstm.Parameters);
        float[] x = Numerics.Uniform(random, 5 * 3 * 10), h = Numerics.Uniform(random, 4 * 3 * 7), c = Numerics.Uniform(random, 4 * 3 * 33);
        var (output, hN, cN) = lstm.Forward(x, 5, 3, h, c);
        Assert.That(output, Has.Length.EqualTo(5 * 3 * 2 * 7));
        var (refOutput, refHN, refCN) = reference.Forward(x, 5, 3, h, c);
        Numerics.AssertClose(output, refOutput, "output");
        Numerics.AssertClose(hN, refHN, "hN");
        Numerics.AssertClose(cN, refCN, "cN");
        var config = new RnnConfig(false, 10, 33, 2, Bidirectional: true, IsLstm: true, ProjSize: 7);
        float[] gradOutput = Numerics.Uniform(random, output.Length);
        Torch.Gradients torch = Torch.LstmByOperations(config, lstm.Parameters, x, 5, 3, h, c, gradOutput, null, null, out float[] torchCN, out _);
        Assert.That(Math.Max(Numerics.MaxScaledError(output, torch.Output), Numerics.MaxScaledError(cN, torchCN)), Is.LessThanOrEqualTo(Numerics.ForwardTolerance));

        var inPlaceOutput = new float[output.Length];
        lstm.Forward(x, 5, 3, inPlaceOutput, h, c, h, c);
        Assert.That(inPlaceOutput, Is.EqualTo(output));
        Assert.That(h, Is.EqualTo(hN));
        Assert.That(c, Is.EqualTo(cN));
        Assert.That(lstm.LastKernelPath, Is.EqualTo(ExpectedPath.Get()));
    }

    [Test]
    public void ProjectedLstmNamesProjSizeInLengthErrors()
    {
        var lstm = new ProjectedLstm(1);
        float[] x = new float[2 * 10], output = new float[2 * 2 * 7], c = new float[4 * 33];
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, 2, 1, output, new float[4 * 33], c))!;
        Assert.That(e.ParamName, Is.EqualTo("hN"));
        Assert.That(e.Message, Does.Contain("projSize"));
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, 2, 1, output, new float[4 * 7], new float[4 * 7]))!;
        Assert.That(e.ParamName, Is.EqualTo("cN"));
        Assert.That(e.Message, Does.Contain("hiddenSize"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dynamic.Lstm(4, 8, projSize: 8));
        Assert.Throws<ArgumentException>(() => new RnnShape(4, 8, isCell: true, gateCount: 4, projSize: 2));
    }
}

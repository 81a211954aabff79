using System;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// The smallest shapes, across module kinds: hidden size 1 (every stride of the generic kernels is 1, and the gated steps'
/// one-input products are straight-line code) and 5 (a single row's five inputs are one pass of four accumulator sets
/// plus one), against the generic kernels and, for training, PyTorch.
/// </summary>
[Category("Numeric")]
[NonParallelizable]
public class SmallShapeParityTests
{
    private readonly int _seed = DrawnModules.Seed;

    [Test]
    public void HiddenOneAndFiveCellsMatchTheGenericKernels()
    {
        var random = new Random(_seed ^ 0x15);
        foreach ((ILstmCellModule cell, int input, int hidden) in new (ILstmCellModule, int, int)[] { (new TinyLstmCell(random.Next()), 1, 1), (new FiveLstmCell(random.Next()), 3, 5) })
        {
            var reference = new Dynamic.LstmCell(input, hidden, seed: 0);
            reference.Parameters.CopyFrom(cell.Parameters);
            foreach (int batch in new[] { 1, 2, 3, 5, 9 })
            {
                float[] x = Numerics.Uniform(random, batch * input, 2f), hx = Numerics.Uniform(random, batch * hidden), cx = Numerics.Uniform(random, batch * hidden);
                var (h, c) = cell.Forward(x, batch, hx, cx);
                var (rh, rc) = reference.Forward(x, batch, hx, cx);
                Numerics.AssertClose(h, rh, $"seed {_seed}, LstmCell({input}, {hidden}) h, batch {batch}");
                Numerics.AssertClose(c, rc, $"seed {_seed}, LstmCell({input}, {hidden}) c, batch {batch}");
            }
        }

        IRnnCellModule gru = new TinyGruCell(random.Next());
        var gruReference = new Dynamic.GruCell(1, 1, seed: 0);
        gruReference.Parameters.CopyFrom(gru.Parameters);
        foreach (int batch in new[] { 1, 2, 3, 5, 9 })
        {
            float[] x = Numerics.Uniform(random, batch, 2f), hx = Numerics.Uniform(random, batch);
            Numerics.AssertClose(gru.Forward(x, batch, hx), gruReference.Forward(x, batch, hx), $"seed {_seed}, GruCell(1, 1), batch {batch}");
        }

        ILstmModule lstm = new TinyLstm(random.Next());
        var lstmReference = new Dynamic.Lstm(6, 1, numLayers: 2, seed: 0);
        lstmReference.Parameters.CopyFrom(lstm.Parameters);
        foreach ((int seqLen, int batch) in new[] { (1, 1), (4, 3), (3, 9) })
        {
            float[] x = Numerics.Uniform(random, seqLen * batch * 6, 2f);
            var (output, hN, cN) = lstm.Forward(x, seqLen, batch);
            var (rOutput, rHN, rCN) = ((ILstmModule)lstmReference).Forward(x, seqLen, batch);
            Numerics.AssertClose(output, rOutput, $"seed {_seed}, Lstm(6, 1) output, seqLen {seqLen}, batch {batch}");
            Numerics.AssertClose(hN, rHN, $"seed {_seed}, Lstm(6, 1) hN");
            Numerics.AssertClose(cN, rCN, $"seed {_seed}, Lstm(6, 1) cN");
        }
        Assert.That(lstm.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), ExpectedPath.Describe());
    }

    [Test]
    public void OneByOneModulesTrainLikePyTorch()
    {
        // Input 1, hidden 1, one direction: every stride of the generic kernels is 1 (a backward once asked its
        // one-float scratch for the two bias sums).
        var random = new Random(_seed ^ 0x11);
        foreach (RnnConfig config in new[] { new RnnConfig(false, 1, 1), new RnnConfig(false, 1, 1, IsGru: true), new RnnConfig(false, 1, 1, IsLstm: true) })
        {
            float[] input = Numerics.Uniform(random, 3 * 2), gradOutput = Numerics.Uniform(random, 3 * 2);
            var output = new float[gradOutput.Length];
            var gradInput = new float[input.Length];
            Torch.Gradients reference;
            ParameterSet gradients;
            if (config.IsLstm)
            {
                var lstm = (ILstmModule)config.CreateDynamic(random.Next());
                lstm.Forward(input, 3, 2, output, new float[2], new float[2], training: true);
                lstm.Backward(gradOutput, default, default, gradInput, default, default);
                reference = Torch.LstmBackward(config, lstm.Parameters, input, 3, 2, null, null, gradOutput, null, null, out _, out _);
                gradients = lstm.Gradients;
            }
            else
            {
                var rnn = (IRnnModule)config.CreateDynamic(random.Next());
                rnn.Forward(input, 3, 2, output, new float[2], training: true);
                rnn.Backward(gradOutput, default, gradInput, default);
                reference = Torch.RnnBackward(config, rnn.Parameters, input, 3, 2, null, gradOutput, null);
                gradients = rnn.Gradients;
            }
            Assert.That(Numerics.MaxScaledError(output, reference.Output), Is.LessThanOrEqualTo(Numerics.ForwardTolerance), config.ToString());
            Assert.That(Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParityChecks.ParameterError(gradients, reference)),
                Is.LessThanOrEqualTo(Numerics.GradientTolerance), config.ToString());
        }
    }
}

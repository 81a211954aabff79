using System;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Modules whose last tile of units is packed at its own width, half a vector (the generator's <c>PathPlan.NarrowLastTile</c>:
/// its weight panels and bias, its projection and products in half vectors), against PyTorch: <see cref="NarrowTileGru"/>,
/// <see cref="NarrowTileGruCell"/> (no bias) and <see cref="NarrowTileLstmCell"/>. A batch of one (a row stepped tile by
/// tile, called twice so that the second call walks the tiles in the other order) and a batch of five (a register block of
/// rows, then single rows); inference, then training's forward and backward against autograd. Their split over threads is
/// <see cref="ParallelTests.ALargeRowSplitsByTilesBitIdentically"/>'s; the drawn parity modules meet narrow tiles at random
/// (hidden 33, 65, 100, 129, 200 on AVX-512; 17 and more on AVX2).
/// </summary>
[Category("Numeric")]
[NonParallelizable]
public class NarrowTileTests
{
    private readonly int _seed = DrawnModules.Seed;

    [TestCase(1)]
    [TestCase(5)]
    public void GruSequenceMatchesPyTorch(int batch)
    {
        var random = new Random(_seed ^ 0x260 ^ batch);
        var config = new RnnConfig(false, 100, 260, IsGru: true);
        IRnnModule gru = new NarrowTileGru(random.Next());
        const int seqLen = 3;
        float[] h0 = Numerics.Uniform(random, batch * config.HiddenSize);
        for (int call = 0; call < 2; call++)
        {
            float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, ParityChecks.InputBound(config));
            var output = new float[seqLen * batch * config.HiddenSize];
            var hN = new float[h0.Length];
            gru.Forward(input, seqLen, batch, output, hN, h0);
            var (refOutput, refHN) = Torch.RnnForward(config, gru.Parameters, input, seqLen, batch, h0);
            Numerics.AssertClose(output, refOutput, $"seed {_seed}, {config}, batch {batch}, call {call}: output");
            Numerics.AssertClose(hN, refHN, $"seed {_seed}, {config}, batch {batch}, call {call}: hN");
        }
        double gradient = ParityChecks.GradientError(config, gru, random, _seed, out string detail);
        Assert.That(gradient, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: gradients {config} {detail}");
        Assert.That(gru.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), ExpectedPath.Describe());
    }

    [TestCase(1)]
    [TestCase(5)]
    public void GruCellWithoutBiasMatchesPyTorch(int batch)
    {
        var random = new Random(_seed ^ 0x261 ^ batch);
        var config = new RnnConfig(true, 100, 260, Bias: false, IsGru: true);
        IRnnCellModule cell = new NarrowTileGruCell(random.Next());
        for (int call = 0; call < 2; call++)
        {
            float[] input = Numerics.Uniform(random, batch * config.InputSize, ParityChecks.InputBound(config));
            float[] hx = Numerics.Uniform(random, batch * config.HiddenSize);
            var hNext = new float[hx.Length];
            cell.Forward(input, batch, hx, hNext);
            Numerics.AssertClose(hNext, Torch.CellForward(config, cell.Parameters, input, batch, hx), $"seed {_seed}, {config}, batch {batch}, call {call}");
        }
        double gradient = ParityChecks.CellGradientError(config, cell, random, _seed, out string detail);
        Assert.That(gradient, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: gradients {config} {detail}");
    }

    [TestCase(1)]
    [TestCase(5)]
    public void LstmCellMatchesPyTorch(int batch)
    {
        var random = new Random(_seed ^ 0x40 ^ batch);
        var config = new RnnConfig(true, 3000, 40, IsLstm: true);
        ILstmCellModule cell = new NarrowTileLstmCell(random.Next());
        int state = batch * config.HiddenSize;
        for (int call = 0; call < 2; call++)
        {
            float[] input = Numerics.Uniform(random, batch * config.InputSize, ParityChecks.InputBound(config));
            float[] hx = Numerics.Uniform(random, state), cx = Numerics.Uniform(random, state);
            float[] gradH = Numerics.Uniform(random, state), gradC = Numerics.Uniform(random, state);
            var hNext = new float[state];
            var cNext = new float[state];
            // Inference first (the one-row step walks its tiles), then training's forward and backward on the same input.
            cell.Forward(input, batch, hx, cx, hNext, cNext);
            Torch.Gradients reference = Torch.LstmCellBackward(config, cell.Parameters, input, batch, hx, cx, gradH, gradC, out float[] refC, out float[]? refGradCx);
            string what = $"seed {_seed}, {config}, batch {batch}, call {call}";
            Numerics.AssertClose(hNext, reference.Output, what + ": h");
            Numerics.AssertClose(cNext, refC, what + ": c");

            var gradInput = new float[input.Length];
            var gradHx = new float[state];
            var gradCx = new float[state];
            cell.ZeroGrad();
            cell.Forward(input, batch, hx, cx, hNext, cNext, training: true);
            cell.Backward(gradH, gradC, gradInput, gradHx, gradCx);
            Numerics.AssertClose(hNext, reference.Output, what + ": training h");
            double err = Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParityChecks.ParameterError(cell.Gradients, reference));
            err = Math.Max(err, Math.Max(Numerics.RelativeNormError(gradHx, reference.H0!), Numerics.RelativeNormError(gradCx, refGradCx!)));
            Assert.That(err, Is.LessThanOrEqualTo(Numerics.GradientTolerance), what + ": gradients");
        }
    }
}

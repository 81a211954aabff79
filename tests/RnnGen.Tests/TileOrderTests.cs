using System;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// A batch of one walks its tiles of units last to first on every other call (<c>IRnnKernels.Step</c>'s
/// tilesBackward, alternated by the driver so that a step whose weights about fill L2 reads first what the previous
/// step read last). The units are independent, so the order must not change a bit: the same call made again three calls
/// later (in the other order; the two calls between run on another input, so that no buffer still holds the first
/// call's values) gives the same output, hN and cN, compared as bits, for cells and sequence
/// modules of several tiles with a partial last tile on every path (LSTM and GRU steps, whose kernels take the flag;
/// Elman modules, whose input projection does), one step and several (whose steps alternate within the call too). On
/// every path (CI runs the Numeric category once per path).
/// </summary>
[TestFixture]
[Category("Numeric")]
public class TileOrderTests
{
    private const int Inputs = 20, Hidden = 42;

    [Test]
    public void AnLstmCellsStepIsTheSameInEitherTileOrder()
    {
        var cell = new TiledLstmCell(3);
        var random = new Random(41);
        float[] x = Numerics.Uniform(random, Inputs), other = Numerics.Uniform(random, Inputs), hx = Numerics.Uniform(random, Hidden), cx = Numerics.Uniform(random, Hidden);
        float[] h = new float[Hidden], c = new float[Hidden];
        OrdersAgree(disturb => { cell.Forward(disturb ? other : x, 1, hx, cx, h, c); return (h, c); });
    }

    [Test]
    public void AGruCellsStepIsTheSameInEitherTileOrder()
    {
        var cell = new TiledGruCell(3);
        var random = new Random(43);
        float[] x = Numerics.Uniform(random, Inputs), other = Numerics.Uniform(random, Inputs), hx = Numerics.Uniform(random, Hidden), h = new float[Hidden];
        OrdersAgree(disturb => { cell.Forward(disturb ? other : x, 1, hx, h); return (h, h); });
    }

    [Test]
    public void AnElmanCellsStepIsTheSameInEitherTileOrder()
    {
        IRnnCellModule cell = new TutorialCell(3);
        var random = new Random(45);
        float[] x = Numerics.Uniform(random, cell.InputSize), other = Numerics.Uniform(random, cell.InputSize), hx = Numerics.Uniform(random, cell.HiddenSize), h = new float[cell.HiddenSize];
        OrdersAgree(disturb => { cell.Forward(disturb ? other : x, 1, hx, h); return (h, h); });
    }

    [TestCase(1)]
    [TestCase(5)]
    public void AnLstmsBatchOfOneIsTheSameInEitherTileOrder(int seqLen)
    {
        ILstmModule lstm = new WideLstm(5);
        var random = new Random(47 + seqLen);
        int inputs = lstm.InputSize, hidden = lstm.HiddenSize;
        float[] x = Numerics.Uniform(random, seqLen * inputs), other = Numerics.Uniform(random, seqLen * inputs), h0 = Numerics.Uniform(random, hidden), c0 = Numerics.Uniform(random, hidden);
        float[] output = new float[seqLen * hidden], hN = new float[hidden], cN = new float[hidden];
        OrdersAgree(disturb => { lstm.Forward(disturb ? other : x, seqLen, 1, output, hN, cN, h0, c0); return (output, Concat(hN, cN)); });
    }

    [TestCase(1)]
    [TestCase(5)]
    public void AGrusBatchOfOneIsTheSameInEitherTileOrder(int seqLen)
    {
        var gru = new TiledGru(5);
        var random = new Random(53 + seqLen);
        float[] x = Numerics.Uniform(random, seqLen * Inputs), other = Numerics.Uniform(random, seqLen * Inputs), h0 = Numerics.Uniform(random, Hidden);
        float[] output = new float[seqLen * Hidden], hN = new float[Hidden];
        OrdersAgree(disturb => { gru.Forward(disturb ? other : x, seqLen, 1, output, hN, h0); return (output, hN); });
    }

    [TestCase(1)]
    [TestCase(5)]
    public void AnElmanRnnsBatchOfOneIsTheSameInEitherTileOrder(int seqLen)
    {
        IRnnModule rnn = new TutorialRnn(5);
        var random = new Random(59 + seqLen);
        float[] x = Numerics.Uniform(random, seqLen * rnn.InputSize), other = Numerics.Uniform(random, seqLen * rnn.InputSize), h0 = Numerics.Uniform(random, rnn.HiddenSize);
        float[] output = new float[seqLen * rnn.HiddenSize], hN = new float[rnn.HiddenSize];
        OrdersAgree(disturb => { rnn.Forward(disturb ? other : x, seqLen, 1, output, hN, h0); return (output, hN); });
    }

    /// <summary>
    /// The call (on its input; on another with disturb), then twice on the other input, then again: each call flips the
    /// tile order, so the first and the last run in opposite orders. Their results as bits, twice over.
    /// </summary>
    private static void OrdersAgree(Func<bool, (float[] Output, float[] State)> call)
    {
        for (int round = 0; round < 2; round++)
        {
            var (output, state) = call(false);
            int[] outputBits = Numerics.Bits(output), stateBits = Numerics.Bits(state);
            call(true);
            call(true);
            (output, state) = call(false);
            Assert.That(Numerics.Bits(output), Is.EqualTo(outputBits).AsCollection, $"round {round}: the output in the other tile order");
            Assert.That(Numerics.Bits(state), Is.EqualTo(stateBits).AsCollection, $"round {round}: the state in the other tile order");
        }
    }

    private static float[] Concat(float[] a, float[] b)
    {
        var all = new float[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        return all;
    }
}

using System;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// A batch of one walks its tiles of units last to first on every other call (<c>IRnnKernels.Step</c>'s
/// tilesBackward, alternated by the driver so that a step whose weights about fill L2 reads first what the previous
/// call read last). The units are independent, so the order must not change a bit: the same call made twice in a row
/// (the second in the other order) gives the same output, hN and cN, for cells and sequence modules of several tiles,
/// one step and several (whose steps alternate within the call too). On every path (CI runs the Numeric category once
/// per path). That either order gives PyTorch's numbers is the parity tests' and the batch-of-one tests' part: each
/// makes several calls to one module.
/// </summary>
[TestFixture]
[Category("Numeric")]
public class TileOrderTests
{
    private const int Inputs = 20, Hidden = 40;

    [Test]
    public void AnLstmCellsStepIsTheSameInEitherTileOrder()
    {
        var cell = new TiledLstmCell(3);
        var random = new Random(41);
        float[] x = Numerics.Uniform(random, Inputs), hx = Numerics.Uniform(random, Hidden), cx = Numerics.Uniform(random, Hidden);
        var (h1, c1, h2, c2) = (new float[Hidden], new float[Hidden], new float[Hidden], new float[Hidden]);
        for (int call = 0; call < 3; call++)
        {
            cell.Forward(x, 1, hx, cx, h1, c1);
            cell.Forward(x, 1, hx, cx, h2, c2);
            Assert.That(h2, Is.EqualTo(h1).AsCollection, "h");
            Assert.That(c2, Is.EqualTo(c1).AsCollection, "c");
        }
    }

    [Test]
    public void AGruCellsStepIsTheSameInEitherTileOrder()
    {
        var cell = new TiledGruCell(3);
        var random = new Random(43);
        float[] x = Numerics.Uniform(random, Inputs), hx = Numerics.Uniform(random, Hidden);
        var (h1, h2) = (new float[Hidden], new float[Hidden]);
        for (int call = 0; call < 3; call++)
        {
            cell.Forward(x, 1, hx, h1);
            cell.Forward(x, 1, hx, h2);
            Assert.That(h2, Is.EqualTo(h1).AsCollection);
        }
    }

    [TestCase(1)]
    [TestCase(5)]
    public void AnLstmsBatchOfOneIsTheSameInEitherTileOrder(int seqLen)
    {
        var lstm = new WideLstm(5);
        var random = new Random(47 + seqLen);
        const int inputs = 100, hidden = 200;
        float[] x = Numerics.Uniform(random, seqLen * inputs), h0 = Numerics.Uniform(random, hidden), c0 = Numerics.Uniform(random, hidden);
        var (o1, h1, c1) = (new float[seqLen * hidden], new float[hidden], new float[hidden]);
        var (o2, h2, c2) = (new float[seqLen * hidden], new float[hidden], new float[hidden]);
        for (int call = 0; call < 3; call++)
        {
            lstm.Forward(x, seqLen, 1, o1, h1, c1, h0, c0);
            lstm.Forward(x, seqLen, 1, o2, h2, c2, h0, c0);
            Assert.That(o2, Is.EqualTo(o1).AsCollection, "output");
            Assert.That(h2, Is.EqualTo(h1).AsCollection, "hN");
            Assert.That(c2, Is.EqualTo(c1).AsCollection, "cN");
        }
    }

    [TestCase(1)]
    [TestCase(5)]
    public void AGrusBatchOfOneIsTheSameInEitherTileOrder(int seqLen)
    {
        var gru = new TiledGru(5);
        var random = new Random(53 + seqLen);
        float[] x = Numerics.Uniform(random, seqLen * Inputs), h0 = Numerics.Uniform(random, Hidden);
        var (o1, h1) = (new float[seqLen * Hidden], new float[Hidden]);
        var (o2, h2) = (new float[seqLen * Hidden], new float[Hidden]);
        for (int call = 0; call < 3; call++)
        {
            gru.Forward(x, seqLen, 1, o1, h1, h0);
            gru.Forward(x, seqLen, 1, o2, h2, h0);
            Assert.That(o2, Is.EqualTo(o1).AsCollection, "output");
            Assert.That(h2, Is.EqualTo(h1).AsCollection, "hN");
        }
    }
}

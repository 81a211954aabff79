using System;
using System.Collections.Generic;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// The generated modules against the runtime's generic scalar kernels (the reference every SIMD path is
/// held to), and the contract around them: parameter changes are seen, state may be carried in place,
/// bad input is refused before anything is written, and steady-state calls allocate nothing.
/// </summary>
[Category("Numeric")]
public class ModuleBehaviourTests
{
    private readonly int _seed = Numerics.FreshSeed();

    public static IEnumerable<TestCaseData> Sequences()
    {
        yield return new TestCaseData((Func<int, IRnnModule>)(s => new TutorialRnn(s)), new RnnConfig(false, 100, 200)).SetName("TutorialRnn");
        yield return new TestCaseData((Func<int, IRnnModule>)(s => new StreamingRnn(s)), new RnnConfig(false, 1, 32)).SetName("StreamingRnn");
        yield return new TestCaseData((Func<int, IRnnModule>)(s => new MixedRnn(s)), new RnnConfig(false, 3, 17, 2, true, true, false, Nonlinearity.Relu)).SetName("MixedRnn");
        yield return new TestCaseData((Func<int, IRnnModule>)(s => new DeepBidirectionalRnn(s)), new RnnConfig(false, 17, 100, 3, true)).SetName("DeepBidirectionalRnn");
        yield return new TestCaseData((Func<int, IRnnModule>)(s => new WideInputRnn(s)), new RnnConfig(false, 200, 3, BatchFirst: true)).SetName("WideInputRnn");
    }

    public static IEnumerable<TestCaseData> Cells()
    {
        yield return new TestCaseData((Func<int, IRnnCellModule>)(s => new TutorialCell(s)), new RnnConfig(true, 100, 200)).SetName("TutorialCell");
        yield return new TestCaseData((Func<int, IRnnCellModule>)(s => new TinyCell(s)), new RnnConfig(true, 1, 1)).SetName("TinyCell");
        yield return new TestCaseData((Func<int, IRnnCellModule>)(s => new ReluCell(s)), new RnnConfig(true, 3, 17, Nonlinearity: Nonlinearity.Relu)).SetName("ReluCell");
        yield return new TestCaseData((Func<int, IRnnCellModule>)(s => new NoBiasCell(s)), new RnnConfig(true, 17, 3, Bias: false)).SetName("NoBiasCell");
    }

    [TestCaseSource(nameof(Sequences))]
    public void SequenceMatchesGenericKernelsAndRunsTheExpectedPath(Func<int, IRnnModule> create, RnnConfig config)
    {
        var random = new Random(_seed);
        IRnnModule module = create(random.Next());
        var reference = (IRnnModule)config.CreateDynamic(0);
        reference.Parameters.CopyFrom(module.Parameters);
        foreach ((int seqLen, int batch) in new[] { (1, 1), (3, 5), (7, 2), (2, 9) })
        {
            float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, 2f);
            float[] h0 = Numerics.Uniform(random, config.NumLayers * config.Directions * batch * config.HiddenSize);
            var (output, hN) = module.Forward(input, seqLen, batch, h0);
            var (refOutput, refHN) = reference.Forward(input, seqLen, batch, h0);
            Numerics.AssertClose(output, refOutput, $"seed {_seed}, output, seqLen {seqLen}, batch {batch}");
            Numerics.AssertClose(hN, refHN, $"seed {_seed}, hN, seqLen {seqLen}, batch {batch}");
        }
        Assert.That(module.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), ExpectedPath.Describe());
        Assert.That(reference.LastKernelPath, Is.EqualTo(KernelPath.Scalar));
    }

    [TestCaseSource(nameof(Cells))]
    public void CellMatchesGenericKernelsAndRunsTheExpectedPath(Func<int, IRnnCellModule> create, RnnConfig config)
    {
        var random = new Random(_seed);
        IRnnCellModule cell = create(random.Next());
        var reference = (IRnnCellModule)config.CreateDynamic(0);
        reference.Parameters.CopyFrom(cell.Parameters);
        foreach (int batch in new[] { 1, 2, 3, 4, 5, 8, 13 })
        {
            float[] input = Numerics.Uniform(random, batch * config.InputSize, 2f);
            float[] hx = Numerics.Uniform(random, batch * config.HiddenSize);
            Numerics.AssertClose(cell.Forward(input, batch, hx), reference.Forward(input, batch, hx), $"seed {_seed}, batch {batch}");
            Numerics.AssertClose(cell.Forward(input, batch), reference.Forward(input, batch), $"seed {_seed}, batch {batch}, zero hx");
        }
        Assert.That(cell.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), ExpectedPath.Describe());
    }

    [Test]
    public void ThePathIsTheOneTheHardwareAndSwitchesCallFor()
    {
        TestContext.Out.WriteLine(ExpectedPath.Describe());
        Assert.That(Simd.Path, Is.EqualTo(ExpectedPath.Get()));
        var rnn = new StreamingRnn(1);
        rnn.Forward(new float[1], 1, 1);
        Assert.That(rnn.LastKernelPath, Is.EqualTo(ExpectedPath.Get()));
    }

    [Test]
    public void EveryWayOfChangingParametersIsSeenByTheNextCall()
    {
        var rnn = new StreamingRnn(3);
        var reference = new Dynamic.Rnn(1, 32, seed: 4);
        float[] input = Numerics.Uniform(new Random(_seed), 5 * 2);
        void AssertSame(string how)
        {
            reference.Parameters.CopyFrom(rnn.Parameters);
            Numerics.AssertClose(rnn.Forward(input, 5, 2).Output, reference.Forward(input, 5, 2).Output, how);
        }

        AssertSame("initial");
        rnn.Parameters["weight_hh_l0"][7] = 0.9f;
        AssertSame("indexer");
        rnn.Parameters.AsSpan()[0] = -0.5f;
        AssertSame("AsSpan");
        rnn.Parameters.CopyFrom(new StreamingRnn(11).Parameters);
        AssertSame("CopyFrom");
        rnn.Parameters.InitUniform(12, 0.3f);
        AssertSame("InitUniform");
        float[] before = rnn.Forward(input, 5, 2).Output;
        rnn.Parameters["bias_ih_l0"].Fill(0.25f);
        Assert.That(rnn.Forward(input, 5, 2).Output, Is.Not.EqualTo(before), "a bias change changes the output");
    }

    [Test]
    public void CellStateMayBeUpdatedInPlace()
    {
        var cell = new TutorialCell(5);
        var random = new Random(_seed);
        float[] x = Numerics.Uniform(random, 3 * 100);
        float[] h = Numerics.Uniform(random, 3 * 200);
        float[] expected = cell.Forward(x, 3, h);
        cell.Forward(x, 3, h, h);
        Assert.That(h, Is.EqualTo(expected));
    }

    [Test]
    public void SequenceStateMayBeCarriedInPlace()
    {
        var rnn = new DeepBidirectionalRnn(5);
        var random = new Random(_seed);
        float[] x = Numerics.Uniform(random, 4 * 2 * 17);
        float[] h = Numerics.Uniform(random, 3 * 2 * 2 * 100);
        var (expectedOutput, expectedHN) = rnn.Forward(x, 4, 2, h);
        var output = new float[expectedOutput.Length];
        rnn.Forward(x, 4, 2, output, h, h);
        Assert.That(output, Is.EqualTo(expectedOutput));
        Assert.That(h, Is.EqualTo(expectedHN));
    }

    [Test]
    public void StreamingStepByStepEqualsOneSequenceCall()
    {
        var rnn = new StreamingRnn(9);
        float[] x = Numerics.Uniform(new Random(_seed), 50);
        var (whole, _) = rnn.Forward(x, 50, 1);
        var h = new float[32];
        var y = new float[32];
        for (int t = 0; t < 50; t++)
        {
            rnn.Forward(x.AsSpan(t, 1), 1, 1, y, h, h);
            Assert.That(y, Is.EqualTo(whole.AsSpan(t * 32, 32).ToArray()), $"step {t}");
        }
    }

    [Test]
    public void SteadyStateCallsAllocateNothing()
    {
        var rnn = new DeepBidirectionalRnn(1);
        var cell = new TutorialCell(1);
        var random = new Random(_seed);
        float[] x = Numerics.Uniform(random, 6 * 5 * 17), output = new float[6 * 5 * 200], hN = new float[3 * 2 * 5 * 100], h0 = Numerics.Uniform(random, hN.Length);
        float[] cx = Numerics.Uniform(random, 5 * 100), ch = new float[5 * 200];
        void Calls()
        {
            rnn.Forward(x, 6, 5, output, hN, h0);
            rnn.Forward(x, 6, 5, output, hN, default);
            rnn.Forward(x.AsSpan(0, 3 * 5 * 17), 3, 5, output.AsSpan(0, 3 * 5 * 200), hN, hN);
            cell.Forward(cx, 5, ch, ch);
            cell.Forward(cx, 5, default, ch);
        }
        Numerics.WarmUp(Calls); // workspace growth, packing, tiered JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            Calls();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.EqualTo(0), "bytes allocated by 500 steady-state calls");
    }

    [Test]
    public void LstmStepsAllocateNothing()
    {
        var cell = new AmpLstmCell(1);
        var lstm = new WideLstm(1);
        float[] sample = new float[1], h = new float[32], c = new float[32];
        float[] x = new float[3 * 2 * 100], output = new float[3 * 2 * 200], hN = new float[2 * 200], cN = new float[2 * 200];
        var gru = new AmpGruCell(1);
        float[] g = new float[32];
        var projected = new ProjectedLstm(1);
        float[] px = new float[3 * 2 * 10], pOutput = new float[3 * 2 * 14], pH = new float[4 * 2 * 7], pC = new float[4 * 2 * 33];
        void Calls()
        {
            cell.Forward(sample, 1, h, c, h, c);
            lstm.Forward(x, 3, 2, output, hN, cN, hN, cN);
            gru.Forward(sample, 1, g, g);
            projected.Forward(px, 3, 2, pOutput, pH, pC, pH, pC);
        }
        Numerics.WarmUp(Calls);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            Calls();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
    }

    [Test]
    public void BadInputIsRefusedBeforeAnythingIsWritten()
    {
        var rnn = new MixedRnn(1); // 3 -> 17, 2 layers, bidirectional, batch-first
        const int T = 4, B = 3;
        float[] x = new float[T * B * 3], output = new float[T * B * 34], hN = new float[2 * 2 * B * 17];

        void Refused(string parameter, Action call)
        {
            Array.Fill(output, 42f);
            Array.Fill(hN, 42f);
            var ex = Assert.Throws(Is.InstanceOf<ArgumentException>(), call)!;
            Assert.That(((ArgumentException)ex).ParamName, Is.EqualTo(parameter), ex.Message);
            Assert.That(output, Is.All.EqualTo(42f), $"{parameter}: output untouched");
            Assert.That(hN, Is.All.EqualTo(42f), $"{parameter}: hN untouched");
            TestContext.Out.WriteLine($"{parameter}: {ex.Message}");
        }

        Refused("seqLen", () => rnn.Forward(x, 0, B, output, hN));
        Refused("batch", () => rnn.Forward(x, T, -1, output, hN));
        Refused("input", () => rnn.Forward(x.AsSpan(1), T, B, output, hN));
        Refused("output", () => rnn.Forward(x, T, B, output.AsSpan(1), hN));
        Refused("hN", () => rnn.Forward(x, T, B, output, hN.AsSpan(0, hN.Length - 1)));
        Refused("h0", () => rnn.Forward(x, T, B, output, hN, new float[5]));
        Refused("output", () => rnn.Forward(output.AsSpan(0, x.Length), T, B, output, hN));

        var state = new float[hN.Length + 1];
        Assert.That(Assert.Throws<ArgumentException>(() => rnn.Forward(x, T, B, output, state.AsSpan(0, hN.Length), state.AsSpan(1, hN.Length)))!.ParamName,
            Is.EqualTo("hN"), "hN partly overlapping h0");
        Assert.That(state, Is.All.EqualTo(0f), "state untouched");

        var ex = Assert.Throws<ArgumentException>(() => rnn.Forward(x, T, B, output, hN, new float[5]))!;
        Assert.That(ex.Message, Does.Contain("h0").And.Contain((2 * 2 * B * 17).ToString()), "names the expected length");

        var cell = new ReluCell(1);
        float[] cx = new float[2 * 3], ch = new float[2 * 17];
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => cell.Forward(cx, 0, default, ch))!.ParamName, Is.EqualTo("batch"));
        Assert.That(Assert.Throws<ArgumentException>(() => cell.Forward(cx, 2, new float[3], ch))!.ParamName, Is.EqualTo("hx"));
        Assert.That(Assert.Throws<ArgumentException>(() => cell.Forward(cx, 2, default, ch.AsSpan(1)))!.ParamName, Is.EqualTo("hNext"));
        Assert.That(Assert.Throws<ArgumentException>(() => cell.Forward(cx.AsSpan(1), 2, default, ch))!.ParamName, Is.EqualTo("input"));
    }
}

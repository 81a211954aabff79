using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using RnnGen.__Internals;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Batch rows split over threads (<see cref="Parallelism"/>) give bit-for-bit the results of one thread, on every
/// drawn sequence configuration (and on every path: CI runs the Numeric category once per path), allocate nothing in
/// steady state, and stay correct when many modules are called from many threads at once.
/// </summary>
[TestFixture]
[Category("Numeric")]
[NonParallelizable]
public class ParallelTests
{
    private static readonly int[] s_batches = { 5, 8, 9, 13, 32, 37 };
    private static readonly int[] s_degrees = { 2, 3, 4 };

    [TearDown]
    public void RestoreOneThread() => Parallelism.MaxDegreeOfParallelism = 1;

    public static IEnumerable<TestCaseData> SequenceModules() =>
        DrawnModules.Modules.Select((m, i) => (m.Config, m.Type, Index: i)).Where(m => !m.Config.IsCell)
            .Select(m => new TestCaseData(m.Index).SetArgDisplayNames($"{m.Index}: {m.Config}"));

    [TestCaseSource(nameof(SequenceModules))]
    public void SplitOverThreadsIsBitIdenticalToOneThread(int index)
    {
        (RnnConfig config, Type type) = DrawnModules.Modules[index];
        var random = new Random(DrawnModules.Seed + index);
        int seqLen = random.Next(1, 12), batch = s_batches[random.Next(s_batches.Length)];
        bool withInitial = random.Next(2) == 1;
        object module = Activator.CreateInstance(type, random.Next())!;
        float[] x = Numerics.Uniform(random, seqLen * batch * config.InputSize);
        int states = config.NumLayers * config.Directions * batch;
        float[]? h0 = withInitial ? Numerics.Uniform(random, states * config.StateSize) : null;
        float[]? c0 = withInitial && config.IsLstm ? Numerics.Uniform(random, states * config.HiddenSize) : null;

        Parallelism.MaxDegreeOfParallelism = 1;
        (float[] output, float[] hN, float[] cN) expected = Run(module, config, x, seqLen, batch, h0, c0);
        foreach (int degree in s_degrees)
        {
            Parallelism.MaxDegreeOfParallelism = degree;
            (float[] output, float[] hN, float[] cN) actual = Run(module, config, x, seqLen, batch, h0, c0);
            string what = $"seed {DrawnModules.Seed}, {config}, seq {seqLen}, batch {batch}, h0 {withInitial}, {degree} threads";
            Assert.That(actual.output, Is.EqualTo(expected.output), what + ": output");
            Assert.That(actual.hN, Is.EqualTo(expected.hN), what + ": hN");
            Assert.That(actual.cN, Is.EqualTo(expected.cN), what + ": cN");
        }
    }

    public static IEnumerable<TestCaseData> CellModules() =>
        DrawnModules.Modules.Select((m, i) => (m.Config, m.Type, Index: i)).Where(m => m.Config.IsCell)
            .Select(m => new TestCaseData(m.Index).SetArgDisplayNames($"{m.Index}: {m.Config}"));

    /// <summary>Cells split their batch rows too: fresh next states, and the state carried in place (hx = hNext).</summary>
    [TestCaseSource(nameof(CellModules))]
    public void CellSplitOverThreadsIsBitIdenticalToOneThread(int index)
    {
        (RnnConfig config, Type type) = DrawnModules.Modules[index];
        var random = new Random(DrawnModules.Seed + index);
        int batch = s_batches[random.Next(s_batches.Length)];
        object module = Activator.CreateInstance(type, random.Next())!;
        float[] x = Numerics.Uniform(random, batch * config.InputSize);
        float[] hx = Numerics.Uniform(random, batch * config.HiddenSize), cx = Numerics.Uniform(random, batch * config.HiddenSize);

        Parallelism.MaxDegreeOfParallelism = 1;
        (float[] h, float[] c) expected = Step(module, x, batch, hx, cx, inPlace: false);
        (float[] h, float[] c) expectedInPlace = Step(module, x, batch, hx, cx, inPlace: true);
        Assert.That(expectedInPlace.h, Is.EqualTo(expected.h), "in place equals fresh on one thread");
        foreach (int degree in s_degrees)
        {
            Parallelism.MaxDegreeOfParallelism = degree;
            string what = $"seed {DrawnModules.Seed}, {config}, batch {batch}, {degree} threads";
            foreach (bool inPlace in new[] { false, true })
            {
                (float[] h, float[] c) actual = Step(module, x, batch, hx, cx, inPlace);
                Assert.That(actual.h, Is.EqualTo(expected.h), $"{what}, in place {inPlace}: h");
                Assert.That(actual.c, Is.EqualTo(expected.c), $"{what}, in place {inPlace}: c");
            }
        }
    }

    /// <summary>
    /// A batch of one, the per-sample streaming call, takes its own path through the driver. In a batch of
    /// <see cref="Parallelism.RowAlignment"/> + 1 rows the last row runs in the single-row kernel, as a batch of one
    /// does: stepped alone, that row gives bit for bit its row of the batch, from fresh buffers, in place (hx = hNext,
    /// cx = cNext: with scratch, or without where the kernels step a row in place) and from default states; the other
    /// rows agree within the parity tolerance (their multi-row kernels sum in another order). On every path; an LSTM
    /// cell's row is also checked against PyTorch.
    /// </summary>
    [TestCaseSource(nameof(CellModules))]
    public void ABatchOfOneGivesItsRowOfTheBatch(int index)
    {
        (RnnConfig config, Type type) = DrawnModules.Modules[index];
        BatchOfOneGivesItsRow(config, type, new Random(DrawnModules.Seed + 7 * index));
    }

    public static IEnumerable<TestCaseData> StreamingCells() => new (Type Type, RnnConfig Config)[]
    {
        (typeof(StreamLstmCell12), new RnnConfig(true, 1, 12, IsLstm: true)),
        (typeof(StreamLstmCell16), new RnnConfig(true, 1, 16, IsLstm: true)),
        (typeof(StreamLstmCell24), new RnnConfig(true, 1, 24, IsLstm: true)),
        (typeof(AmpLstmCell), new RnnConfig(true, 1, 32, IsLstm: true)),
        (typeof(StreamGruCell12), new RnnConfig(true, 1, 12, IsGru: true)),
        (typeof(AmpGruCell), new RnnConfig(true, 1, 32, IsGru: true)),
    }.Select(m => new TestCaseData(m.Type, m.Config).SetArgDisplayNames(m.Type.Name));

    /// <summary>
    /// An empty cx means zeros wherever it points: also an empty slice at cNext's own address, over a cNext that holds
    /// something else (the fused cell step runs c in cNext and must not take that for cx).
    /// </summary>
    [Test]
    public void AnEmptyCxAtCNextsAddressMeansZeros()
    {
        var random = new Random(DrawnModules.Seed ^ 0x5e);
        foreach (ILstmCellModule cell in new ILstmCellModule[] { new StreamLstmCell12(random.Next()), new AmpLstmCell(random.Next()) })
        {
            int hidden = cell.HiddenSize;
            float[] x = Numerics.Uniform(random, 1, 2f), hx = Numerics.Uniform(random, hidden);
            float[] h = new float[hidden], c = new float[hidden], hAtC = new float[hidden], cAtC = Numerics.Uniform(random, hidden);
            cell.Forward(x, 1, hx, default, h, c);
            cell.Forward(x, 1, hx, cAtC.AsSpan(0, 0), hAtC, cAtC);
            Assert.That(hAtC, Is.EqualTo(h), $"seed {DrawnModules.Seed}, {cell.GetType().Name}: h");
            Assert.That(cAtC, Is.EqualTo(c), $"seed {DrawnModules.Seed}, {cell.GetType().Name}: c");
        }
    }

    /// <summary>The same for the streaming sizes, whatever the draw: padded (12, 24) and unpadded (16, 32) rows on AVX-512.</summary>
    [TestCaseSource(nameof(StreamingCells))]
    public void AStreamingCellsBatchOfOneGivesItsRowOfTheBatch(Type type, RnnConfig config) =>
        BatchOfOneGivesItsRow(config, type, new Random(DrawnModules.Seed ^ config.HiddenSize));

    private static void BatchOfOneGivesItsRow(RnnConfig config, Type type, Random random)
    {
        int batch = Parallelism.RowAlignment + 1, input = config.InputSize, hidden = config.HiddenSize;
        object module = Activator.CreateInstance(type, random.Next())!;
        float[] x = Numerics.Uniform(random, batch * input, 2f);
        float[] hx = Numerics.Uniform(random, batch * hidden), cx = Numerics.Uniform(random, batch * hidden);
        (float[] h, float[] c) whole = Step(module, x, batch, hx, cx, inPlace: false);
        (float[] h, float[] c) fromDefaults = Step(module, x, batch, Array.Empty<float>(), Array.Empty<float>(), inPlace: false);
        for (int b = 0; b < batch; b++)
        {
            float[] xb = x[(b * input)..((b + 1) * input)], hb = hx[(b * hidden)..((b + 1) * hidden)], cb = cx[(b * hidden)..((b + 1) * hidden)];
            Range row = (b * hidden)..((b + 1) * hidden);
            string what = $"seed {DrawnModules.Seed}, {config}, row {b}";
            foreach (bool inPlace in new[] { false, true })
            {
                (float[] h, float[] c) one = Step(module, xb, 1, hb, cb, inPlace);
                AssertRow(one.h, whole.h[row], exact: b == batch - 1, $"{what}, in place {inPlace}: h");
                if (module is ILstmCellModule)
                    AssertRow(one.c, whole.c[row], exact: b == batch - 1, $"{what}, in place {inPlace}: c");
            }
            (float[] h, float[] c) zeros = Step(module, xb, 1, Array.Empty<float>(), Array.Empty<float>(), inPlace: false);
            AssertRow(zeros.h, fromDefaults.h[row], exact: b == batch - 1, $"{what}, default state: h");
            if (module is ILstmCellModule lstm)
            {
                AssertRow(zeros.c, fromDefaults.c[row], exact: b == batch - 1, $"{what}, default state: c");
                (float[] h, float[] c) one = Step(module, xb, 1, hb, cb, inPlace: true);
                Torch.Gradients reference = Torch.LstmCellBackward(config, lstm.Parameters, xb, 1, hb, cb, new float[hidden], new float[hidden], out float[] refC, out _);
                Numerics.AssertClose(one.h, reference.Output, $"{what}: h against PyTorch");
                Numerics.AssertClose(one.c, refC, $"{what}: c against PyTorch");
            }
        }
    }

    /// <summary>
    /// The same for sequence modules, whose batch of one (one direction, no projection: a stream's call) also has a
    /// path of its own: the last row of a batch of <see cref="Parallelism.RowAlignment"/> + 1, run alone from its own
    /// initial state (given, carried in place, or default), gives bit for bit that row's output, hN and cN; the other
    /// rows within the parity tolerance. Alone, the row's input projection runs over its time steps as rows, and more
    /// than one step runs in the block kernel where there is one; that these give the bits of the batch's one-row
    /// step kernel is the kernels' contract (<c>IRnnKernels.TryRunRow</c>), which this checks too. Every drawn sequence
    /// configuration: layers, layouts, and the modules the row path does not take (bidirectional, projecting).
    /// </summary>
    [TestCaseSource(nameof(SequenceModules))]
    public void ASequenceOfBatchOneGivesItsRowOfTheBatch(int index)
    {
        (RnnConfig config, Type type) = DrawnModules.Modules[index];
        var random = new Random(DrawnModules.Seed + 11 * index);
        SequenceBatchOfOneGivesItsRow(config, type, random, random.Next(1, 9));
    }

    public static IEnumerable<TestCaseData> StreamingSequences() => new (Type Type, RnnConfig Config)[]
    {
        (typeof(StreamLstm12), new RnnConfig(false, 1, 12, IsLstm: true)),
        (typeof(StreamAmpLstm), new RnnConfig(false, 1, 32, IsLstm: true)),
        (typeof(StreamTwoLayerLstm), new RnnConfig(false, 2, 20, NumLayers: 2, BatchFirst: true, IsLstm: true)),
        (typeof(NarrowStackLstm), new RnnConfig(false, 3, 3, NumLayers: 3, IsLstm: true)),
        (typeof(StreamGru), new RnnConfig(false, 1, 32, NumLayers: 2, IsGru: true)),
        (typeof(NarrowStackGru), new RnnConfig(false, 4, 4, NumLayers: 2, IsGru: true)),
        (typeof(WideInputGru), new RnnConfig(false, 5, 12, IsGru: true)),
    }.Select(m => new TestCaseData(m.Type, m.Config).SetArgDisplayNames(m.Type.Name));

    /// <summary>
    /// The same for the streaming shapes and the block kernel's input projection, whatever the draw: a batch of one
    /// runs the block kernel with the projection inside it where the input is narrow (every layer of the narrow
    /// stacks, in place over the layer below's output; layer 0 only of the others; none with five inputs), the rows of
    /// the batch the projection pass and the step kernels. A block of 7 steps, and one step (a per-sample call, which
    /// takes the block kernel too where it projects its input).
    /// </summary>
    [TestCaseSource(nameof(StreamingSequences))]
    public void AStreamingSequencesBatchOfOneGivesItsRowOfTheBatch(Type type, RnnConfig config)
    {
        var random = new Random(DrawnModules.Seed ^ (31 * config.InputSize + config.HiddenSize));
        SequenceBatchOfOneGivesItsRow(config, type, random, seqLen: 7);
        SequenceBatchOfOneGivesItsRow(config, type, random, seqLen: 1);
    }

    private static void SequenceBatchOfOneGivesItsRow(RnnConfig config, Type type, Random random, int seqLen)
    {
        int batch = Parallelism.RowAlignment + 1, input = config.InputSize;
        int states = config.NumLayers * config.Directions, width = config.Directions * config.StateSize;
        object module = Activator.CreateInstance(type, random.Next())!;
        float[] x = Numerics.Uniform(random, seqLen * batch * input);
        float[] h0 = Numerics.Uniform(random, states * batch * config.StateSize), c0 = Numerics.Uniform(random, states * batch * config.HiddenSize);
        bool isLstm = module is ILstmModule;
        var whole = Run(module, config, x, seqLen, batch, h0, isLstm ? c0 : null);
        var fromDefaults = Run(module, config, x, seqLen, batch, null, null);
        // Row b of (seq, batch, features) or (batch, seq, features); of (states, batch, features).
        float[] Rows(float[] all, int b, int features, int steps, int rowsPerStep, bool batchFirst) =>
            Enumerable.Range(0, steps).SelectMany(t => all.Skip((batchFirst ? b * steps + t : t * rowsPerStep + b) * features).Take(features)).ToArray();
        for (int b = 0; b < batch; b++)
        {
            float[] xb = Rows(x, b, input, seqLen, batch, config.BatchFirst);
            float[] hb = Rows(h0, b, config.StateSize, states, batch, false), cb = Rows(c0, b, config.HiddenSize, states, batch, false);
            string what = $"seed {DrawnModules.Seed}, {config}, seq {seqLen}, row {b}";
            bool exact = b == batch - 1;
            void Check((float[] Output, float[] HN, float[] CN) one, (float[] Output, float[] HN, float[] CN) all, string state)
            {
                AssertRow(one.Output, Rows(all.Output, b, width, seqLen, batch, config.BatchFirst), exact, $"{what}, {state}: output");
                AssertRow(one.HN, Rows(all.HN, b, config.StateSize, states, batch, false), exact, $"{what}, {state}: hN");
                if (isLstm)
                    AssertRow(one.CN, Rows(all.CN, b, config.HiddenSize, states, batch, false), exact, $"{what}, {state}: cN");
            }
            Check(Run(module, config, xb, seqLen, 1, hb, isLstm ? cb : null), whole, "given state");
            Check(Run(module, config, xb, seqLen, 1, null, null), fromDefaults, "default state");
            // Carried in place, as a stream does: h0 = hN, c0 = cN.
            float[] h = (float[])hb.Clone(), c = (float[])cb.Clone(), output = new float[seqLen * width];
            if (module is ILstmModule lstm)
                lstm.Forward(xb, seqLen, 1, output, h, c, h, c);
            else
            {
                ((IRnnModule)module).Forward(xb, seqLen, 1, output, h, h);
                c = Array.Empty<float>();
            }
            Check((output, h, c), whole, "in place");
        }
    }

    private static void AssertRow(float[] actual, float[] expected, bool exact, string what)
    {
        if (exact)
            Assert.That(actual, Is.EqualTo(expected), what);
        else
            Numerics.AssertClose(actual, expected, what);
    }

    private static (float[] H, float[] C) Step(object module, float[] x, int batch, float[] hx, float[] cx, bool inPlace)
    {
        int length = batch * (module is ILstmCellModule l ? l.HiddenSize : ((IRnnCellModule)module).HiddenSize);
        float[] h = inPlace ? (float[])hx.Clone() : new float[length];
        float[] c = inPlace ? (float[])cx.Clone() : new float[length];
        if (module is ILstmCellModule lstm)
            lstm.Forward(x, batch, inPlace ? h : hx, inPlace ? c : cx, h, c);
        else
        {
            ((IRnnCellModule)module).Forward(x, batch, inPlace ? h : hx, h);
            c = Array.Empty<float>();
        }
        return (h, c);
    }

    public static IEnumerable<TestCaseData> WideRows() => new (Type Type, RnnConfig Config, int SplitLayers)[]
    {
        (typeof(WideLstm), new RnnConfig(false, 100, 200, IsLstm: true), 1),
        (typeof(WideTwoLayerLstm), new RnnConfig(false, 100, 200, NumLayers: 2, IsLstm: true), 2),
        (typeof(WideGru), new RnnConfig(false, 100, 250, IsGru: true), 1),
        (typeof(NarrowThenWideGru), new RnnConfig(false, 4, 250, NumLayers: 2, IsGru: true), 1),
        (typeof(WideLstmCell), new RnnConfig(true, 100, 250, IsLstm: true), 1),
        (typeof(WideGruCell), new RnnConfig(true, 100, 250, IsGru: true), 1),
        (typeof(NarrowTileGru), new RnnConfig(false, 100, 260, IsGru: true), 1),
        (typeof(NarrowTileGruCell), new RnnConfig(true, 100, 260, Bias: false, IsGru: true), 1),
        (typeof(NarrowTileLstmCell), new RnnConfig(true, 3000, 40, IsLstm: true), 1),
    }.Select(m => new TestCaseData(m.Type, m.Config, m.SplitLayers).SetArgDisplayNames(m.Type.Name));

    /// <summary>
    /// A batch of one whose layer weights fill L2 (here 0.78–1.54 MB packed, on every path) splits a single step over
    /// threads by tiles of units: bit for bit the results of one thread, from given and default states and in place (a
    /// cell's hx = hNext and cx = cNext, a sequence's h0 = hN and c0 = cN), a later layer's from the output of the one
    /// below. And it does split: the module's workspace counts the split calls (per call, the layers that split), none
    /// with one thread (nor on the scalar path, whose kernels do not split), nor for three steps (which run as one thread
    /// runs them: the same bits, checked too).
    /// </summary>
    [TestCaseSource(nameof(WideRows))]
    public void ALargeRowSplitsByTilesBitIdentically(Type type, RnnConfig config, int splitLayers)
    {
        var random = new Random(DrawnModules.Seed ^ (config.HiddenSize * 31 + config.NumLayers * 7 + config.InputSize));
        object module = Activator.CreateInstance(type, random.Next())!;
        RnnWorkspace workspace = ConcurrencyTests.WorkspaceOf(module);
        int states = config.NumLayers * config.HiddenSize;
        foreach (int seqLen in config.IsCell ? new[] { 1 } : new[] { 1, 3 })
        {
            float[] x = Numerics.Uniform(random, seqLen * config.InputSize, 2f);
            float[] h0 = Numerics.Uniform(random, states), c0 = config.IsLstm ? Numerics.Uniform(random, states) : Array.Empty<float>();
            foreach (bool given in new[] { true, false })
            {
                var runs = new List<float[][]>();
                foreach (int degree in new[] { 1, 2, 3 })
                {
                    Parallelism.MaxDegreeOfParallelism = degree;
                    int splits = workspace.RowSplits;
                    if (config.IsCell)
                    {
                        float[] hx = given ? h0 : Array.Empty<float>(), cx = given ? c0 : Array.Empty<float>();
                        (float[] h, float[] c) fresh = Step(module, x, 1, hx, cx, inPlace: false);
                        (float[] h, float[] c) inPlace = Step(module, x, 1, given ? h0 : new float[states], given ? c0 : new float[config.IsLstm ? states : 0], inPlace: true);
                        runs.Add(new[] { fresh.h, fresh.c, inPlace.h, inPlace.c });
                    }
                    else
                    {
                        (float[] output, float[] hN, float[] cN) = Run(module, config, x, seqLen, 1, given ? h0 : null, given && config.IsLstm ? c0 : null);
                        (float[] outputInPlace, float[] hNInPlace, float[] cNInPlace) = RunInPlace(module, config, x, seqLen, given ? h0 : new float[states], given ? c0 : new float[states]);
                        runs.Add(new[] { output, hN, cN, outputInPlace, hNInPlace, cNInPlace });
                    }
                    string what = $"seed {DrawnModules.Seed}, {type.Name}, seq {seqLen}, given {given}, {degree} thread(s)";
                    // The scalar path's generic kernels have no tile-range step: they never split a row.
                    bool splitting = degree > 1 && Simd.Path != KernelPath.Scalar && seqLen == 1;
                    Assert.That(workspace.RowSplits - splits, Is.EqualTo(splitting ? 2 * splitLayers : 0), what + ": split calls");
                    for (int i = 0; i < runs[0].Length; i++)
                        Assert.That(runs[^1][i], Is.EqualTo(runs[0][i]), $"{what}: result {i}");
                }
            }
        }
    }

    /// <summary>A sequence module's forward with its final states in the initial states' memory (h0 = hN, c0 = cN; c only for an LSTM).</summary>
    private static (float[] Output, float[] HN, float[] CN) RunInPlace(object module, RnnConfig c, float[] x, int seqLen, float[] h0, float[] c0)
    {
        var output = new float[seqLen * c.StateSize];
        float[] hN = (float[])h0.Clone(), cN = (float[])c0.Clone();
        if (module is ILstmModule lstm)
            lstm.Forward(x, seqLen, 1, output, hN, cN, hN, cN);
        else
        {
            ((IRnnModule)module).Forward(x, seqLen, 1, output, hN, hN);
            cN = Array.Empty<float>();
        }
        return (output, hN, cN);
    }

    [Test]
    public void RunTimeSizedModulesSplitBitIdentically()
    {
        var random = new Random(17);
        var lstm = new Dynamic.Lstm(7, 19, numLayers: 2, bidirectional: true, batchFirst: true, seed: 3);
        var gru = new Dynamic.Gru(5, 33, numLayers: 2, seed: 4);
        var config = new RnnConfig(false, 7, 19, 2, true, true, IsLstm: true);
        var gruConfig = new RnnConfig(false, 5, 33, 2, IsGru: true);
        float[] x = Numerics.Uniform(random, 6 * 21 * 7), y = Numerics.Uniform(random, 6 * 21 * 5);
        var one = (Run(lstm, config, x, 6, 21, null, null), Run(gru, gruConfig, y, 6, 21, null, null));
        Parallelism.MaxDegreeOfParallelism = 3;
        var three = (Run(lstm, config, x, 6, 21, null, null), Run(gru, gruConfig, y, 6, 21, null, null));
        Assert.That(three.Item1.Item1, Is.EqualTo(one.Item1.Item1));
        Assert.That(three.Item1.Item3, Is.EqualTo(one.Item1.Item3));
        Assert.That(three.Item2.Item1, Is.EqualTo(one.Item2.Item1));
        Assert.That(three.Item2.Item2, Is.EqualTo(one.Item2.Item2));
    }

    [Test]
    public void SteadyStateSplitCallsAllocateNothing()
    {
        var lstm = new SharedLstm(5);
        const int seqLen = 10, batch = 32;
        float[] x = Numerics.Uniform(new Random(2), seqLen * batch * SharedLstm.InputSize);
        var output = new float[seqLen * batch * SharedLstm.HiddenSize];
        var hN = new float[SharedLstm.NumLayers * batch * SharedLstm.HiddenSize];
        var cN = new float[hN.Length];
        Parallelism.MaxDegreeOfParallelism = 2;
        Numerics.WarmUp(() => lstm.Forward(x, seqLen, batch, output, hN, cN));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            lstm.Forward(x, seqLen, batch, output, hN, cN);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    /// <summary>
    /// A module that alternates split batches of one (by tiles) and split batches (by rows), sequence and cell, allocates
    /// nothing once both have run: the two splits keep a job each.
    /// </summary>
    [Test]
    public void SteadyStateRowSplitsAllocateNothing()
    {
        var lstm = new WideLstm(5);
        var cell = new WideGruCell(6);
        var random = new Random(3);
        const int batch = 8;
        float[] x = Numerics.Uniform(random, batch * 100), output = new float[batch * 200], hN = new float[batch * 200], cN = new float[batch * 200];
        float[] h = new float[batch * 250];
        Parallelism.MaxDegreeOfParallelism = 2;
        void Calls()
        {
            lstm.Forward(x.AsSpan(0, 100), 1, 1, output.AsSpan(0, 200), hN.AsSpan(0, 200), cN.AsSpan(0, 200), hN.AsSpan(0, 200), cN.AsSpan(0, 200));
            lstm.Forward(x, 1, batch, output, hN, cN);
            cell.Forward(x.AsSpan(0, 100), 1, h.AsSpan(0, 250), h.AsSpan(0, 250));
            cell.Forward(x, batch, h, h);
        }
        Numerics.WarmUp(Calls);
        int splits = ConcurrencyTests.WorkspaceOf(lstm).RowSplits + ConcurrencyTests.WorkspaceOf(cell).RowSplits;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            Calls();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        int expected = Simd.Path == KernelPath.Scalar ? 0 : 200;
        Assert.That(ConcurrencyTests.WorkspaceOf(lstm).RowSplits + ConcurrencyTests.WorkspaceOf(cell).RowSplits - splits, Is.EqualTo(expected), "rows split");
        // Over the second of warm-up and these calls, a pool thread ran parts of the split rows: they ran concurrently.
        if (expected > 0)
            Assert.That(ConcurrencyTests.WorkspaceOf(lstm).RowSplitHelperParts + ConcurrencyTests.WorkspaceOf(cell).RowSplitHelperParts, Is.GreaterThan(0), "parts run by a pool thread");
    }

    /// <summary>
    /// Eight threads, each with its own module (two shapes), call split forwards at the same time, more callers than
    /// cores and than pool threads at start: every result equals the sequential one, and every call returns.
    /// </summary>
    [Test]
    public void ManyModulesCalledFromManyThreadsAtOnceGiveTheSequentialResults()
    {
        const int threads = 8, calls = 25, seqLen = 8, batch = 24;
        float[] x = Numerics.Uniform(new Random(9), seqLen * batch * SharedLstm.InputSize);
        var config = new RnnConfig(false, SharedLstm.InputSize, SharedLstm.HiddenSize, SharedLstm.NumLayers, IsLstm: true);
        var reference = new SharedLstm(1);
        (float[] expected, float[] expectedHn, _) = Run(reference, config, x, seqLen, batch, null, null);

        Parallelism.MaxDegreeOfParallelism = 4;
        int mismatches = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var mine = new SharedLstm(1);
            for (int i = 0; i < calls; i++)
            {
                (float[] output, float[] hN, _) = Run(mine, config, x, seqLen, batch, null, null);
                if (!output.AsSpan().SequenceEqual(expected) || !hN.AsSpan().SequenceEqual(expectedHn))
                    Interlocked.Increment(ref mismatches);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        Assert.That(workers.All(w => w.Join(TimeSpan.FromMinutes(2))), "every caller returns");
        Assert.That(mismatches, Is.Zero, $"of {threads * calls} calls");

        // The same from thread-pool threads (callers that are themselves pool work items).
        Parallel.For(0, threads, t =>
        {
            var mine = new SharedLstm(1);
            for (int i = 0; i < calls; i++)
            {
                (float[] output, _, _) = Run(mine, config, x, seqLen, batch, null, null);
                if (!output.AsSpan().SequenceEqual(expected))
                    Interlocked.Increment(ref mismatches);
            }
        });
        Assert.That(mismatches, Is.Zero);
    }

    /// <summary>
    /// The same for batches of one split by tiles of units: eight threads, each with its own large cell, step it at the
    /// same time with up to four threads a call (three parts), from plain threads and from pool threads.
    /// </summary>
    [Test]
    public void LargeRowsSplitFromManyThreadsAtOnceGiveTheSequentialResults()
    {
        const int threads = 8, calls = 25;
        var random = new Random(10);
        float[] x = Numerics.Uniform(random, 100), hx = Numerics.Uniform(random, 250), cx = Numerics.Uniform(random, 250);
        (float[] expectedH, float[] expectedC) = Step(new WideLstmCell(1), x, 1, hx, cx, inPlace: false);

        Parallelism.MaxDegreeOfParallelism = 4;
        int mismatches = 0;
        void Calls()
        {
            var mine = new WideLstmCell(1);
            for (int i = 0; i < calls; i++)
            {
                (float[] h, float[] c) = Step(mine, x, 1, hx, cx, inPlace: i % 2 == 1);
                if (!h.AsSpan().SequenceEqual(expectedH) || !c.AsSpan().SequenceEqual(expectedC))
                    Interlocked.Increment(ref mismatches);
            }
        }
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(Calls)).ToList();
        workers.ForEach(w => w.Start());
        Assert.That(workers.All(w => w.Join(TimeSpan.FromMinutes(2))), "every caller returns");
        Parallel.For(0, threads, _ => Calls());
        Assert.That(mismatches, Is.Zero, $"of {2 * threads * calls} calls");
    }

    /// <summary>
    /// One module, calls whose part counts differ back to back (batch 8, 32, 13; 2 to 4 threads): a thread-pool helper
    /// left over from one call must never run a part of the next. Every result equals the one-thread result.
    /// </summary>
    [Test]
    public void CallsWithDifferentPartCountsBackToBackStayExact()
    {
        var config = new RnnConfig(false, SharedLstm.InputSize, SharedLstm.HiddenSize, SharedLstm.NumLayers, IsLstm: true);
        var lstm = new SharedLstm(3);
        int[] batches = { 8, 32, 13 };
        var inputs = batches.Select((b, i) => Numerics.Uniform(new Random(40 + i), 5 * b * SharedLstm.InputSize)).ToArray();
        var expected = batches.Select((b, i) => Run(lstm, config, inputs[i], 5, b, null, null).Output).ToArray();
        int mismatches = 0;
        for (int call = 0; call < 600; call++)
        {
            int which = call % batches.Length;
            Parallelism.MaxDegreeOfParallelism = 2 + call % 3;
            if (!Run(lstm, config, inputs[which], 5, batches[which], null, null).Output.AsSpan().SequenceEqual(expected[which]))
                mismatches++;
        }
        Assert.That(mismatches, Is.Zero, "of 600 calls");
    }

    [Test]
    public void DegreeOfParallelismBelowOneIsRefused() =>
        Assert.That(() => Parallelism.MaxDegreeOfParallelism = 0, Throws.InstanceOf<ArgumentOutOfRangeException>());

    private static (float[] Output, float[] HN, float[] CN) Run(object module, RnnConfig c, float[] x, int seqLen, int batch, float[]? h0, float[]? c0)
    {
        var output = new float[seqLen * batch * c.Directions * c.StateSize];
        var hN = new float[c.NumLayers * c.Directions * batch * c.StateSize];
        var cN = new float[c.NumLayers * c.Directions * batch * c.HiddenSize];
        if (module is ILstmModule lstm)
            lstm.Forward(x, seqLen, batch, output, hN, cN, h0, c0);
        else
        {
            ((IRnnModule)module).Forward(x, seqLen, batch, output, hN, h0);
            cN = Array.Empty<float>();
        }
        return (output, hN, cN);
    }
}

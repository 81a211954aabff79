using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

// Unidirectional modules for streaming: an amp-sized LSTM, two layers with tile tails and batch-first, a projection,
// NAM's example shape, and a two-layer GRU.
[Lstm(1, 32)]
public partial class StreamAmpLstm;

[Lstm(2, 20, NumLayers = 2, BatchFirst = true)]
public partial class StreamTwoLayerLstm;

[Lstm(3, 17, NumLayers = 2, ProjSize = 5)]
public partial class StreamProjectedLstm;

[Lstm(1, 3)]
public partial class NamExampleLstm;

[Gru(1, 32, NumLayers = 2)]
public partial class StreamGru;

// Bidirectional and batch-first through the block kernels (see TheBlockKernelComputesTheBitsOfTheStepByStepPath).
[Gru(2, 12, Bidirectional = true, BatchFirst = true)]
public partial class BlockBidirectionalGru;

/// <summary>
/// <see cref="LstmStream"/> and <see cref="RnnStream"/>: a signal streamed in blocks of any sizes equals one sequence
/// Forward over the whole signal from the same initial state (bit for bit: per row, the input projection and the
/// one-row recurrence do the same arithmetic whatever the block length); streams over one module are independent;
/// Reset; bad lengths refused before anything is written; no allocation in the steady state.
/// </summary>
[Category("Numeric")]
public class StreamingTests
{
    private const int Steps = 64;
    private readonly int _seed = Numerics.FreshSeed();

    /// <summary>One module as the tests drive it: a stream over it, and its whole-sequence Forward as the reference.</summary>
    public sealed class Subject(string name, object module, int inputSize, int outputSize, int hLength, int cLength)
    {
        public string Name { get; } = name;
        public object Module { get; } = module;
        public int InputSize { get; } = inputSize;
        public int OutputSize { get; } = outputSize;
        public int HLength { get; } = hLength;
        public int CLength { get; } = cLength;

        public IStream CreateStream() => Module is ILstmModule lstm ? new Lstm(new LstmStream(lstm)) : new Rnn(new RnnStream((IRnnModule)Module));

        /// <summary>The reference: one Forward over the whole signal (seqLen T, batch 1) from (h0, c0).</summary>
        public (float[] Output, float[] HN, float[] CN) Whole(float[] input, float[] h0, float[] c0)
        {
            int steps = input.Length / InputSize;
            var output = new float[steps * OutputSize];
            var hN = new float[HLength];
            var cN = new float[CLength];
            if (Module is ILstmModule lstm)
                lstm.Forward(input, steps, 1, output, hN, cN, h0, c0);
            else
                ((IRnnModule)Module).Forward(input, steps, 1, output, hN, h0);
            return (output, hN, cN);
        }

        public override string ToString() => Name;
    }

    /// <summary>LstmStream and RnnStream behind one face (the tests' convenience; the library has no such interface).</summary>
    public interface IStream
    {
        void Process(ReadOnlySpan<float> input, Span<float> output);
        void Reset();
        void Reset(float[] h0, float[] c0);
        float[] H { get; }
        float[] C { get; }
    }

    private sealed class Lstm(LstmStream s) : IStream
    {
        public void Process(ReadOnlySpan<float> input, Span<float> output) => s.Process(input, output);
        public void Reset() => s.Reset();
        public void Reset(float[] h0, float[] c0) => s.Reset(h0, c0);
        public float[] H => s.H.ToArray();
        public float[] C => s.C.ToArray();
    }

    private sealed class Rnn(RnnStream s) : IStream
    {
        public void Process(ReadOnlySpan<float> input, Span<float> output) => s.Process(input, output);
        public void Reset() => s.Reset();
        public void Reset(float[] h0, float[] c0) => s.Reset(h0);
        public float[] H => s.H.ToArray();
        public float[] C => Array.Empty<float>();
    }

    private static Subject Of(string name, ILstmModule m)
    {
        int state = m.ProjSize > 0 ? m.ProjSize : m.HiddenSize;
        return new Subject(name, m, m.InputSize, state, m.NumLayers * state, m.NumLayers * m.HiddenSize);
    }

    private static Subject Of(string name, IRnnModule m) =>
        new(name, m, m.InputSize, m.HiddenSize, m.NumLayers * m.HiddenSize, 0);

    /// <summary>Generated modules and their Dynamic twins (same weights, generic kernels).</summary>
    public static IEnumerable<TestCaseData> Subjects()
    {
        var factories = new (string Name, Func<Subject> Create)[]
        {
            ("StreamAmpLstm", () => Of("StreamAmpLstm", new StreamAmpLstm(11))),
            ("Dynamic.Lstm(1, 32)", () => Of("Dynamic.Lstm(1, 32)", new Dynamic.Lstm(1, 32, seed: 11))),
            ("StreamTwoLayerLstm", () => Of("StreamTwoLayerLstm", new StreamTwoLayerLstm(12))),
            ("Dynamic.Lstm(2, 20, 2 layers, batch-first)", () => Of("Dynamic.Lstm(2, 20, 2 layers, batch-first)", new Dynamic.Lstm(2, 20, numLayers: 2, batchFirst: true, seed: 12))),
            ("StreamProjectedLstm", () => Of("StreamProjectedLstm", new StreamProjectedLstm(13))),
            ("Dynamic.Lstm(3, 17, 2 layers, proj 5)", () => Of("Dynamic.Lstm(3, 17, 2 layers, proj 5)", new Dynamic.Lstm(3, 17, numLayers: 2, projSize: 5, seed: 13))),
            ("NamExampleLstm", () => Of("NamExampleLstm", new NamExampleLstm(14))),
            ("StreamGru", () => Of("StreamGru", new StreamGru(15))),
            ("Dynamic.Gru(1, 32, 2 layers)", () => Of("Dynamic.Gru(1, 32, 2 layers)", new Dynamic.Gru(1, 32, numLayers: 2, seed: 15))),
            ("StreamingRnn", () => Of("StreamingRnn", new StreamingRnn(16))),
            ("Dynamic.Rnn(1, 32)", () => Of("Dynamic.Rnn(1, 32)", new Dynamic.Rnn(1, 32, seed: 16))),
        };
        foreach (var (name, create) in factories)
            yield return new TestCaseData(create).SetName(name.Replace(".", "_").Replace("(", "[").Replace(")", "]").Replace(",", ""));
    }

    /// <summary>Block schedules over 64 steps: single steps, 7s with a tail, one block, mixed, and a random one.</summary>
    private static IEnumerable<int[]> Schedules(Random random)
    {
        yield return Enumerable.Repeat(1, Steps).ToArray();
        yield return Enumerable.Repeat(7, 9).Append(1).ToArray();
        yield return [Steps];
        yield return [1, 7, 3, 16, 37];
        var drawn = new List<int>();
        for (int left = Steps; left > 0;)
        {
            int n = Math.Min(left, 1 + random.Next(20));
            drawn.Add(n);
            left -= n;
        }
        yield return drawn.ToArray();
    }

    [TestCaseSource(nameof(Subjects))]
    public void BlocksOfAnySizeEqualOneForwardOverTheWholeSignal(Func<Subject> create)
    {
        Subject s = create();
        var random = new Random(_seed);
        float[] signal = Numerics.Uniform(random, Steps * s.InputSize);
        float[] h0 = Numerics.Uniform(random, s.HLength, 0.5f), c0 = Numerics.Uniform(random, s.CLength, 0.5f);
        foreach (bool fromZeros in new[] { true, false })
        {
            float[] startH = fromZeros ? new float[s.HLength] : h0, startC = fromZeros ? new float[s.CLength] : c0;
            var (expected, expectedH, expectedC) = s.Whole(signal, startH, startC);
            foreach (int[] blocks in Schedules(random))
            {
                IStream stream = s.CreateStream();
                if (!fromZeros)
                    stream.Reset(h0, c0);
                float[] output = Run(stream, s, signal, blocks);
                string what = $"seed {_seed}, {s.Name}, {(fromZeros ? "from zeros" : "from h0/c0")}, blocks [{string.Join(", ", blocks)}]";
                AssertBitwise(output, expected, $"{what}: output");
                AssertBitwise(stream.H, expectedH, $"{what}: h");
                AssertBitwise(stream.C, expectedC, $"{what}: c");
            }
        }
    }

    /// <summary>
    /// Batch 1 runs each layer and direction through the kernels' block kernel where they have one
    /// (<c>IRnnKernels.TryRunRow</c>); it must give the bits of the step-by-step path, so that a batch split into
    /// single rows, a cell and a sequence agree. Also over a bidirectional, batch-first module with tile tails.
    /// </summary>
    [TestCaseSource(nameof(Subjects))]
    [TestCaseSource(nameof(BidirectionalSubjects))]
    public void TheBlockKernelComputesTheBitsOfTheStepByStepPath(Func<Subject> create)
    {
        Subject s = create();
        var random = new Random(_seed);
        float[] signal = Numerics.Uniform(random, Steps * s.InputSize);
        float[] h0 = Numerics.Uniform(random, s.HLength, 0.5f), c0 = Numerics.Uniform(random, s.CLength, 0.5f);
        var (blockOutput, blockH, blockC) = s.Whole(signal, h0, c0);
        (float[] Output, float[] HN, float[] CN) stepped;
        try
        {
            __Internals.RnnDriver.BlockKernels = false;
            stepped = s.Whole(signal, h0, c0);
        }
        finally
        {
            __Internals.RnnDriver.BlockKernels = true;
        }
        string what = $"seed {_seed}, {s.Name}";
        AssertBitwise(blockOutput, stepped.Output, $"{what}: output");
        AssertBitwise(blockH, stepped.HN, $"{what}: hN");
        AssertBitwise(blockC, stepped.CN, $"{what}: cN");
    }

    public static IEnumerable<TestCaseData> BidirectionalSubjects()
    {
        yield return new TestCaseData((Func<Subject>)(() => new Subject("MixedLstm", new MixedLstm(17), 3, 2 * 17, 2 * 2 * 17, 2 * 2 * 17))).SetName("MixedLstm");
        yield return new TestCaseData((Func<Subject>)(() => new Subject("BlockBidirectionalGru", new BlockBidirectionalGru(18), 2, 2 * 12, 2 * 12, 0))).SetName("BlockBidirectionalGru");
    }

    private static float[] Run(IStream stream, Subject s, float[] signal, int[] blocks)
    {
        var output = new float[signal.Length / s.InputSize * s.OutputSize];
        int t = 0;
        foreach (int n in blocks)
        {
            stream.Process(signal.AsSpan(t * s.InputSize, n * s.InputSize), output.AsSpan(t * s.OutputSize, n * s.OutputSize));
            t += n;
        }
        Assert.That(t * s.InputSize, Is.EqualTo(signal.Length), "the schedule covers the signal");
        return output;
    }

    private static void AssertBitwise(float[] actual, float[] expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        int first = -1;
        for (int i = 0; i < actual.Length && first < 0; i++)
        {
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                first = i;
        }
        Assert.That(first, Is.EqualTo(-1), () => $"{what}: differs first at [{first}]: {actual[first]:R} vs {expected[first]:R} (max scaled error {Numerics.MaxScaledError(actual, expected):E2})");
    }

    [TestCaseSource(nameof(Subjects))]
    public void StreamsOverOneModuleAreIndependentVoices(Func<Subject> create)
    {
        Subject s = create();
        var random = new Random(_seed);
        const int Voices = 3;
        float[][] signals = Enumerable.Range(0, Voices).Select(_ => Numerics.Uniform(random, Steps * s.InputSize)).ToArray();
        float[][] starts = Enumerable.Range(0, Voices).Select(_ => Numerics.Uniform(random, s.HLength, 0.5f)).ToArray();
        float[][] cells = Enumerable.Range(0, Voices).Select(_ => Numerics.Uniform(random, s.CLength, 0.5f)).ToArray();
        IStream[] voices = Enumerable.Range(0, Voices).Select(_ => s.CreateStream()).ToArray();
        for (int v = 0; v < Voices; v++)
            voices[v].Reset(starts[v], cells[v]);
        float[][] outputs = signals.Select(x => new float[x.Length / s.InputSize * s.OutputSize]).ToArray();

        // Interleaved, as an audio callback runs its voices: block k of voice 0, of voice 1, ..., each with its own block size.
        int[] blockOf = { 8, 5, 16 };
        int[] t = new int[Voices];
        while (t.Any(x => x < Steps))
        {
            for (int v = 0; v < Voices; v++)
            {
                int n = Math.Min(blockOf[v], Steps - t[v]);
                if (n == 0)
                    continue;
                voices[v].Process(signals[v].AsSpan(t[v] * s.InputSize, n * s.InputSize), outputs[v].AsSpan(t[v] * s.OutputSize, n * s.OutputSize));
                t[v] += n;
            }
        }
        for (int v = 0; v < Voices; v++)
        {
            var (expected, expectedH, expectedC) = s.Whole(signals[v], starts[v], cells[v]);
            AssertBitwise(outputs[v], expected, $"seed {_seed}, {s.Name}, voice {v}: output");
            AssertBitwise(voices[v].H, expectedH, $"seed {_seed}, {s.Name}, voice {v}: h");
            AssertBitwise(voices[v].C, expectedC, $"seed {_seed}, {s.Name}, voice {v}: c");
        }
    }

    [TestCaseSource(nameof(Subjects))]
    public void ResetReturnsToZerosOrToTheGivenState(Func<Subject> create)
    {
        Subject s = create();
        var random = new Random(_seed);
        float[] signal = Numerics.Uniform(random, Steps * s.InputSize);
        float[] h0 = Numerics.Uniform(random, s.HLength, 0.5f), c0 = Numerics.Uniform(random, s.CLength, 0.5f);
        int[] blocks = { 10, 54 };
        IStream stream = s.CreateStream();
        Assert.That(stream.H, Is.All.EqualTo(0f), "a new stream starts from zeros");
        Assert.That(stream.C, Is.All.EqualTo(0f), "a new stream starts from zeros");

        float[] fresh = Run(stream, s, signal, blocks);
        Assert.That(stream.H, Has.Some.Not.EqualTo(0f), "the state moved");
        stream.Reset();
        Assert.That(stream.H, Is.All.EqualTo(0f), "Reset(): h");
        Assert.That(stream.C, Is.All.EqualTo(0f), "Reset(): c");
        AssertBitwise(Run(stream, s, signal, blocks), fresh, $"seed {_seed}, {s.Name}: after Reset() as a fresh stream");

        stream.Reset(h0, c0);
        Assert.That(stream.H, Is.EqualTo(h0), "Reset(h0, c0): h");
        Assert.That(stream.C, Is.EqualTo(s.CLength == 0 ? Array.Empty<float>() : c0), "Reset(h0, c0): c");
        var (expected, _, _) = s.Whole(signal, h0, c0);
        AssertBitwise(Run(stream, s, signal, blocks), expected, $"seed {_seed}, {s.Name}: after Reset(h0, c0) as Forward from h0, c0");

        // The state views may be handed back: Reset(H, C) from a saved copy resumes exactly there.
        float[] savedH = stream.H, savedC = stream.C;
        float[] next = Numerics.Uniform(random, 5 * s.InputSize);
        var first = new float[5 * s.OutputSize];
        stream.Process(next, first);
        stream.Reset(savedH, savedC);
        var again = new float[5 * s.OutputSize];
        stream.Process(next, again);
        AssertBitwise(again, first, $"seed {_seed}, {s.Name}: resumed from a saved state");
    }

    [Test]
    public void BadLengthsAreRefusedBeforeAnythingIsWritten()
    {
        var lstm = new StreamProjectedLstm(1); // 3 -> 17, projection 5, 2 layers: output 5 per step
        var stream = new LstmStream(lstm);
        stream.Reset(Numerics.Uniform(new Random(1), 2 * 5), Numerics.Uniform(new Random(2), 2 * 17));
        float[] h = stream.H.ToArray(), c = stream.C.ToArray();
        var output = new float[4 * 5];

        void Refused(string parameter, Action call)
        {
            Array.Fill(output, 42f);
            var ex = Assert.Throws(Is.InstanceOf<ArgumentException>(), call)!;
            Assert.That(((ArgumentException)ex).ParamName, Is.EqualTo(parameter), ex.Message);
            Assert.That(output, Is.All.EqualTo(42f), $"{parameter}: output untouched");
            Assert.That(stream.H.ToArray(), Is.EqualTo(h), $"{parameter}: h untouched");
            Assert.That(stream.C.ToArray(), Is.EqualTo(c), $"{parameter}: c untouched");
            TestContext.Out.WriteLine($"{parameter}: {ex.Message}");
        }

        Refused("input", () => stream.Process(new float[0], output.AsSpan(0, 0)));
        Refused("input", () => stream.Process(new float[4 * 3 + 1], output));
        Refused("output", () => stream.Process(new float[4 * 3], output.AsSpan(0, 4 * 5 - 1)));
        Refused("output", () => stream.Process(new float[4 * 3], new float[4 * 17])); // the hidden size, not the projection
        Refused("h0", () => stream.Reset(new float[2 * 17], new float[2 * 17]));
        Refused("c0", () => stream.Reset(new float[2 * 5], new float[2 * 5]));
        float[] shared = new float[4 * 5];
        Refused("output", () => stream.Process(shared.AsSpan(0, 4 * 3), shared)); // overlapping: the module refuses it

        var gru = new RnnStream(new StreamGru(1));
        Assert.That(Assert.Throws<ArgumentException>(() => gru.Process(new float[3], new float[3 * 31]))!.ParamName, Is.EqualTo("output"));
        Assert.That(Assert.Throws<ArgumentException>(() => gru.Reset(new float[32]))!.ParamName, Is.EqualTo("h0"));
        Assert.That(gru.H.ToArray(), Is.All.EqualTo(0f));
    }

    [Test]
    public void BidirectionalModulesAreRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LstmStream(new MixedLstm(1)))!;
        Assert.That(ex.ParamName, Is.EqualTo("module"));
        Assert.That(ex.Message, Does.Contain("Bidirectional = false"));
        Assert.Throws<ArgumentException>(() => new RnnStream(new DeepGru(1)));
        Assert.Throws<ArgumentException>(() => new RnnStream(new Dynamic.Rnn(2, 3, bidirectional: true, seed: 1)));
        Assert.Throws<ArgumentException>(() => new LstmStream(new Dynamic.Lstm(2, 3, bidirectional: true, seed: 1)));
    }

    [Test]
    public void SteadyStateProcessAllocatesNothing()
    {
        var random = new Random(_seed);
        var lstm = new LstmStream(new StreamTwoLayerLstm(1));
        var dynamicLstm = new LstmStream(new Dynamic.Lstm(1, 32, seed: 2));
        var gru = new RnnStream(new StreamGru(3));
        // Too wide for a block kernel on every path: the driver asks the kernels and steps.
        var wide = new LstmStream(new WideLstm(4));
        float[] x2 = Numerics.Uniform(random, 64 * 2), x1 = Numerics.Uniform(random, 64), x100 = Numerics.Uniform(random, 64 * 100);
        float[] out20 = new float[64 * 20], out32 = new float[64 * 32], out200 = new float[64 * 200];
        int[] sizes = { 64, 1, 7, 33 }; // block sizes up to the largest, which the first call grows the workspace to
        void Calls()
        {
            foreach (int n in sizes)
            {
                lstm.Process(x2.AsSpan(0, n * 2), out20.AsSpan(0, n * 20));
                dynamicLstm.Process(x1.AsSpan(0, n), out32.AsSpan(0, n * 32));
                gru.Process(x1.AsSpan(0, n), out32.AsSpan(0, n * 32));
                wide.Process(x100.AsSpan(0, n * 100), out200.AsSpan(0, n * 200));
            }
            lstm.Reset();
            gru.Reset();
        }
        Numerics.WarmUp(Calls); // workspace growth, packing, tiered JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
            Calls();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.EqualTo(0), "bytes allocated by 800 steady-state Process calls");
    }
}

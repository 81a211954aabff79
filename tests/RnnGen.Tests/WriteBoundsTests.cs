using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// A forward call writes its outputs and nothing beside them: every output span is cut from a larger array whose floats
/// before and after it hold a sentinel, and after the call those are bit for bit the sentinel; the inputs it reads (x,
/// and the given states) are unchanged. The kernels store partial
/// vectors at a row's end (tails of 12 or 20 units, say) and run c in the caller's cNext; this checks that no store
/// reaches past a span, for every generated module of this assembly (cells and sequence modules, LSTM, GRU and
/// Elman, every shape declared for the other tests), one step and several, a batch of one (the streaming call, also in
/// place) and of several rows. On every path (CI runs the Numeric category once per path).
/// </summary>
[TestFixture]
[Category("Numeric")]
[NonParallelizable]
public class WriteBoundsTests
{
    private const int Guard = 24;
    private static readonly float Sentinel = BitConverter.Int32BitsToSingle(0x7FC0BEEF); // a NaN no computation yields

    public static IEnumerable<TestCaseData> Modules() =>
        typeof(WriteBoundsTests).Assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && t.GetConstructor(new[] { typeof(int) }) is not null &&
                (typeof(ILstmCellModule).IsAssignableFrom(t) || typeof(IRnnCellModule).IsAssignableFrom(t) ||
                 typeof(ILstmModule).IsAssignableFrom(t) || typeof(IRnnModule).IsAssignableFrom(t)))
            .OrderBy(t => t.Name)
            .Select(t => new TestCaseData(t).SetArgDisplayNames(t.Name));

    [TearDown]
    public void RestoreOneThread() => Parallelism.MaxDegreeOfParallelism = 1;

    /// <summary>On one thread, and on two: batches of one whose weights fill L2 then split by tiles of units (Parallelism).</summary>
    [TestCaseSource(nameof(Modules))]
    public void NoCallWritesPastItsSpans(Type type)
    {
        object module = Activator.CreateInstance(type, 7)!;
        var random = new Random(type.Name.Length * 131 + 17);
        foreach (int threads in new[] { 1, 2 })
        foreach (int batch in new[] { 1, 3 })
        {
            Parallelism.MaxDegreeOfParallelism = threads;
            foreach (int seqLen in new[] { 1, 7 })
            {
                switch (module)
                {
                    case ILstmCellModule cell when seqLen == 1:
                        LstmCell(cell, batch, random);
                        break;
                    case IRnnCellModule cell when seqLen == 1:
                        RnnCell(cell, batch, random);
                        break;
                    case ILstmModule lstm:
                        Lstm(lstm, seqLen, batch, random);
                        break;
                    case IRnnModule rnn:
                        Rnn(rnn, seqLen, batch, random);
                        break;
                }
            }
        }
    }

    private static void LstmCell(ILstmCellModule cell, int batch, Random random)
    {
        int h = batch * cell.HiddenSize;
        float[] x = Numerics.Uniform(random, batch * cell.InputSize), hx = Numerics.Uniform(random, h), cx = Numerics.Uniform(random, h);
        var hNext = new Guarded(h); var cNext = new Guarded(h);
        var read = new Inputs(x, hx, cx);
        cell.Forward(x, batch, hx, cx, hNext.Span, cNext.Span);
        hNext.Check("hNext"); cNext.Check("cNext");
        read.Check();
        // In place: hx = hNext, cx = cNext (the streaming call).
        hx.CopyTo(hNext.Span); cx.CopyTo(cNext.Span);
        cell.Forward(x, batch, hNext.Span, cNext.Span, hNext.Span, cNext.Span);
        hNext.Check("hNext in place"); cNext.Check("cNext in place");
        // Default states.
        cell.Forward(x, batch, default, default, hNext.Span, cNext.Span);
        hNext.Check("hNext from zeros"); cNext.Check("cNext from zeros");
    }

    private static void RnnCell(IRnnCellModule cell, int batch, Random random)
    {
        int h = batch * cell.HiddenSize;
        float[] x = Numerics.Uniform(random, batch * cell.InputSize), hx = Numerics.Uniform(random, h);
        var hNext = new Guarded(h);
        var read = new Inputs(x, hx);
        cell.Forward(x, batch, hx, hNext.Span);
        hNext.Check("hNext");
        read.Check();
        hx.CopyTo(hNext.Span);
        cell.Forward(x, batch, hNext.Span, hNext.Span);
        hNext.Check("hNext in place");
        cell.Forward(x, batch, default, hNext.Span);
        hNext.Check("hNext from zeros");
    }

    private static void Lstm(ILstmModule lstm, int seqLen, int batch, Random random)
    {
        int state = lstm.ProjSize > 0 ? lstm.ProjSize : lstm.HiddenSize, states = lstm.NumLayers * lstm.NumDirections * batch;
        float[] x = Numerics.Uniform(random, seqLen * batch * lstm.InputSize);
        float[] h0 = Numerics.Uniform(random, states * state), c0 = Numerics.Uniform(random, states * lstm.HiddenSize);
        var output = new Guarded(seqLen * batch * lstm.NumDirections * state);
        var hN = new Guarded(states * state); var cN = new Guarded(states * lstm.HiddenSize);
        var read = new Inputs(x, h0, c0);
        lstm.Forward(x, seqLen, batch, output.Span, hN.Span, cN.Span, h0, c0);
        Check(output, hN, cN, "given state");
        read.Check();
        // State carried in place (h0 = hN, c0 = cN: a stream's blocks).
        h0.CopyTo(hN.Span); c0.CopyTo(cN.Span);
        lstm.Forward(x, seqLen, batch, output.Span, hN.Span, cN.Span, hN.Span, cN.Span);
        Check(output, hN, cN, "state in place");
        lstm.Forward(x, seqLen, batch, output.Span, hN.Span, cN.Span);
        Check(output, hN, cN, "default state");
    }

    private static void Rnn(IRnnModule rnn, int seqLen, int batch, Random random)
    {
        int states = rnn.NumLayers * rnn.NumDirections * batch;
        float[] x = Numerics.Uniform(random, seqLen * batch * rnn.InputSize), h0 = Numerics.Uniform(random, states * rnn.HiddenSize);
        var output = new Guarded(seqLen * batch * rnn.NumDirections * rnn.HiddenSize);
        var hN = new Guarded(states * rnn.HiddenSize);
        var read = new Inputs(x, h0);
        rnn.Forward(x, seqLen, batch, output.Span, hN.Span, h0);
        Check(output, hN, null, "given state");
        read.Check();
        h0.CopyTo(hN.Span);
        rnn.Forward(x, seqLen, batch, output.Span, hN.Span, hN.Span);
        Check(output, hN, null, "state in place");
        rnn.Forward(x, seqLen, batch, output.Span, hN.Span);
        Check(output, hN, null, "default state");
    }

    private static void Check(Guarded output, Guarded hN, Guarded? cN, string what)
    {
        output.Check($"output, {what}");
        hN.Check($"hN, {what}");
        cN?.Check($"cN, {what}");
    }

    /// <summary>The arrays a call reads, and copies of them to check them against after it.</summary>
    private sealed class Inputs
    {
        private readonly float[][] _arrays, _copies;

        public Inputs(params float[][] arrays)
        {
            _arrays = arrays;
            _copies = Array.ConvertAll(arrays, a => (float[])a.Clone());
        }

        public void Check()
        {
            for (int i = 0; i < _arrays.Length; i++)
                Assert.That(Numerics.Bits(_arrays[i]), Is.EqualTo(Numerics.Bits(_copies[i])).AsCollection,
                    $"input {i} (x, then the given states) changed by the call");
        }
    }

    /// <summary>An output span with <see cref="Guard"/> sentinel floats on either side in one array.</summary>
    private sealed class Guarded
    {
        private readonly float[] _array;
        private readonly int _length;

        public Guarded(int length)
        {
            _length = length;
            _array = new float[length + 2 * Guard];
            Array.Fill(_array, Sentinel);
        }

        public Span<float> Span => _array.AsSpan(Guard, _length);

        public void Check(string what)
        {
            for (int i = 0; i < Guard; i++)
            {
                Assert.That(BitConverter.SingleToInt32Bits(_array[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(Sentinel)), $"{what}: written {Guard - i} float(s) before the span");
                Assert.That(BitConverter.SingleToInt32Bits(_array[Guard + _length + i]), Is.EqualTo(BitConverter.SingleToInt32Bits(Sentinel)), $"{what}: written {i + 1} float(s) past the span's end");
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using RnnGen.__Internals;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

[Lstm(16, 64, NumLayers = 2)]
public partial class SharedLstm;

/// <summary>
/// One module instance serves one call at a time. A call that enters while another runs must throw
/// <see cref="InvalidOperationException"/> (never compute on a shared workspace and return wrong numbers), and
/// separate instances on separate threads must give exactly the sequential results.
/// </summary>
[TestFixture]
[Category("Numeric")]
public class ConcurrencyTests
{
    private const int SeqLen = 20, Batch = 3, Threads = 4, CallsPerThread = 200, Inputs = 16;

    // The generated classes keep it in _workspace, the run-time-sized modules in ModuleBase.Workspace.
    internal static RnnWorkspace WorkspaceOf(object module) =>
        module.GetType().GetField("_workspace", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(module) as RnnWorkspace
        ?? (RnnWorkspace)typeof(Dynamic.ModuleBase).GetProperty("Workspace", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(module)!;

    private static IEnumerable<TestCaseData> Modules()
    {
        yield return new TestCaseData((Func<object>)(() => new SharedLstm(1))).SetArgDisplayNames("generated Lstm");
        yield return new TestCaseData((Func<object>)(() => new AmpGruCell(1))).SetArgDisplayNames("generated GruCell");
        yield return new TestCaseData((Func<object>)(() => new Dynamic.Lstm(16, 64, numLayers: 2, seed: 1))).SetArgDisplayNames("Dynamic.Lstm");
        yield return new TestCaseData((Func<object>)(() => new Dynamic.RnnCell(3, 5, seed: 1))).SetArgDisplayNames("Dynamic.RnnCell");
    }

    /// <summary>A call made while the module is held (as by a call on another thread) throws, writes nothing, and the module works after release.</summary>
    [TestCaseSource(nameof(Modules))]
    public void ACallIntoABusyModuleThrowsAndWritesNothing(Func<object> create)
    {
        object module = create();
        // batch < 1 is bad input: refused with ArgumentOutOfRangeException before anything is written.
        Action<float[], int> forward = module switch
        {
            ILstmModule m => (output, batch) => m.Forward(new float[SeqLen * Batch * m.InputSize], SeqLen, batch, output.AsSpan(0, SeqLen * Batch * m.HiddenSize),
                new float[m.NumLayers * Batch * m.HiddenSize], new float[m.NumLayers * Batch * m.HiddenSize]),
            IRnnCellModule m => (output, batch) => m.Forward(new float[Batch * m.InputSize], batch, default, output.AsSpan(0, Batch * m.HiddenSize)),
            _ => throw new ArgumentException(module.GetType().Name),
        };
        Action<float[]> call = output => forward(output, Batch);
        var output = new float[SeqLen * Batch * 64];
        RnnWorkspace workspace = WorkspaceOf(module);

        using (workspace.Enter())
        {
            Array.Fill(output, 42f);
            var error = Assert.Throws<InvalidOperationException>(() => call(output))!;
            Assert.That(error.Message, Does.Contain("one call at a time").And.Contain("own instance"));
            Assert.That(output, Is.All.EqualTo(42f), "a refused call wrote output");
        }
        Assert.DoesNotThrow(() => call(output), "the module stays usable after the other call released it");
        // A call that throws for bad input releases the module too.
        Assert.Catch<ArgumentException>(() => forward(output, 0));
        Assert.DoesNotThrow(() => call(output));
    }

    /// <summary>
    /// Four threads share one two-layer LSTM, 200 calls each, with different inputs: every call either throws
    /// InvalidOperationException or returns exactly what a sequential call returns. (Whether a collision happens
    /// depends on scheduling; a wrong result never may.)
    /// </summary>
    [Test]
    public void SharedInstanceNeverReturnsWrongResults()
    {
        var shared = new SharedLstm(7);
        var reference = new SharedLstm(7);
        float[][] inputs = MakeInputs(seed: 11);
        float[][] expected = new float[inputs.Length][];
        for (int i = 0; i < inputs.Length; i++)
            expected[i] = Run(reference, inputs[i]);

        int wrong = 0, refused = 0, correct = 0;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            for (int call = 0; call < CallsPerThread; call++)
            {
                int which = (thread * CallsPerThread + call) % inputs.Length;
                try
                {
                    float[] got = Run(shared, inputs[which]);
                    if (got.AsSpan().SequenceEqual(expected[which]))
                        Interlocked.Increment(ref correct);
                    else
                        Interlocked.Increment(ref wrong);
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        });
        TestContext.Out.WriteLine($"{correct} correct, {refused} refused (InvalidOperationException), {wrong} wrong of {Threads * CallsPerThread}");
        Assert.That(wrong, Is.Zero);
        Assert.That(correct + refused, Is.EqualTo(Threads * CallsPerThread));
    }

    /// <summary>One instance per thread (weights copied from one trained module) is bit-identical to sequential calls.</summary>
    [Test]
    public void SeparateInstancesOnSeveralThreadsAreBitIdenticalToSequentialCalls()
    {
        var trained = new SharedLstm(3);
        float[][] inputs = MakeInputs(seed: 5);
        float[][] expected = new float[inputs.Length][];
        for (int i = 0; i < inputs.Length; i++)
            expected[i] = Run(trained, inputs[i]);

        int mismatches = 0;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            var mine = new SharedLstm(thread + 100);
            mine.Parameters.CopyFrom(trained.Parameters);
            for (int call = 0; call < CallsPerThread; call++)
            {
                int which = (thread * 31 + call) % inputs.Length;
                if (!Run(mine, inputs[which]).AsSpan().SequenceEqual(expected[which]))
                    Interlocked.Increment(ref mismatches);
            }
        });
        Assert.That(mismatches, Is.Zero, $"of {Threads * CallsPerThread} calls");
    }

    private static float[][] MakeInputs(int seed)
    {
        var random = new Random(seed);
        var inputs = new float[8][];
        for (int i = 0; i < inputs.Length; i++)
            inputs[i] = Numerics.Uniform(random, SeqLen * Batch * Inputs);
        return inputs;
    }

    private static float[] Run(SharedLstm module, float[] input)
    {
        var output = new float[SeqLen * Batch * SharedLstm.HiddenSize];
        var hN = new float[SharedLstm.NumLayers * Batch * SharedLstm.HiddenSize];
        var cN = new float[hN.Length];
        module.Forward(input, SeqLen, Batch, output, hN, cN);
        return output;
    }
}

using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace RnnGen.Tests;

// Declared for these tests only: no other test constructs them first, so each test sees what its own constructor did.
[LstmCell(1, 9)] public partial class WarmupLstmCell;
[GruCell(2, 9)] public partial class WarmupGruCell;
[Lstm(1, 9)] public partial class WarmupLstm;
[Gru(2, 9, NumLayers = 2)] public partial class WarmupGru;
[LstmCell(1, 7)] public partial class WarmupHelperCell;
[GruCell(1, 7)] public partial class WarmupHelperGruCell;
[Lstm(1, 7)] public partial class WarmupHelperLstm;
[Gru(1, 7)] public partial class WarmupHelperGru;

/// <summary>
/// A generated module's constructor compiles its streaming forward path (<c>Warmup</c>): the first batch-1 call (one
/// step, or a block of 64 steps) compiles nothing on the calling thread, and the construction changes nothing a user sees.
/// </summary>
public class WarmupTests
{
    [Test]
    public void TheFirstCellCallAfterConstructionCompilesNothing()
    {
        // The helper itself is compiled on a module of another type first.
        StepCell(new WarmupHelperCell(1));
        var lstmCell = new WarmupLstmCell(1);
        long before = Compiled();
        StepCell(lstmCell);
        Assert.That(Compiled() - before, Is.Zero, "methods compiled by the first LstmCell call");

        StepCell(new WarmupHelperGruCell(1));
        var gruCell = new WarmupGruCell(1);
        before = Compiled();
        StepCell(gruCell);
        Assert.That(Compiled() - before, Is.Zero, "methods compiled by the first GruCell call");
    }

    [Test]
    public void TheFirstSequenceCallsAfterConstructionCompileNothing()
    {
        StepLstm(new WarmupHelperLstm(1), 1);
        StepLstm(new WarmupHelperLstm(2), 64);
        var lstm = new WarmupLstm(1);
        long before = Compiled();
        StepLstm(lstm, 1);
        Assert.That(Compiled() - before, Is.Zero, "methods compiled by the first one-step Lstm call");
        before = Compiled();
        StepLstm(lstm, 64);
        Assert.That(Compiled() - before, Is.Zero, "methods compiled by the first 64-step Lstm call (the block kernel)");

        StepRnn(new WarmupHelperGru(1), 64);
        var gru = new WarmupGru(1);
        before = Compiled();
        StepRnn(gru, 64);
        Assert.That(Compiled() - before, Is.Zero, "methods compiled by the first 64-step Gru call");
    }

    [Test]
    public void ConstructionLeavesParametersStateAndGradientsAsTheyWere()
    {
        // The same seed twice: the first instance of the type warmed, the second did not; both equal the seed's draw.
        var first = new WarmupLstmCell(7);
        var second = new WarmupLstmCell(7);
        Assert.That(first.Parameters.Version, Is.EqualTo(second.Parameters.Version), "no write to the parameters");
        Assert.That(second.Parameters.AsReadOnlySpan().ToArray(), Is.EqualTo(first.Parameters.AsReadOnlySpan().ToArray()));
        Assert.That(first.Gradients.AsReadOnlySpan().ToArray(), Is.All.Zero, "gradients untouched");
        Assert.Throws<InvalidOperationException>(() => first.Backward(new float[9], new float[9], new float[1], new float[9], new float[9]),
            "no training forward recorded by the warm-up");
    }

    // Methods the JIT compiled on this thread so far (tier-1 recompilation runs on a background thread).
    private static long Compiled() => JitInfo.GetCompiledMethodCount(currentThread: true);

    private static readonly float[] s_input = new float[128], s_h = new float[2 * 9], s_c = new float[9], s_output = new float[64 * 9];

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StepCell(ILstmCellModule cell) =>
        cell.Forward(s_input.AsSpan(0, cell.InputSize), 1, s_h.AsSpan(0, cell.HiddenSize), s_c.AsSpan(0, cell.HiddenSize), s_h.AsSpan(0, cell.HiddenSize), s_c.AsSpan(0, cell.HiddenSize));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StepCell(IRnnCellModule cell) =>
        cell.Forward(s_input.AsSpan(0, cell.InputSize), 1, s_h.AsSpan(0, cell.HiddenSize), s_h.AsSpan(0, cell.HiddenSize));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StepLstm(ILstmModule lstm, int seqLen) =>
        lstm.Forward(s_input.AsSpan(0, seqLen * lstm.InputSize), seqLen, 1, s_output.AsSpan(0, seqLen * lstm.HiddenSize),
            s_h.AsSpan(0, lstm.HiddenSize), s_c.AsSpan(0, lstm.HiddenSize), s_h.AsSpan(0, lstm.HiddenSize), s_c.AsSpan(0, lstm.HiddenSize));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StepRnn(IRnnModule rnn, int seqLen) =>
        rnn.Forward(s_input.AsSpan(0, seqLen * rnn.InputSize), seqLen, 1, s_output.AsSpan(0, seqLen * rnn.HiddenSize),
            s_h.AsSpan(0, rnn.NumLayers * rnn.HiddenSize), s_h.AsSpan(0, rnn.NumLayers * rnn.HiddenSize));
}

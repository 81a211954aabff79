using System;
using System.Collections.Generic;
using RnnGen;

namespace PackageConsumer;

// All six attributes, as a user declares them. Sizes that are not multiples of a vector width (tails).
[Rnn(3, 17, NumLayers = 2, Bidirectional = true)] public partial class ConsumerRnn;
[RnnCell(5, 9, Nonlinearity = Nonlinearity.Relu)] public partial class ConsumerRnnCell;
[Lstm(1, 32, NumLayers = 2, BatchFirst = true)] public partial class ConsumerLstm;
[LstmCell(1, 12)] public partial class ConsumerLstmCell;
[Gru(4, 20)] public partial class ConsumerGru;
[GruCell(1, 32)] public partial class ConsumerGruCell;

// Weights baked in at compile time from an AdditionalFiles item (make_weights.py wrote it).
[LstmCell(1, 5), Weights("consumer-weights.safetensors", Prefix = "cell.")] public partial class ConsumerBakedCell;

/// <summary>
/// Runs every module once on fixed inputs from fixed seeds. The consumer app prints this; PackageTests runs the
/// same file in-process (compiled by the repository's generator against the repository's runtime) and compares.
/// </summary>
public static class Workload
{
    public static IEnumerable<(string Name, float[] Values)> Run()
    {
        const int seqLen = 6, batch = 2;

        var rnn = new ConsumerRnn(seed: 1);
        var rnnOut = new float[seqLen * batch * 2 * 17];
        var rnnH = new float[2 * 2 * batch * 17];
        rnn.Forward(Input(seqLen * batch * 3), seqLen, batch, rnnOut, rnnH);
        yield return ("Rnn", Concat(rnnOut, rnnH));

        var rnnCell = new ConsumerRnnCell(seed: 2);
        var rnnCellH = new float[batch * 9];
        rnnCell.Forward(Input(batch * 5), batch, Input(batch * 9, 0.5f), rnnCellH);
        yield return ("RnnCell", rnnCellH);

        var lstm = new ConsumerLstm(seed: 3);
        var lstmOut = new float[batch * seqLen * 32];
        var lstmH = new float[2 * batch * 32];
        var lstmC = new float[2 * batch * 32];
        lstm.Forward(Input(batch * seqLen), seqLen, batch, lstmOut, lstmH, lstmC);
        yield return ("Lstm", Concat(lstmOut, Concat(lstmH, lstmC)));

        var lstmCell = new ConsumerLstmCell(seed: 4);
        var cellH = new float[12];
        var cellC = new float[12];
        for (int t = 0; t < 48; t++) // one sample at a time, state carried in place
            lstmCell.Forward(Input(1, t), 1, cellH, cellC, cellH, cellC);
        yield return ("LstmCell", Concat(cellH, cellC));

        var gru = new ConsumerGru(seed: 5);
        var gruOut = new float[seqLen * batch * 20];
        var gruH = new float[batch * 20];
        gru.Forward(Input(seqLen * batch * 4), seqLen, batch, gruOut, gruH);
        yield return ("Gru", Concat(gruOut, gruH));

        var gruCell = new ConsumerGruCell(seed: 6);
        var gruCellH = new float[32];
        for (int t = 0; t < 48; t++)
            gruCell.Forward(Input(1, t), 1, gruCellH, gruCellH);
        yield return ("GruCell", gruCellH);

        var baked = new ConsumerBakedCell();
        var bakedH = new float[5];
        var bakedC = new float[5];
        for (int t = 0; t < 20; t++)
            baked.Forward(Input(1, t), 1, bakedH, bakedC, bakedH, bakedC);
        yield return ("BakedLstmCell", Concat(bakedH, bakedC));

        yield return ("Paths", new float[] { (float)rnn.LastKernelPath, (float)lstmCell.LastKernelPath, (float)gruCell.LastKernelPath });
    }

    /// <summary>A deterministic signal in [-1, 1]: no random generator, so both sides compute the same floats.</summary>
    private static float[] Input(int length, float phase = 0f)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = MathF.Sin(0.37f * i + phase) * MathF.Cos(0.11f * i);
        return x;
    }

    private static float[] Concat(float[] a, float[] b)
    {
        var all = new float[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        return all;
    }
}

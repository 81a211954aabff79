// The workloads bench/side-by-side/run.sh times, compiled once against each checkout it compares. Only public API
// that every compared commit has: a probe built against an old commit must compile too.
using System;
using System.Runtime.Intrinsics;
using RnnGen;

[LstmCell(1, 12)] public partial class LstmCell12;
[LstmCell(1, 16)] public partial class LstmCell16;
[LstmCell(1, 24)] public partial class LstmCell24;
[LstmCell(1, 32)] public partial class LstmCell32;
[GruCell(1, 32)] public partial class GruCell32;
[Lstm(1, 12)] public partial class Lstm12;
[Lstm(1, 16)] public partial class Lstm16;
[Lstm(1, 24)] public partial class Lstm24;
[Lstm(1, 32)] public partial class Lstm32;
[Gru(1, 32)] public partial class Gru32;
[Lstm(100, 200)] public partial class Lstm100x200;

public static class Probe
{
    private const int Block = 64;

    /// <summary>Samples (time steps) one call of <see cref="Make"/>'s workload runs: per-sample figures divide by it.</summary>
    public static int Samples(string name) => name is "big" or "big2" ? 1 : Block;

    /// <summary>
    /// One case's workload, 64 samples per call with a Dense(H→1) head on each sample's h, state carried in place:
    /// cellH / grucell = one cell call per sample; seqH = the sequence module called once per sample (seq 1);
    /// blockH / grublock = the sequence module over the 64-sample block; big = one Lstm(100→200) step; big2 = the same
    /// with Parallelism.MaxDegreeOfParallelism = 2 for the call (set and reset around it: the setting is process-wide,
    /// per build), where the build has it.
    /// </summary>
    public static Func<float> Make(string name)
    {
        float[] x = new float[Block], y = new float[Block];
        for (int i = 0; i < Block; i++) x[i] = MathF.Sin(i * 0.37f);
        if (name is "big" or "big2")
        {
            var lstm = new Lstm100x200(1);
            float[] input = new float[100], h = new float[200], c = new float[200], o = new float[200];
            for (int i = 0; i < 100; i++) input[i] = MathF.Sin(i);
            // Through reflection, once: a build from before Parallelism runs big2 as big.
            var threads = (Action<int>)typeof(ILstmModule).Assembly.GetType("RnnGen.Parallelism")?.GetProperty("MaxDegreeOfParallelism")
                ?.SetMethod?.CreateDelegate(typeof(Action<int>));
            if (name == "big2" && threads is not null)
                return () => { threads(2); lstm.Forward(input, 1, 1, o, h, c, h, c); threads(1); return h[0]; };
            return () => { lstm.Forward(input, 1, 1, o, h, c, h, c); return h[0]; };
        }
        if (name is "grucell" or "grublock")
        {
            var cell = new GruCell32(1);
            var seq = new Gru32(1);
            float[] h = new float[32], w = Head(32), output = new float[Block * 32];
            if (name == "grucell")
                return () => { for (int s = 0; s < Block; s++) { cell.Forward(x.AsSpan(s, 1), 1, h, h); y[s] = Dot(h, 0, w); } return y[0]; };
            return () => { seq.Forward(x, Block, 1, output, h, h); for (int s = 0; s < Block; s++) y[s] = Dot(output, s * 32, w); return y[0]; };
        }
        int hidden = int.Parse(name.AsSpan(name.IndexOfAny("0123456789".ToCharArray())));
        ILstmCellModule lstmCell = hidden switch { 12 => new LstmCell12(1), 16 => new LstmCell16(1), 24 => new LstmCell24(1), 32 => new LstmCell32(1), _ => throw new ArgumentException(name) };
        ILstmModule lstmSeq = hidden switch { 12 => new Lstm12(1), 16 => new Lstm16(1), 24 => new Lstm24(1), _ => new Lstm32(1) };
        float[] hs = new float[hidden], cs = new float[hidden], head = Head(hidden), outs = new float[Block * hidden];
        if (name.StartsWith("cell"))
            return () => { for (int s = 0; s < Block; s++) { lstmCell.Forward(x.AsSpan(s, 1), 1, hs, cs, hs, cs); y[s] = Dot(hs, 0, head); } return y[0]; };
        if (name.StartsWith("seq"))
            return () => { for (int s = 0; s < Block; s++) { lstmSeq.Forward(x.AsSpan(s, 1), 1, 1, outs.AsSpan(0, hidden), hs, cs, hs, cs); y[s] = Dot(hs, 0, head); } return y[0]; };
        if (name.StartsWith("block"))
            return () => { lstmSeq.Forward(x, Block, 1, outs, hs, cs, hs, cs); for (int s = 0; s < Block; s++) y[s] = Dot(outs, s * hidden, head); return y[0]; };
        throw new ArgumentException($"unknown case {name}");
    }

    private static float[] Head(int hidden)
    {
        var w = new float[hidden];
        for (int j = 0; j < hidden; j++) w[j] = 0.1f * MathF.Cos(j);
        return w;
    }

    /// <summary>
    /// The Dense(H→1) head, y = 0.1 + w·h, four lanes at a time (every case's H is a multiple of 4), as a user would write
    /// it, and vectorised as the native peer's head is (RTNeural's DenseT): a scalar loop cost a fifth of a
    /// <c>LstmCell(1→16)</c> sample.
    /// </summary>
    private static float Dot(float[] h, int start, float[] w)
    {
        var sum = Vector128<float>.Zero;
        for (int j = 0; j < w.Length; j += 4)
            sum += Vector128.Create(w, j) * Vector128.Create(h, start + j);
        return 0.1f + Vector128.Sum(sum);
    }
}

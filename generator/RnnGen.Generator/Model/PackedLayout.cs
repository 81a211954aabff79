using System.Collections.Generic;

namespace RnnGen.Generator.Model;

/// <summary>Where one layer-and-direction's packed matrices sit in a path's packed buffer.</summary>
internal sealed record PackedBlock(int Layer, int Direction, string Suffix, string TorchSuffix, int InputColumns, int PaddedInput,
    int WeightIh, int WeightHh, int Bias, int WeightIhRows, int WeightHhRows, int HiddenBiasN, int WeightHr, int WeightHrRows);

/// <summary>
/// The packed-weight layout of one path, per block: W_ihᵀ and W_hhᵀ as column panels (forward), the summed
/// bias (both <see cref="PathPlan.PanelRow"/> floats per input or row: a narrow last tile at its own width), then W_ih and W_hh with rows padded to whole vectors (backward); a GRU's b_hn; an LSTM projection's
/// W_hrᵀ as column panels (forward) and W_hr with rows padded (backward). An inference-only module's layout has no
/// backward parts: its *Rows offsets point at zero-length ranges.
/// </summary>
internal sealed record PackedLayout(IReadOnlyList<PackedBlock> Blocks, int Length)
{
    public static PackedLayout For(NetworkSpec spec, PathPlan plan)
    {
        var blocks = new List<PackedBlock>();
        long length = Walk(spec, plan, blocks);
        return new PackedLayout(blocks, checked((int)length));
    }

    /// <summary>
    /// The floats of the packed buffer, counted in 64 bits: the parser reports a declaration whose buffer one .NET array
    /// cannot hold (RNNG0010) from this, so the check and the layout cannot disagree.
    /// </summary>
    public static long FloatsOf(NetworkSpec spec, PathPlan plan) => Walk(spec, plan, null);

    private static long Walk(NetworkSpec spec, PathPlan plan, List<PackedBlock>? blocks)
    {
        long offset = 0;
        long hp = Pad(spec.HiddenSize), ps = spec.Gates * hp, pr = plan.PanelRow, state = spec.StateSize, statePadded = Pad(state);
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            for (int direction = 0; direction < spec.NumDirections; direction++)
            {
                long k = spec.LayerInputSize(layer), kp = Pad(k);
                // The backward-only parts (the *Rows matrices) take no room in an inference-only module (Training = false).
                long wih = offset;
                long whh = wih + k * pr;
                long bias = whh + state * pr;
                long wihRows = bias + pr;
                long whhRows = wihRows + Backward(ps * kp);
                long hiddenBiasN = whhRows + Backward(ps * statePadded); // a GRU's b_hn, which stays inside the reset product
                long whr = hiddenBiasN + (spec.IsGru ? hp : 0);
                long whrRows = whr + (spec.Projects ? spec.HiddenSize * statePadded : 0);
                offset = whrRows + (spec.Projects ? Backward(state * hp) : 0);
                if (blocks is not null)
                {
                    // Only for a declaration that passed RNNG0010, so every offset fits an int.
                    string torch = spec.IsCell ? "" : $"_l{layer}" + (direction == 1 ? "_reverse" : "");
                    string suffix = spec.IsCell ? "" : $"L{layer}" + (direction == 1 ? "Reverse" : "");
                    blocks.Add(new PackedBlock(layer, direction, suffix, torch, (int)k, (int)kp, (int)wih, (int)whh, (int)bias, (int)wihRows,
                        (int)whhRows, (int)hiddenBiasN, (int)whr, (int)whrRows));
                }
            }
        }
        return offset;

        long Pad(long n) => (n + plan.Width - 1) / plan.Width * plan.Width;
        long Backward(long floats) => spec.Training ? floats : 0;
    }
}

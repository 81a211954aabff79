using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// Emits the fused GRU step of one path: per tile of hidden units, the products for r and z start from their
/// pre-activations and the product for n from b_hn, all three in registers, and PyTorch's update runs on
/// them before anything is stored: <c>r = σ(a_r)</c>, <c>z = σ(a_z)</c>, <c>n = tanh(pre_n + r ⊙ (W_hn h + b_hn))</c>,
/// <c>h' = (1 − z) ⊙ n + z ⊙ h</c>. Training also stores r, z, n and W_hn h + b_hn.
/// </summary>
internal static class GruStepEmitter
{
    private const string Unsafe = KernelEmitter.Unsafe;
    private const string Parameters = "(ref float a, nint aStride, ref float b, ref float pre, ref float bhn, ref float hPrev, ref float h, nint hStride, ref float gates, bool keep)";

    public static void Emit(SourceWriter w, NetworkSpec spec, PathPlan plan) =>
        UnitStepEmitter.Emit(w, plan, "GruStep", "The GRU step over every tile of hidden units, the rows in register blocks.",
            "(ref float a, nint aStride, int rows, ref float b, ref float pre, ref float bhn, ref float h, nint hStride, ref float gates)",
            $"ref {Unsafe}.Add(ref a, r * aStride), aStride, ref {Unsafe}.Add(ref b, unit * Gates * HiddenSize), ref {Unsafe}.Add(ref pre, r * GateRow + unit * Gates), ref {Unsafe}.Add(ref bhn, unit), ref {Unsafe}.Add(ref a, r * aStride + unit), ref {Unsafe}.Add(ref h, r * hStride + unit), hStride, ref keep ? ref {Unsafe}.Add(ref gates, r * TapeRow + unit * 4) : ref gates, keep",
            (rows, tail, name) => EmitKernel(w, spec, plan, rows, tail, name), UnitStepEmitter.WalksTilesBackward(spec, plan), UnitStepEmitter.SplitsRows(spec, plan));

    private static void EmitKernel(SourceWriter w, NetworkSpec spec, PathPlan plan, int rows, int tail, string name)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width, bits = width * 32;
        // A narrow last tile (PathPlan.NarrowLastTile): as in the LSTM step, the products in half vectors, widened for the update.
        int lanes = plan.ProductLanes(tail);
        bool narrow = lanes != width;
        string pv = $"RnnGenV{lanes * 32}", pf = $"RnnGenF{lanes * 32}", n = narrow ? "N" : "";
        string Widened(string half) => narrow ? $"{pv}.ToVector{bits}({half})" : half;
        w.Summary($"{rows} row(s) x {width} units, the three gate products in registers" + (tail > 0 ? $"; {tail} of the units are real" : "")
            + (narrow ? $", their products in vectors of {lanes}." : "."));
        w.Line(KernelEmitter.NeverInlined);
        using (w.Block($"private static void {name}{Parameters}"))
        {
            // hPrev is the tile's units of the previous state (for z ⊙ h); a walks whole rows (for the products).
            for (int r = 0; r < rows; r++)
                w.Line($"ref float h{r}Prev = {KernelEmitter.At("hPrev", KernelEmitter.Times(r, "aStride"))};");
            for (int r = 1; r < rows; r++)
                w.Line($"ref float a{r} = {KernelEmitter.At("a", KernelEmitter.Times(r, "aStride"))};");
            w.Line($"{pf} hiddenBias = {pv}.LoadUnsafe(ref bhn);");
            for (int r = 0; r < rows; r++)
                w.Line($"{pf} r{n}{r} = {pv}.LoadUnsafe(ref pre{KernelEmitter.Offset(r * plan.PreStride)}), z{n}{r} = {pv}.LoadUnsafe(ref pre{KernelEmitter.Offset(r * plan.PreStride + lanes)}), n{n}{r} = hiddenBias;");
            w.Line("ref float x0 = ref a;");
            if (rows == 1)
                UnitStepEmitter.EmitSingleRowProducts(w, plan, "x0", new[] { $"r{n}", $"z{n}", $"n{n}" }, spec.HiddenSize, lanes: lanes);
            else
            using (spec.HiddenSize == 1 ? null : w.Block($"for (int k = 0; k < {spec.HiddenSize}; k++)"))
            {
                w.Line($"{pf} wr = {pv}.LoadUnsafe(ref b), wz = {pv}.LoadUnsafe(ref b{KernelEmitter.Offset(lanes)}), wn = {pv}.LoadUnsafe(ref b{KernelEmitter.Offset(2 * lanes)});");
                for (int r = 0; r < rows; r++)
                {
                    w.Line($"{(r == 0 ? $"{pf} " : "")}x = {pv}.Create({(r == 0 ? "x0" : $"a{r}")});");
                    w.Line($"r{n}{r} = {pv}.MultiplyAddEstimate(x, wr, r{n}{r});");
                    w.Line($"z{n}{r} = {pv}.MultiplyAddEstimate(x, wz, z{n}{r});");
                    w.Line($"n{n}{r} = {pv}.MultiplyAddEstimate(x, wn, n{n}{r});");
                }
                // One input (HiddenSize 1) is the body once, straight-line, with nothing to advance.
                for (int r = 0; r < rows && spec.HiddenSize > 1; r++)
                {
                    string a = r == 0 ? "x0" : $"a{r}";
                    w.Line($"{a} = ref {Unsafe}.Add(ref {a}, 1);");
                }
                if (spec.HiddenSize > 1)
                    w.Line($"b = ref {Unsafe}.Add(ref b, {3 * lanes});");
            }
            if (rows > 1)
            {
                // As in the LSTM step: park r and z in pre (whose own r and z are consumed), so that each row's update
                // runs with few vectors live; n stays in registers (pre still holds the input side of n).
                w.Line("// Each row's update needs only its own gates in registers: park the others' r and z in pre.");
                for (int r = 0; r < rows; r++)
                {
                    w.Line($"{pv}.StoreUnsafe(r{n}{r}, ref pre{KernelEmitter.Offset(r * plan.PreStride)});");
                    w.Line($"{pv}.StoreUnsafe(z{n}{r}, ref pre{KernelEmitter.Offset(r * plan.PreStride + lanes)});");
                }
            }
            for (int r = 0; r < rows; r++)
            {
                w.Line($"// Row {r}: the update.");
                string rPre = $"{pv}.LoadUnsafe(ref pre{KernelEmitter.Offset(r * plan.PreStride)})", zPre = $"{pv}.LoadUnsafe(ref pre{KernelEmitter.Offset(r * plan.PreStride + lanes)})";
                if (narrow)
                    w.Line($"{f} r{r} = {Widened(rows > 1 ? rPre : $"rN{r}")}, z{r} = {Widened(rows > 1 ? zPre : $"zN{r}")}, n{r} = {Widened($"nN{r}")};");
                else if (rows > 1)
                    w.Line($"r{r} = {rPre}; z{r} = {zPre};");
                // The previous state is the caller's row: its tail is loaded exactly, never past the row's end, in the
                // pieces the previous step stored.
                string previous = KernelEmitter.PartialLoad(width, $"h{r}Prev", 0, KernelEmitter.Lanes(width, tail));
                string nPre = Widened($"{pv}.LoadUnsafe(ref pre{KernelEmitter.Offset(r * plan.PreStride + 2 * lanes)})");
                w.Line($"{f} next{r} = RnnGenGru.Row<RnnGenWidth{bits}, {f}>(r{r}, z{r}, n{r}, {nPre}, {previous}, keep, ref gates, {r * 4 * plan.PaddedHidden});");
                if (tail > 0)
                {
                    w.Line($"ref float hRow{r} = {KernelEmitter.At("h", KernelEmitter.Times(r, "hStride"))};");
                    KernelEmitter.EmitPartialStore(w, $"next{r}", width, $"hRow{r}", 0, tail);
                }
                else
                {
                    w.Line($"{v}.StoreUnsafe(next{r}, {KernelEmitter.At("h", KernelEmitter.Times(r, "hStride"))});");
                }
            }
        }
    }
}

using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// Emits the fused LSTM step of one path: per tile of hidden units, the four gate products
/// <c>pre + hPrev · W_hh^T</c> accumulate in registers (gate rows i, f, g, o of the same units side by side in
/// the packed panel), and the cell update runs on them before anything is stored:
/// <c>c = σ(f) ⊙ cPrev + σ(i) ⊙ tanh(g)</c>, <c>h = σ(o) ⊙ tanh(c)</c>. Training also stores the gate activations.
/// </summary>
internal static class LstmStepEmitter
{
    private const string Unsafe = KernelEmitter.Unsafe;
    private const string Sigmoid = "global::RnnGen.__Internals.SigmoidActivation";
    private const string Tanh = "global::RnnGen.__Internals.TanhActivation";
    private const string Parameters = "(ref float a, nint aStride, ref float b, ref float pre, ref float cPrev, nint cPrevStride, ref float h, nint hStride, ref float c, nint cStride, ref float gates, bool keep)";

    public static void Emit(SourceWriter w, NetworkSpec spec, PathPlan plan) =>
        UnitStepEmitter.Emit(w, plan, "LstmStep", "The LSTM step over every tile of hidden units, the rows in register blocks.",
            "(ref float a, nint aStride, int rows, ref float b, ref float pre, ref float cPrev, nint cPrevStride, ref float h, nint hStride, ref float c, nint cStride, ref float gates)",
            $"ref {Unsafe}.Add(ref a, r * aStride), aStride, ref {Unsafe}.Add(ref b, unit * Gates * {spec.StateSizeName}), ref {Unsafe}.Add(ref pre, r * GateRow + unit * Gates), ref {Unsafe}.Add(ref cPrev, r * cPrevStride + unit), cPrevStride, ref {Unsafe}.Add(ref h, r * hStride + unit), hStride, ref {Unsafe}.Add(ref c, r * cStride + unit), cStride, ref keep ? ref {Unsafe}.Add(ref gates, r * TapeRow + unit * 4) : ref gates, keep",
            (rows, tail, name) => EmitKernel(w, spec, plan, rows, tail, name), UnitStepEmitter.WalksTilesBackward(spec, plan), UnitStepEmitter.SplitsRows(spec, plan),
            HasPairKernel(plan) ? (tail, name) => EmitPairKernel(w, spec, plan, tail, name) : null);

    /// <summary>Whether a single row's step over both tiles is one kernel (the AVX-512 pair kernel): exactly two tiles of 16 lanes.</summary>
    public static bool HasPairKernel(PathPlan plan) => plan.Width == 16 && plan.UnitTiles.TileCount == 2;

    /// <summary>
    /// One row over two tiles of units (AVX-512: 17 to 32 hidden units): both tiles' products in one pass (two
    /// accumulator sets each, 16 accumulators), then both cell updates gate by gate, so that the two tiles'
    /// activation chains, which do not depend on each other, run side by side.
    /// </summary>
    private static void EmitPairKernel(SourceWriter w, NetworkSpec spec, PathPlan plan, int tail, string name)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width;
        string[] gate = { "i", "f", "g", "o" };
        string[] tile = { "0", "T0" }; // accumulator suffixes: tile 0, tile 1
        w.Summary($"1 row x 2 tiles of {width} units, every gate of both in registers" + (tail > 0 ? $"; {tail} of the second tile's units are real." : "."));
        w.Line(KernelEmitter.NeverInlined);
        using (w.Block($"private static void {name}{Parameters}"))
        {
            w.Line($"ref float b1 = ref {Unsafe}.Add(ref b, TileUnits * Gates * {spec.StateSizeName});");
            for (int t = 0; t < 2; t++)
                w.Line($"{f} " + string.Join(", ", Enumerable.Range(0, 4).Select(g =>
                    $"{gate[g]}{(t == 0 ? "" : "T")}0 = {v}.LoadUnsafe(ref pre{KernelEmitter.Offset((t * 4 + g) * width)})")) + ";");
            UnitStepEmitter.EmitSingleRowProducts(w, plan, "a", new[] { "i", "f", "g", "o", "iT", "fT", "gT", "oT" }, spec.StateSize,
                new[] { "b", "b", "b", "b", "b1", "b1", "b1", "b1" }, maxSets: 2);
            w.Line("// Both tiles' cell updates, interleaved.");
            foreach (int g in new[] { 0, 1, 3 })
                for (int t = 0; t < 2; t++)
                    w.Line($"{gate[g]}{(t == 0 ? "" : "T")}0 = {Sigmoid}.Invoke({gate[g]}{(t == 0 ? "" : "T")}0);");
            for (int t = 0; t < 2; t++)
                w.Line($"g{(t == 0 ? "" : "T")}0 = {Tanh}.Invoke(g{(t == 0 ? "" : "T")}0);");
            for (int t = 0; t < 2; t++)
            {
                string T = t == 0 ? "" : "T";
                w.Line($"{f} c{T}0 = {v}.MultiplyAddEstimate(i{T}0, g{T}0, f{T}0 * {v}.LoadUnsafe(ref cPrev{KernelEmitter.Offset(KernelEmitter.Times(t, "TileUnits"))}));");
            }
            for (int t = 0; t < 2; t++)
            {
                string T = t == 0 ? "" : "T";
                w.Line($"{v}.StoreUnsafe(c{T}0, ref c{KernelEmitter.Offset(KernelEmitter.Times(t, "TileUnits"))});");
                w.Line($"{f} h{T}0 = o{T}0 * {Tanh}.Invoke(c{T}0);");
            }
            w.Line($"{v}.StoreUnsafe(h0, ref h);");
            if (tail > 0)
            {
                w.Line($"ref float hTile1 = ref {Unsafe}.Add(ref h, TileUnits);");
                KernelEmitter.EmitPartialStore(w, "hT0", width, "hTile1", 0, tail);
            }
            else
            {
                w.Line($"{v}.StoreUnsafe(hT0, ref h, TileUnits);");
            }
            using (w.Block("if (keep)"))
            {
                for (int t = 0; t < 2; t++)
                    for (int g = 0; g < 4; g++)
                        w.Line($"{v}.StoreUnsafe({gate[g]}{(t == 0 ? "" : "T")}0, ref gates, {(t * 4 + g) * width});");
            }
        }
    }

    private static void EmitKernel(SourceWriter w, NetworkSpec spec, PathPlan plan, int rows, int tail, string name)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width;
        string[] gate = { "i", "f", "g", "o" };
        // A narrow last tile (PathPlan.NarrowLastTile): the products run in half vectors, from its panel and its part of
        // pre (gates half a vector apart), and are widened for the update (the lanes past the tile zero, as a whole
        // vector's padded lanes would be).
        int lanes = plan.ProductLanes(tail);
        bool narrow = lanes != width;
        string pv = $"RnnGenV{lanes * 32}", pf = $"RnnGenF{lanes * 32}";
        string[] acc = narrow ? gate.Select(g => g + "N").ToArray() : gate;
        w.Summary($"{rows} row(s) x {width} units, all four gates in registers" + (tail > 0 ? $"; {tail} of the units are real" : "")
            + (narrow ? $", their products in vectors of {lanes}." : "."));
        w.Line(KernelEmitter.NeverInlined);
        using (w.Block($"private static void {name}{Parameters}"))
        {
            for (int r = 1; r < rows; r++)
                w.Line($"ref float a{r} = {KernelEmitter.At("a", KernelEmitter.Times(r, "aStride"))};");
            for (int r = 0; r < rows; r++)
                w.Line($"{pf} " + string.Join(", ", Enumerable.Range(0, 4).Select(g =>
                    $"{acc[g]}{r} = {pv}.LoadUnsafe(ref pre{KernelEmitter.Offset(r * plan.PreStride + g * lanes)})")) + ";");
            if (rows == 1)
            {
                UnitStepEmitter.EmitSingleRowProducts(w, plan, "a", acc, spec.StateSize, lanes: lanes);
            }
            else
            {
                using (spec.StateSize == 1 ? null : w.Block($"for (int k = 0; k < {spec.StateSize}; k++)"))
                {
                    for (int g = 0; g < 4; g++)
                        w.Line($"{pf} w{gate[g]} = {pv}.LoadUnsafe(ref b{KernelEmitter.Offset(g * lanes)});");
                    for (int r = 0; r < rows; r++)
                    {
                        w.Line($"{(r == 0 ? $"{pf} " : "")}x = {pv}.Create({(r == 0 ? "a" : $"a{r}")});");
                        for (int g = 0; g < 4; g++)
                            w.Line($"{acc[g]}{r} = {pv}.MultiplyAddEstimate(x, w{gate[g]}, {acc[g]}{r});");
                    }
                    // One input (StateSize 1) is the body once, straight-line, with nothing to advance.
                    for (int r = 0; r < rows && spec.StateSize > 1; r++)
                    {
                        string a = r == 0 ? "a" : $"a{r}";
                        w.Line($"{a} = ref {Unsafe}.Add(ref {a}, 1);");
                    }
                    if (spec.StateSize > 1)
                        w.Line($"b = ref {Unsafe}.Add(ref b, {4 * lanes});");
                }
            }
            if (rows > 1)
            {
                // Park the accumulators in pre (this step's own, L1-resident rows, read by nothing after it), so that
                // each row's update runs with only its four gates live: with every row's gates live next to the
                // activations' constants the JIT spilled, and the update cost half as much as the products.
                w.Line("// Each row's update needs only its own gates in registers: park the others in pre.");
                for (int r = 0; r < rows; r++)
                    for (int g = 0; g < 4; g++)
                        w.Line($"{pv}.StoreUnsafe({acc[g]}{r}, ref pre{KernelEmitter.Offset(r * plan.PreStride + g * lanes)});");
            }
            for (int r = 0; r < rows; r++)
            {
                w.Line($"// Row {r}: the cell update.");
                // Its gates: parked in pre (several rows) or the accumulators (one), widened where they are half vectors.
                string Gate(int g) => rows > 1 ? $"{pv}.LoadUnsafe(ref pre{KernelEmitter.Offset(r * plan.PreStride + g * lanes)})" : $"{acc[g]}{r}";
                if (narrow)
                    w.Line($"{f} " + string.Join(", ", Enumerable.Range(0, 4).Select(g => $"{gate[g]}{r} = {pv}.ToVector{width * 32}({Gate(g)})")) + ";");
                else if (rows > 1)
                    w.Line(string.Join(" ", Enumerable.Range(0, 4).Select(g => $"{gate[g]}{r} = {Gate(g)};")));
                string cPrev = KernelEmitter.At("cPrev", KernelEmitter.Times(r, "cPrevStride")), c = KernelEmitter.At("c", KernelEmitter.Times(r, "cStride"));
                w.Line($"{f} h{r} = RnnGenLstm.Row<RnnGenWidth{width * 32}, {f}>(i{r}, f{r}, g{r}, o{r}, {cPrev}, {c}, keep, ref gates, {r * 4 * plan.PaddedHidden});");
                if (tail > 0)
                {
                    w.Line($"ref float hRow{r} = {KernelEmitter.At("h", KernelEmitter.Times(r, "hStride"))};");
                    KernelEmitter.EmitPartialStore(w, $"h{r}", width, $"hRow{r}", 0, tail);
                }
                else
                {
                    w.Line($"{v}.StoreUnsafe(h{r}, {KernelEmitter.At("h", KernelEmitter.Times(r, "hStride"))});");
                }
            }
        }
    }
}

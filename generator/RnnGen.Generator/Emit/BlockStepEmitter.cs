using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// Emits the block kernel of a gated module (<c>IRnnKernels.TryRunRow</c>, <c>TryRunRowFromInput</c>): one row's whole
/// recurrence of one layer and direction in one call, for shapes whose state is at most two vectors of units (AVX-512:
/// up to 32 hidden units; AVX2: 16; 128-bit: 8). Between steps nothing happens but the store of h: h (and an LSTM's c)
/// stay in registers, each step's products broadcast h's lanes from there by permutes (no store-to-load round trip on
/// the chain from one step to the next), and W_hh is read from the same packed panels as the step (L1-resident). A cell
/// with a narrow input gets it too, for its one step per call with the projection inside (a one-tile cell broadcasts
/// from the caller's h row instead: it has just been loaded from there).
/// </summary>
/// <remarks>
/// Each step does exactly the arithmetic of the single-row step kernel (<see cref="LstmStepEmitter"/>,
/// <see cref="GruStepEmitter"/>): the same accumulator sets, the same pairwise sums and the same activations. So a
/// sequence gives the same bits whether it runs here or step by step, whatever blocks it is cut into, and a batch
/// split into single rows gives the bits of the whole batch.
/// </remarks>
internal static class BlockStepEmitter
{
    private const string Unsafe = KernelEmitter.Unsafe;
    private const string Sigmoid = "global::RnnGen.__Internals.SigmoidActivation";
    private const string Tanh = "global::RnnGen.__Internals.TanhActivation";
    private const string Parameters = "(ref float b, ref float pre, nint preStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c)";
    private const string FusedParameters = ", ref float x, nint xStepStride, ref float wih, ref float bias, bool fromInput)";

    /// <summary>The widest layer input whose projection the block kernel computes itself, unrolled (one broadcast and a multiply-add per gate vector and input).</summary>
    private const int MaxFusedInputs = 4;

    /// <summary>
    /// Whether this path gets a block kernel: LSTM (without projection) and GRU modules of one or two unit tiles; a
    /// cell only where the kernel projects its input itself (its one step then costs one kernel call, not two).
    /// </summary>
    public static bool Applies(NetworkSpec spec, PathPlan plan) =>
        (spec.IsLstm && !spec.Projects || spec.IsGru) && plan.UnitTiles.TileCount <= 2 && (!spec.IsCell || FusedInputs(spec) > 0);

    private static string Name(NetworkSpec spec) => spec.IsLstm ? "LstmRowBlock" : "GruRowBlock";

    /// <summary>
    /// The layer input width whose projection the block kernel can compute itself (0: none): a narrow input of a
    /// unidirectional module, where the projection pass before the recurrence cost more than the recurrence's own
    /// multiply-adds from it (Lstm(1→12): the pass was 12% of a 64-step block). Layer 0's width; a later layer fuses too
    /// when its input (the hidden size) has the same width.
    /// </summary>
    private static int FusedInputs(NetworkSpec spec) => spec.NumDirections == 1 && spec.InputSize <= MaxFusedInputs ? spec.InputSize : 0;

    /// <summary>The <c>TryRunRow</c> member of the kernels struct: the block kernel of the layer and direction asked for.</summary>
    public static void EmitMember(SourceWriter w, NetworkSpec spec, PathPlan plan, PackedLayout layout)
    {
        const string Signature = "public bool TryRunRow(int layer, int direction, ref float pre, nint preStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c)";
        const string FromInput = "public bool TryRunRowFromInput(int layer, int direction, ref float x, nint xStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c)";
        w.Line();
        if (!Applies(spec, plan))
        {
            // Declared even so: the interface's default bodies, called on a struct, would box it (an allocation per call).
            w.Line($"{Signature} => false;");
            w.Line();
            w.Line($"{FromInput} => false;");
            return;
        }
        int fused = FusedInputs(spec);
        if (spec.IsCell)
            w.Line($"{Signature} => false; // a cell steps once per call, from its input");
        string Call(PackedBlock b, string pre, string x)
        {
            // A GRU has no cell state: its b_hn goes in that argument's place.
            string cell = spec.IsGru ? KernelEmitter.Packed(layout, $"PackedHiddenBiasN{b.Suffix}") : "ref c";
            string fromInput = fused == 0 ? "" : $", {x}, {KernelEmitter.Packed(layout, $"PackedWeightIh{b.Suffix}")}, {KernelEmitter.Packed(layout, $"PackedBias{b.Suffix}")}, fromInput: {(x == NoInput ? "false" : "true")}";
            return $"{Name(spec)}({KernelEmitter.Packed(layout, $"PackedWeightHh{b.Suffix}")}, {pre}, seqLen, ref hPrev, ref h, hStepStride, {cell}{fromInput});";
        }
        if (!spec.IsCell)
            KernelEmitter.EmitPerBlock(w, spec, layout, Signature, b => Call(b, "ref pre, preStepStride", NoInput), returns: "true");

        w.Line();
        // A later layer reads the output row below, which its step overwrites: fused only with one tile of units, whose
        // update reads the whole input row (the GRU's n gate in the update itself) before it stores h.
        var blocks = layout.Blocks.Where(b => fused > 0 && b.InputColumns == fused && (b.Layer == 0 || plan.UnitTiles.TileCount == 1)).ToList();
        if (blocks.Count == 0)
        {
            w.Line($"{FromInput} => false;");
            return;
        }
        KernelEmitter.EmitPerBlock(w, spec, layout, FromInput, b => Call(b, NoInput, "ref x, xStepStride"), returns: "true", only: blocks.Contains);
    }

    private static readonly string NoInput = $"ref {Unsafe}.NullRef<float>(), 0";

    /// <summary>The block kernel itself, beside the step kernels of the path.</summary>
    public static void EmitKernel(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        if (!Applies(spec, plan))
            return;
        w.Line();
        if (spec.IsLstm)
            EmitLstm(w, spec, plan);
        else
            EmitGru(w, spec, plan);
    }

    private static string Suffix(int tile) => tile == 0 ? "" : "T";

    private static void EmitLstm(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width, tiles = plan.UnitTiles.TileCount;
        // The AVX-512 two-tile step deals both tiles' products to two sets (LstmStepEmitter's pair kernel); else four (two on 16-register paths).
        int maxSets = tiles == 2 && width == 16 ? 2 : 4;
        string[] gate = { "i", "f", "g", "o" };
        w.Summary($"One row's LSTM recurrence over seqLen steps, {tiles} tile(s) of {width} units; h and c stay in registers across steps. " +
            "Each step computes what the single-row step kernel computes, bit for bit. b: W_hh^T's panels; c: the running cell state (read, then written back)." +
            (FusedInputs(spec) > 0 ? " With fromInput, each step's pre-activations come from its input row x (W_ih^T's panels wih, the bias), as the projection computes them; else from pre." : ""));
        w.Line(KernelEmitter.NeverInlined);
        using (w.Block($"private static void {Name(spec)}{KernelParameters(spec, "c")}"))
        {
            EmitLoadState(w, plan, "cell", "c", tiles);
            EmitLoadState(w, plan, "state", "hPrev", tiles);
            w.Line("ref float a = ref hPrev;");
            if (tiles > 1)
                w.Line($"ref float b1 = ref {Unsafe}.Add(ref b, TileUnits * Gates * HiddenSize);");
            using (w.Block("for (int s = 0; s < seqLen; s++)"))
            {
                EmitStepInputs(w, spec, plan, 4, Enumerable.Range(0, tiles).SelectMany(t => Enumerable.Range(0, 4).Select(g => ($"{gate[g]}{Suffix(t)}0", t, g))).ToArray());
                EmitStaggered(w, plan, tiles, spec.StateSize, maxSets, spec.IsCell && tiles == 1, t => gate.Select(g => g + Suffix(t)).ToArray(), t =>
                {
                    string T = Suffix(t);
                    w.Line($"// Tile {t}: the cell update.");
                    w.Line($"i{T}0 = {Sigmoid}.Invoke(i{T}0);");
                    w.Line($"f{T}0 = {Sigmoid}.Invoke(f{T}0);");
                    w.Line($"g{T}0 = {Tanh}.Invoke(g{T}0);");
                    w.Line($"o{T}0 = {Sigmoid}.Invoke(o{T}0);");
                    w.Line($"cell{T} = {v}.MultiplyAddEstimate(i{T}0, g{T}0, f{T}0 * cell{T});");
                    w.Line($"state{T} = o{T}0 * {Tanh}.Invoke(cell{T});");
                    EmitStoreState(w, plan, $"state{T}", "h", t, tiles);
                });
                EmitAdvance(w, spec);
            }
            for (int t = 0; t < tiles; t++)
                EmitStoreState(w, plan, $"cell{Suffix(t)}", "c", t, tiles);
        }
    }

    private static void EmitGru(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width, tiles = plan.UnitTiles.TileCount;
        w.Summary($"One row's GRU recurrence over seqLen steps, {tiles} tile(s) of {width} units; h stays in registers across steps. " +
            "Each step computes what the single-row step kernel computes, bit for bit. b: W_hh^T's panels; bhn: b_hn." +
            (FusedInputs(spec) > 0 ? " With fromInput, each step's pre-activations come from its input row x (W_ih^T's panels wih, the bias), as the projection computes them; else from pre." : ""));
        w.Line(KernelEmitter.NeverInlined);
        using (w.Block($"private static void {Name(spec)}{KernelParameters(spec, "bhn")}"))
        {
            for (int t = 0; t < tiles; t++)
                w.Line($"{f} hiddenBias{Suffix(t)} = {v}.LoadUnsafe(ref bhn{KernelEmitter.Offset(t * width)});");
            EmitLoadState(w, plan, "state", "hPrev", tiles);
            w.Line("ref float a = ref hPrev;");
            if (tiles > 1)
                w.Line($"ref float b1 = ref {Unsafe}.Add(ref b, TileUnits * Gates * HiddenSize);");
            using (w.Block("for (int s = 0; s < seqLen; s++)"))
            {
                // n's input part stays apart from its hidden part, n = tanh(x·W_in + b_in + r ⊙ (h·W_hn + b_hn)): the
                // update takes it, the products start from b_hn.
                EmitStepInputs(w, spec, plan, 3, Enumerable.Range(0, tiles).SelectMany(t => new[] { ($"r{Suffix(t)}0", t, 0), ($"z{Suffix(t)}0", t, 1) }).ToArray());
                for (int t = 0; t < tiles; t++)
                    w.Line($"{f} n{Suffix(t)}0 = hiddenBias{Suffix(t)};");
                EmitStaggered(w, plan, tiles, spec.HiddenSize, maxSets: 4, spec.IsCell && tiles == 1, t => new[] { $"r{Suffix(t)}", $"z{Suffix(t)}", $"n{Suffix(t)}" }, t =>
                {
                    string T = Suffix(t);
                    w.Line($"// Tile {t}: the update.");
                    w.Line($"{f} hn{T}0 = n{T}0;");
                    EmitStepInputs(w, spec, plan, 3, new[] { ($"nInput{T}", t, 2) });
                    w.Line($"r{T}0 = {Sigmoid}.Invoke(r{T}0);");
                    w.Line($"z{T}0 = {Sigmoid}.Invoke(z{T}0);");
                    w.Line($"n{T}0 = {Tanh}.Invoke({v}.MultiplyAddEstimate(r{T}0, hn{T}0, nInput{T}));");
                    w.Line($"state{T} = {v}.MultiplyAddEstimate({f}.One - z{T}0, n{T}0, z{T}0 * state{T});");
                    EmitStoreState(w, plan, $"state{T}", "h", t, tiles);
                });
                EmitAdvance(w, spec);
            }
        }
    }

    /// <summary>
    /// One step's products and updates, staggered over the two tiles so that the step's dependency chains overlap: both
    /// tiles' products over tile 0's inputs (h's first vector), then tile 0's over tile 1's inputs, tile 0's update, tile 1's
    /// products over tile 1's inputs, tile 1's update. Tile 0's new h is ready while tile 1 still computes, and the next
    /// step's products over it run in that time (measured on Zen 5: Lstm(1→24), Lstm(1→32) ~10% faster per sample). Each
    /// accumulator still sums its inputs in increasing order, so the numbers are those of the unstaggered step. With
    /// <paramref name="fromMemory"/> (a cell of one tile: one step per call, h in the caller's row), every input is
    /// broadcast from memory, a load, not a lane permute on the vector ports after a load of the whole row (side by
    /// side on the Xeon, two runs: LstmCell 1→12 2–9% and 1→16 1–5% faster per sample; with two tiles it gained nothing).
    /// </summary>
    private static void EmitStaggered(SourceWriter w, PathPlan plan, int tiles, int inputs, int maxSets, bool fromMemory, System.Func<int, string[]> gatesOf, System.Action<int> update)
    {
        int width = plan.Width;
        int sets = System.Math.Max(1, System.Math.Min(System.Math.Min(width == 16 ? 4 : 2, maxSets), inputs));
        string Panel(int t) => t == 0 ? "b" : "b1";
        // Staggering keeps both tiles' accumulators live at once: only where they take at most half the register file
        // (the AVX-512 LSTM: 2 tiles x 4 gates x 2 sets of 32 zmm). Elsewhere each tile's products run whole, one tile
        // after the other (their sets not live together), then the updates.
        int registers = width == 16 ? 32 : 16;
        if (tiles == 1 || tiles * gatesOf(0).Length * sets > registers / 2)
        {
            for (int t = 0; t < tiles; t++)
            {
                w.Line($"// Tile {t}'s products.");
                using (w.Block(""))
                {
                    DeclareSets(w, plan, gatesOf(t), sets);
                    EmitRegisterProducts(w, plan, "state", gatesOf(t), Panel(t), sets, 0, inputs, fromMemory: fromMemory || t > 0);
                    SumSets(w, gatesOf(t), sets);
                }
            }
            for (int t = 0; t < tiles; t++)
                update(t);
            return;
        }
        for (int t = 0; t < tiles; t++)
            DeclareSets(w, plan, gatesOf(t), sets);
        w.Line("// Both tiles' products over tile 0's inputs.");
        EmitProducts(w, plan, "state", new[] { (gatesOf(0), Panel(0)), (gatesOf(1), Panel(1)) }, sets, 0, width, fromMemory);
        w.Line("// Tile 0's products over tile 1's inputs (from the previous h row: see EmitProducts).");
        EmitRegisterProducts(w, plan, "state", gatesOf(0), Panel(0), sets, width, inputs, fromMemory: true);
        SumSets(w, gatesOf(0), sets);
        update(0);
        w.Line("// Tile 1's products over tile 1's inputs.");
        EmitRegisterProducts(w, plan, "state", gatesOf(1), Panel(1), sets, width, inputs, fromMemory: true);
        SumSets(w, gatesOf(1), sets);
        update(1);
    }

    /// <summary>
    /// A state row into registers, one vector per tile (<paramref name="name"/>, <paramref name="name"/>T): the caller's
    /// row at <paramref name="source"/> (hPrev, or an LSTM's c), exactly its real lanes, never past the row's end, in
    /// the pieces <see cref="EmitStoreState"/> stores (so a call that reloads its previous call's state has it
    /// forwarded). Later steps keep the state they computed there; h's padded lanes hold whatever the padding
    /// computes, which no product reads (they broadcast real lanes only).
    /// </summary>
    private static void EmitLoadState(SourceWriter w, PathPlan plan, string name, string source, int tiles)
    {
        string f = $"RnnGenF{plan.Width * 32}";
        for (int t = 0; t < tiles; t++)
            w.Line($"{f} {name}{Suffix(t)} = {KernelEmitter.PartialLoad(plan.Width, source, t * plan.Width, Lanes(plan, t, tiles))};");
    }

    /// <summary>Stores tile <paramref name="tile"/>'s real lanes of a state row at <paramref name="destination"/> (h, or an LSTM's c), nothing past them.</summary>
    private static void EmitStoreState(SourceWriter w, PathPlan plan, string vector, string destination, int tile, int tiles) =>
        KernelEmitter.EmitPartialStore(w, vector, plan.Width, destination, tile * plan.Width, Lanes(plan, tile, tiles));

    /// <summary>The real lanes of tile <paramref name="tile"/>: the tail of the last one, else all.</summary>
    private static int Lanes(PathPlan plan, int tile, int tiles) =>
        tile == tiles - 1 ? KernelEmitter.Lanes(plan.Width, plan.UnitTiles.TailLanes) : plan.Width;

    /// <summary>
    /// Products of one step over inputs [<paramref name="from"/>, <paramref name="to"/>), acc[g] += h[k] · B[k][g], with h in
    /// registers: input k is lane k mod width of the state vector of tile k / width, broadcast by a lane permute (no
    /// store-to-load round trip between steps). Input k goes to set k mod sets, each set in increasing k, then the sets
    /// are summed pairwise (<see cref="SumSets"/>): exactly how <see cref="UnitStepEmitter.EmitSingleRowProducts"/> deals
    /// them, so the sums are the step kernel's bit for bit. Fully unrolled (at most 32 inputs), weights at constant offsets
    /// in <paramref name="panel"/> (the tile's gates side by side, one row of them per input).
    /// </summary>
    private static void EmitRegisterProducts(SourceWriter w, PathPlan plan, string state, string[] gates, string panel, int sets, int from, int to, bool fromMemory = false)
        => EmitProducts(w, plan, state, new[] { (gates, panel) }, sets, from, to, fromMemory);

    /// <summary>
    /// As <see cref="EmitRegisterProducts"/> for several gate groups at once (each input broadcast once, used by every
    /// group), or with the inputs broadcast from the previous step's h row <c>a</c> in memory (<paramref name="fromMemory"/>).
    /// A second pass over the same lanes must read memory: the JIT would otherwise keep the first pass's broadcasts (the
    /// same expressions) live for it, and spill them.
    /// </summary>
    private static void EmitProducts(SourceWriter w, PathPlan plan, string state, (string[] Gates, string Panel)[] groups, int sets, int from, int to, bool fromMemory)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width;
        for (int k = from; k < to; k++)
        {
            string x = $"{groups[0].Gates[0]}X{k}";
            w.Line(fromMemory
                ? $"{f} {x} = {v}.Create({Unsafe}.Add(ref a, {k}));"
                : $"{f} {x} = {v}.Shuffle({state}{Suffix(k / width)}, {v}.Create({k % width}));");
            foreach (var (gates, panel) in groups)
                for (int gate = 0; gate < gates.Length; gate++)
                    w.Line($"{Acc(gates, gate, k % sets)} = {v}.MultiplyAddEstimate({x}, {v}.LoadUnsafe(ref {panel}{KernelEmitter.Offset((k * gates.Length + gate) * width)}), {Acc(gates, gate, k % sets)});");
        }
    }

    private static string Acc(string[] gates, int gate, int set) => set == 0 ? $"{gates[gate]}0" : $"{gates[gate]}S{set}";

    /// <summary>The accumulator sets beyond the first (which starts from the pre-activations), at zero.</summary>
    private static void DeclareSets(SourceWriter w, PathPlan plan, string[] gates, int sets)
    {
        string f = $"RnnGenF{plan.Width * 32}";
        if (sets > 1)
            w.Line($"{f} " + string.Join(", ", Enumerable.Range(1, sets - 1).SelectMany(set => Enumerable.Range(0, gates.Length).Select(gate => $"{Acc(gates, gate, set)} = {f}.Zero"))) + ";");
    }

    /// <summary>The sets summed pairwise into the first, as the step kernel sums them.</summary>
    private static void SumSets(SourceWriter w, string[] gates, int sets)
    {
        for (int step = 1; step < sets; step *= 2)
            for (int set = 0; set + step < sets; set += 2 * step)
                for (int gate = 0; gate < gates.Length; gate++)
                    w.Line($"{Acc(gates, gate, set)} += {Acc(gates, gate, set + step)};");
    }

    /// <summary>The next step reads the h row this step wrote (where it reads h from memory), its own pre-activations (or input row) and output row.</summary>
    private static void EmitAdvance(SourceWriter w, NetworkSpec spec)
    {
        w.Line("a = ref h;");
        w.Line($"h = ref {Unsafe}.Add(ref h, hStepStride);");
        w.Line($"pre = ref {Unsafe}.Add(ref pre, preStepStride);");
        if (FusedInputs(spec) > 0)
            w.Line($"x = ref {Unsafe}.Add(ref x, xStepStride);");
    }

    /// <summary>The block kernel's parameters; <paramref name="state"/> names the last one (an LSTM's c; a GRU's b_hn).</summary>
    private static string KernelParameters(NetworkSpec spec, string state)
    {
        string parameters = Parameters.Replace("ref float c)", $"ref float {state})");
        return FusedInputs(spec) > 0 ? parameters.Substring(0, parameters.Length - 1) + FusedParameters : parameters;
    }

    /// <summary>
    /// Declares pre-activations of this step, each target (name, tile, gate) one vector (<paramref name="gates"/> per tile,
    /// in the packed order): loaded from pre; or, where the kernel fuses the input projection and the call asks for it
    /// (fromInput), computed from the step's input row as <c>Project</c> computes them, bit for bit: from the bias, one
    /// multiply-add per input in increasing order (<c>VectorProducts.Panels</c>), with W_ihᵀ read from the same column
    /// panels (per tile, its gates side by side, one row of them per input). The input row may be the memory of the
    /// step's h (a later layer's input is the output of the one below): only where that layer fuses, its input as wide
    /// as its hidden size and at most four, so one tile, whose update stores h after every read of x.
    /// </summary>
    private static void EmitStepInputs(SourceWriter w, NetworkSpec spec, PathPlan plan, int gates, (string Name, int Tile, int Gate)[] targets)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width, inputs = FusedInputs(spec), panel = plan.GateTiles.TileWidth;
        string Pre((string Name, int Tile, int Gate) target) => $"{v}.LoadUnsafe(ref pre{KernelEmitter.Offset((target.Tile * gates + target.Gate) * width)})";
        if (inputs == 0)
        {
            foreach (var tile in targets.GroupBy(target => target.Tile))
                w.Line($"{f} " + string.Join(", ", tile.Select(target => $"{target.Name} = {Pre(target)}")) + ";");
            return;
        }
        w.Line($"{f} " + string.Join(", ", targets.Select(target => target.Name)) + ";");
        using (w.Block("if (fromInput)"))
        {
            for (int k = 0; k < inputs; k++)
                w.Line($"{f} input{k} = {v}.Create({Unsafe}.Add(ref x, {k}));");
            foreach (var (name, tile, gate) in targets)
                for (int k = 0; k < inputs; k++)
                {
                    string weight = $"{v}.LoadUnsafe(ref wih{KernelEmitter.Offset((tile * inputs + k) * panel + gate * width)})";
                    string start = k == 0 ? $"{v}.LoadUnsafe(ref bias{KernelEmitter.Offset((tile * gates + gate) * width)})" : name;
                    w.Line($"{name} = {v}.MultiplyAddEstimate(input{k}, {weight}, {start});");
                }
        }
        using (w.Block("else"))
        {
            foreach (var target in targets)
                w.Line($"{target.Name} = {Pre(target)};");
        }
    }
}

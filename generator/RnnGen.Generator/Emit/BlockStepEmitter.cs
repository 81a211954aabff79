using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// Emits the block kernel of a gated sequence module (<c>IRnnKernels.TryRunRow</c>): one row's whole recurrence of
/// one layer and direction in one call, for shapes whose state is at most two vectors of units (AVX-512: up to 32
/// hidden units; AVX2: 16; 128-bit: 8). Between steps nothing happens but the store of h: h (and an LSTM's c) stay in
/// registers, each step's products broadcast h's lanes from there by permutes (no store-to-load round trip on the
/// chain from one step to the next), and W_hh is read from the same packed panels as the step (L1-resident).
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

    /// <summary>Whether this path gets a block kernel: LSTM (without projection) and GRU sequence modules of one or two unit tiles.</summary>
    public static bool Applies(NetworkSpec spec, PathPlan plan) =>
        !spec.IsCell && (spec.IsLstm && !spec.Projects || spec.IsGru) && plan.UnitTiles.TileCount <= 2;

    private static string Name(NetworkSpec spec) => spec.IsLstm ? "LstmRowBlock" : "GruRowBlock";

    /// <summary>The <c>TryRunRow</c> member of the kernels struct: the block kernel of the layer and direction asked for.</summary>
    public static void EmitMember(SourceWriter w, NetworkSpec spec, PathPlan plan, PackedLayout layout)
    {
        const string Signature = "public bool TryRunRow(int layer, int direction, ref float pre, nint preStepStride, int seqLen, ref float hPrev, ref float h, nint hStepStride, ref float c)";
        w.Line();
        if (!Applies(spec, plan))
        {
            // Declared even so: the interface's default body, called on a struct, would box it (an allocation per call).
            w.Line($"{Signature} => false;");
            return;
        }
        using (w.Block(Signature))
        {
            w.Line("ref float packed = ref _packed.Start;");
            using (w.Block("switch (layer * NumDirections + direction)"))
            {
                foreach (PackedBlock b in layout.Blocks)
                {
                    string weights = $"ref {Unsafe}.Add(ref packed, PackedWeightHh{b.Suffix})";
                    // A GRU has no cell state: its b_hn goes in that argument's place.
                    string cell = spec.IsGru ? $"ref {Unsafe}.Add(ref packed, PackedHiddenBiasN{b.Suffix})" : "ref c";
                    w.Line($"case {b.Layer * spec.NumDirections + b.Direction}: {Name(spec)}({weights}, ref pre, preStepStride, seqLen, ref hPrev, ref h, hStepStride, {cell}); return true;");
                }
                w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(layer));");
            }
        }
    }

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

    /// <summary>Stores tile <paramref name="tile"/>'s units of h, exactly the real lanes of the last tile.</summary>
    private static void EmitStoreH(SourceWriter w, PathPlan plan, string vector, int tile, int tiles)
    {
        string v = $"RnnGenV{plan.Width * 32}";
        int tail = plan.UnitTiles.TailLanes;
        if (tile == tiles - 1 && tail > 0)
            KernelEmitter.EmitPartialStore(w, vector, plan.Width, "h", tile * plan.Width, tail);
        else
            w.Line($"{v}.StoreUnsafe({vector}, ref h, {tile * plan.Width});");
    }

    private static void EmitLstm(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width, tiles = plan.UnitTiles.TileCount;
        bool pair = tiles == 2 && width == 16; // the AVX-512 two-tile step deals both tiles' products in one pass
        string[] gate = { "i", "f", "g", "o" };
        w.Summary($"One row's LSTM recurrence over seqLen steps, {tiles} tile(s) of {width} units; c stays in registers across steps. " +
            "Each step computes what the single-row step kernel computes, bit for bit. b: W_hh^T's panels; c: the running cell state (read, then written back).");
        w.Line(KernelEmitter.AggressiveOptimization);
        using (w.Block($"private static void {Name(spec)}{Parameters}"))
        {
            w.Line($"{f} " + string.Join(", ", Enumerable.Range(0, tiles).Select(t => $"c{Suffix(t)}0 = {v}.LoadUnsafe(ref c, {t * width})")) + ";");
            EmitLoadState(w, plan, "state", tiles);
            using (w.Block("for (int s = 0; s < seqLen; s++)"))
            {
                for (int t = 0; t < tiles; t++)
                    w.Line($"{f} " + string.Join(", ", Enumerable.Range(0, 4).Select(g =>
                        $"{gate[g]}{Suffix(t)}0 = {v}.LoadUnsafe(ref pre, {(t * 4 + g) * width})")) + ";");
                if (tiles > 1)
                    w.Line($"ref float b1 = ref {Unsafe}.Add(ref b, TileUnits * Gates * HiddenSize);");
                if (pair)
                {
                    EmitRegisterProducts(w, plan, "state", tiles, new[] { "i", "f", "g", "o", "iT", "fT", "gT", "oT" }, spec.StateSize,
                        new[] { "b", "b", "b", "b", "b1", "b1", "b1", "b1" }, maxSets: 2);
                }
                else
                {
                    for (int t = 0; t < tiles; t++)
                    {
                        w.Line($"// Tile {t}'s products.");
                        EmitRegisterProducts(w, plan, "state", tiles, gate.Select(g => g + Suffix(t)).ToArray(), spec.StateSize,
                            gate.Select(_ => t == 0 ? "b" : "b1").ToArray());
                    }
                }
                w.Line("// The cell updates, the tiles interleaved.");
                foreach (int g in new[] { 0, 1, 3 })
                    for (int t = 0; t < tiles; t++)
                        w.Line($"{gate[g]}{Suffix(t)}0 = {Sigmoid}.Invoke({gate[g]}{Suffix(t)}0);");
                for (int t = 0; t < tiles; t++)
                    w.Line($"g{Suffix(t)}0 = {Tanh}.Invoke(g{Suffix(t)}0);");
                for (int t = 0; t < tiles; t++)
                    w.Line($"c{Suffix(t)}0 = {v}.MultiplyAddEstimate(f{Suffix(t)}0, c{Suffix(t)}0, i{Suffix(t)}0 * g{Suffix(t)}0);");
                for (int t = 0; t < tiles; t++)
                    w.Line($"{f} h{Suffix(t)}0 = o{Suffix(t)}0 * {Tanh}.Invoke(c{Suffix(t)}0);");
                for (int t = 0; t < tiles; t++)
                    EmitStoreH(w, plan, $"h{Suffix(t)}0", t, tiles);
                w.Line(string.Join(" ", Enumerable.Range(0, tiles).Select(t => $"state{Suffix(t)} = h{Suffix(t)}0;")));
                EmitAdvance(w);
            }
            for (int t = 0; t < tiles; t++)
                w.Line($"{v}.StoreUnsafe(c{Suffix(t)}0, ref c, {t * width});");
        }
    }

    private static void EmitGru(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int width = plan.Width, bits = width * 32, tiles = plan.UnitTiles.TileCount, tail = plan.UnitTiles.TailLanes;
        w.Summary($"One row's GRU recurrence over seqLen steps, {tiles} tile(s) of {width} units; the previous state's units stay in registers " +
            "across steps. Each step computes what the single-row step kernel computes, bit for bit. b: W_hh^T's panels; bhn: b_hn.");
        w.Line(KernelEmitter.AggressiveOptimization);
        using (w.Block($"private static void {Name(spec)}{Parameters.Replace("ref float c)", "ref float bhn)")}"))
        {
            for (int t = 0; t < tiles; t++)
                w.Line($"{f} hiddenBias{Suffix(t)} = {v}.LoadUnsafe(ref bhn, {t * width});");
            EmitLoadState(w, plan, "state", tiles);
            if (tiles > 1)
                w.Line($"ref float b1 = ref {Unsafe}.Add(ref b, TileUnits * Gates * HiddenSize);");
            using (w.Block("for (int s = 0; s < seqLen; s++)"))
            {
                for (int t = 0; t < tiles; t++)
                {
                    string T = Suffix(t);
                    w.Line($"// Tile {t}'s products.");
                    w.Line($"{f} r{T}0 = {v}.LoadUnsafe(ref pre, {t * 3 * width}), z{T}0 = {v}.LoadUnsafe(ref pre, {(t * 3 + 1) * width}), n{T}0 = hiddenBias{T};");
                    string panel = t == 0 ? "b" : "b1";
                    EmitRegisterProducts(w, plan, "state", tiles, new[] { $"r{T}", $"z{T}", $"n{T}" }, spec.HiddenSize, new[] { panel, panel, panel });
                }
                w.Line("// The updates, the tiles interleaved.");
                for (int t = 0; t < tiles; t++)
                    w.Line($"{f} hn{Suffix(t)}0 = n{Suffix(t)}0;");
                foreach (string g in new[] { "r", "z" })
                    for (int t = 0; t < tiles; t++)
                        w.Line($"{g}{Suffix(t)}0 = {Sigmoid}.Invoke({g}{Suffix(t)}0);");
                for (int t = 0; t < tiles; t++)
                    w.Line($"n{Suffix(t)}0 = {Tanh}.Invoke({v}.MultiplyAddEstimate(r{Suffix(t)}0, hn{Suffix(t)}0, {v}.LoadUnsafe(ref pre, {(t * 3 + 2) * width})));");
                for (int t = 0; t < tiles; t++)
                {
                    string T = Suffix(t);
                    w.Line($"state{T} = {v}.MultiplyAddEstimate(z{T}0, state{T}, ({f}.One - z{T}0) * n{T}0);");
                }
                for (int t = 0; t < tiles; t++)
                    EmitStoreH(w, plan, $"state{Suffix(t)}", t, tiles);
                EmitAdvance(w);
            }
        }
    }

    /// <summary>
    /// The initial state h into registers, one vector per tile (<paramref name="name"/>, <paramref name="name"/>T): the
    /// caller's row, whose tail is loaded exactly, never past the row's end. Later steps keep the h they computed there;
    /// its padded lanes hold whatever the padding computes, which no product reads (they broadcast real lanes only).
    /// </summary>
    private static void EmitLoadState(SourceWriter w, PathPlan plan, string name, int tiles)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int tail = plan.UnitTiles.TailLanes, bits = plan.Width * 32;
        for (int t = 0; t < tiles; t++)
            w.Line(t == tiles - 1 && tail > 0
                ? $"{f} {name}{Suffix(t)} = global::RnnGen.__Internals.PartialVector.Load{bits}(ref {Unsafe}.Add(ref hPrev, {t * plan.Width}), {tail});"
                : $"{f} {name}{Suffix(t)} = {v}.LoadUnsafe(ref hPrev, {t * plan.Width});");
    }

    /// <summary>
    /// The products of one step, acc[g] += Σ_k h[k] · B[k][g], with h in registers: input k is lane k mod width of the
    /// state vector of tile k / width, broadcast by a lane permute (no store-to-load round trip between steps). The
    /// inputs are dealt to accumulator sets exactly as <see cref="UnitStepEmitter.EmitSingleRowProducts"/> deals them
    /// (input k to set k mod sets, each set in increasing k, then summed pairwise), so the sums are the step kernel's
    /// bit for bit; fully unrolled (at most 32 inputs), the weights read at constant offsets.
    /// </summary>
    private static void EmitRegisterProducts(SourceWriter w, PathPlan plan, string state, int tiles, string[] gates, int inputs, string[] panels, int maxSets = 4)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        string[] distinct = panels.Distinct().ToArray();
        int width = plan.Width, g = gates.Length, share = g / distinct.Length;
        int sets = System.Math.Max(1, System.Math.Min(System.Math.Min(plan.Width == 16 ? 4 : 2, maxSets), inputs));
        int Within(int gate) => gate - System.Array.IndexOf(panels, panels[gate]);
        string Acc(int gate, int set) => set == 0 ? $"{gates[gate]}0" : $"{gates[gate]}S{set}";
        if (sets > 1)
            w.Line($"{f} " + string.Join(", ", Enumerable.Range(1, sets - 1).SelectMany(set => Enumerable.Range(0, g).Select(gate => $"{Acc(gate, set)} = {f}.Zero"))) + ";");
        for (int k = 0; k < inputs; k++)
        {
            int set = k % sets;
            string x = $"{gates[0]}X{k}";
            w.Line($"{f} {x} = {v}.Shuffle({state}{Suffix(k / width)}, {v}.Create({k % width}));");
            for (int gate = 0; gate < g; gate++)
                w.Line($"{Acc(gate, set)} = {v}.MultiplyAddEstimate({x}, {v}.LoadUnsafe(ref {panels[gate]}, {(k * share + Within(gate)) * width}), {Acc(gate, set)});");
        }
        for (int step = 1; step < sets; step *= 2)
            for (int set = 0; set + step < sets; set += 2 * step)
                for (int gate = 0; gate < g; gate++)
                    w.Line($"{Acc(gate, set)} += {Acc(gate, set + step)};");
    }

    /// <summary>The next step reads its own pre-activations and output row.</summary>
    private static void EmitAdvance(SourceWriter w)
    {
        w.Line($"h = ref {Unsafe}.Add(ref h, hStepStride);");
        w.Line($"pre = ref {Unsafe}.Add(ref pre, preStepStride);");
    }
}

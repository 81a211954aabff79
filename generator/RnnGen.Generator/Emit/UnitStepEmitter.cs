using System;
using System.Collections.Generic;
using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// The part of a gated cell's fused step that does not depend on the cell: the dispatcher that walks the tiles
/// of hidden units (one vector of units each, all gates of a tile in registers) and, within a tile, the rows in
/// register blocks, calling one kernel per (rows, tail) kind that the cell's emitter writes.
/// </summary>
internal static class UnitStepEmitter
{
    /// <param name="name">The dispatcher's name, and the prefix of its kernels' names.</param>
    /// <param name="signature">The dispatcher's parameter list.</param>
    /// <param name="arguments">The kernel call's arguments for the row block starting at r, in the tile starting at unit.</param>
    /// <param name="emitKernel">Writes the kernel for (rows, tail, name).</param>
    /// <param name="emitPair">Given only where the path has exactly two tiles of units (see LstmStepEmitter.HasPairKernel), writes a one-row kernel over
    /// both tiles (tail: the real units of the second), which single rows use: one row's two tiles are independent
    /// dependency chains, and one kernel interleaves them where two calls would run them one after the other.</param>
    /// <param name="tilesBackward">Whether the dispatcher takes <c>tilesBackward</c> (<see cref="WalksTilesBackward"/>).</param>
    /// <param name="rowTiles">Whether to write the one-row tile-range dispatcher (<see cref="SplitsRows"/>).</param>
    public static void Emit(SourceWriter w, PathPlan plan, string name, string summary, string signature, string arguments,
        Action<int, int, string> emitKernel, bool tilesBackward, bool rowTiles, Action<int, string>? emitPair = null)
    {
        TilePlan tiles = plan.UnitTiles;
        int mainTiles = tiles.MainTiles(exact: true);
        bool hasLast = tiles.HasLastTile(exact: true);
        bool pair = emitPair is not null;
        string pairName = $"{name}R1Pair" + (tiles.TailLanes > 0 ? $"Tail{tiles.TailLanes}" : "");
        if ((tilesBackward || rowTiles) && !signature.EndsWith(")", StringComparison.Ordinal))
            throw new ArgumentException("a parameter list in parentheses", nameof(signature));

        w.Summary(summary + (tilesBackward ? " With tilesBackward, one row takes its tiles last to first (IRnnKernels.Step): the same kernels, the same bits." : ""));
        using (w.Block($"private static void {name}Tiles{(tilesBackward ? signature.Substring(0, signature.Length - 1) + ", bool tilesBackward)" : signature)}"))
        {
            w.Line($"bool keep = !{KernelEmitter.Unsafe}.IsNullRef(ref gates);");
            if (tilesBackward)
                EmitOneRowBackward(w, tiles, name, arguments);
            if (mainTiles > 1)
            {
                w.Line($"// {mainTiles} tiles of {plan.Width} units.");
                using (w.Block($"for (int tile = 0; tile < {mainTiles}; tile++)"))
                {
                    w.Line("int unit = tile * TileUnits;");
                    EmitRows(w, plan, name, arguments, tail: 0, singleRows: !pair);
                }
            }
            else if (mainTiles == 1)
            {
                // One tile: straight-line code, in its own scope only when another tile follows.
                w.Line($"// One tile of {plan.Width} units.");
                using (hasLast || pair ? w.Block("") : null)
                {
                    w.Line("const int unit = 0;");
                    EmitRows(w, plan, name, arguments, tail: 0, singleRows: !pair);
                }
            }
            if (hasLast)
            {
                w.Line($"// The last tile: {tiles.TailLanes} unit(s) of its {plan.Width} lanes are real.");
                using (w.Block(""))
                {
                    w.Line($"const int unit = {KernelEmitter.Times(mainTiles, "TileUnits")};");
                    EmitRows(w, plan, name, arguments, tiles.TailLanes, singleRows: !pair);
                }
            }
            if (pair)
            {
                w.Line("// Single rows: both tiles in one kernel.");
                using (w.Block(""))
                {
                    w.Line("const int unit = 0;");
                    w.Line($"for (int r = rows / {plan.RowBlock} * {plan.RowBlock}; r < rows; r++)");
                    w.Line($"    {pairName}({arguments});");
                }
            }
        }
        if (rowTiles)
        {
            w.Line();
            EmitRowTiles(w, tiles, name, signature, arguments);
        }
        if (pair)
        {
            w.Line();
            emitPair!(tiles.TailLanes, pairName);
        }

        var tails = new List<int>();
        if (mainTiles > 0)
            tails.Add(0);
        if (hasLast)
            tails.Add(tiles.TailLanes);
        foreach (int tail in tails)
        {
            foreach (int rows in KernelEmitter.RowKinds(plan).Where(rows => !(pair && rows == 1)))
            {
                w.Line();
                emitKernel(rows, tail, KernelName(name, rows, tail));
            }
        }
    }

    /// <summary>
    /// Whether a batch of one splits over threads by tiles of units (<c>IRnnKernels.RowParts</c>, <c>StepRowTiles</c>): a
    /// gated step that walks one row tile by tile (<see cref="WalksTilesBackward"/>) in a layer with weights for two parts
    /// or more (<see cref="PathPlan.RowParts"/>).
    /// </summary>
    public static bool SplitsRows(NetworkSpec spec, PathPlan plan) =>
        (spec.IsLstm || spec.IsGru) && WalksTilesBackward(spec, plan) && System.Math.Max(plan.RowParts(spec.InputSize), plan.RowParts(spec.HiddenSize)) >= 2;

    /// <summary>
    /// Whether the gated step's dispatcher takes <c>tilesBackward</c> (<c>IRnnKernels.Step</c>): where one row walks two
    /// or more tiles one kernel call each (not the AVX-512 LSTM's two tiles, which are one pair kernel), in a module
    /// whose batch of one takes the driver's one-row path (one direction, no projection), the only caller that passes it.
    /// </summary>
    public static bool WalksTilesBackward(NetworkSpec spec, PathPlan plan) =>
        plan.UnitTiles.TileCount > 1 && !(spec.IsLstm && LstmStepEmitter.HasPairKernel(plan)) && spec.NumDirections == 1 && !spec.Projects;

    /// <summary>
    /// The products of a one-row step, acc[g] += Σ_k a[k] · B[k][g] over <paramref name="inputs"/> inputs: one row has
    /// only one dependency chain per gate, too few to hide the multiply-add latency, so the inputs are dealt to
    /// several accumulator sets (input k to set k mod sets; four on 32-register AVX-512, two on 16-register paths),
    /// summed pairwise before the update. The accumulators <c>{gate}0</c> hold the starting values; B advances
    /// gates · width floats per input.
    /// </summary>
    /// <param name="panels">Per gate, the weight panel it reads (default: all <c>b</c>); each panel holds an equal
    /// share of the gates and advances by that share · width floats per input.</param>
    /// <param name="maxSets">At most this many accumulator sets (the register budget of the caller's accumulators).</param>
    /// <param name="lanes">Lanes per vector: the path's width, or half of it for a narrow last tile (<see cref="PathPlan.NarrowLastTile"/>).</param>
    public static void EmitSingleRowProducts(SourceWriter w, PathPlan plan, string a, string[] gates, int inputs, string[]? panels = null, int maxSets = 4, int lanes = 0)
    {
        int width = lanes > 0 ? lanes : plan.Width;
        string v = $"RnnGenV{width * 32}", f = $"RnnGenF{width * 32}";
        panels ??= gates.Select(_ => "b").ToArray();
        string[] distinct = panels.Distinct().ToArray();
        int g = gates.Length, share = g / distinct.Length;
        int sets = System.Math.Max(1, System.Math.Min(System.Math.Min(plan.Width == 16 ? 4 : 2, maxSets), inputs));
        int Within(int gate) => gate - System.Array.IndexOf(panels, panels[gate]);
        string Acc(int gate, int set) => set == 0 ? $"{gates[gate]}0" : $"{gates[gate]}S{set}";
        if (sets > 1)
            w.Line($"{f} " + string.Join(", ", Enumerable.Range(1, sets - 1).SelectMany(set => Enumerable.Range(0, g).Select(gate => $"{Acc(gate, set)} = {f}.Zero"))) + ";");
        void Inputs(int count, bool advance)
        {
            for (int set = 0; set < count; set++)
            {
                string x = $"xs{set}";
                w.Line($"{f} {x} = {v}.Create({(set == 0 ? a : $"{KernelEmitter.Unsafe}.Add(ref {a}, {set})")});");
                for (int gate = 0; gate < g; gate++)
                    w.Line($"{Acc(gate, set)} = {v}.MultiplyAddEstimate({x}, {v}.LoadUnsafe(ref {panels[gate]}{KernelEmitter.Offset((set * share + Within(gate)) * width)}), {Acc(gate, set)});");
            }
            if (advance)
            {
                w.Line($"{a} = ref {KernelEmitter.Unsafe}.Add(ref {a}, {count});");
                foreach (string panel in distinct)
                    w.Line($"{panel} = ref {KernelEmitter.Unsafe}.Add(ref {panel}, {count * share * width});");
            }
        }
        if (inputs / sets > 1)
        {
            using (w.Block($"for (int k = 0; k < {inputs / sets}; k++)"))
                Inputs(sets, advance: true);
        }
        else if (inputs / sets == 1)
        {
            // One pass: straight-line code, advancing only for the inputs that follow (in their own scope).
            using (inputs % sets > 0 ? w.Block("") : null)
                Inputs(sets, advance: inputs % sets > 0);
        }
        if (inputs % sets > 0)
        {
            w.Line($"// The last {inputs % sets} input(s).");
            using (w.Block(""))
                Inputs(inputs % sets, advance: false);
        }
        for (int step = 1; step < sets; step *= 2)
            for (int set = 0; set + step < sets; set += 2 * step)
                for (int gate = 0; gate < g; gate++)
                    w.Line($"{Acc(gate, set)} += {Acc(gate, set + step)};");
    }

    /// <summary>
    /// The dispatcher's branch for one row with <c>tilesBackward</c>: the single-row kernels over the tiles, last to first
    /// (the partial last tile first), straight-line code for one whole tile.
    /// </summary>
    private static void EmitOneRowBackward(SourceWriter w, TilePlan tiles, string name, string arguments)
    {
        int mainTiles = tiles.MainTiles(exact: true);
        using (w.Block("if (tilesBackward && rows == 1)"))
        {
            w.Line("const int r = 0;");
            if (tiles.HasLastTile(exact: true))
            {
                using (w.Block(""))
                {
                    w.Line($"const int unit = {KernelEmitter.Times(mainTiles, "TileUnits")};");
                    w.Line($"{KernelName(name, 1, tiles.TailLanes)}({arguments});");
                }
            }
            using (w.Block(mainTiles == 1 ? "" : $"for (int tile = {mainTiles - 1}; tile >= 0; tile--)"))
            {
                w.Line(mainTiles == 1 ? "const int unit = 0;" : "int unit = tile * TileUnits;");
                w.Line($"{KernelName(name, 1, 0)}({arguments});");
            }
            w.Line("return;");
        }
    }

    /// <summary>
    /// One row over tiles [firstTile, endTile) only (<c>IRnnKernels.StepRowTiles</c>: threads share a large row by tiles):
    /// the single-row kernels the dispatcher calls for those tiles, first to last. No gates are kept.
    /// </summary>
    private static void EmitRowTiles(SourceWriter w, TilePlan tiles, string name, string signature, string arguments)
    {
        int mainTiles = tiles.MainTiles(exact: true);
        w.Summary("One row over tiles [firstTile, endTile) of the units (IRnnKernels.StepRowTiles); rows is 1.");
        using (w.Block($"private static void {name}RowTiles{signature.Substring(0, signature.Length - 1)}, int firstTile, int endTile)"))
        {
            w.Line("const int r = 0;");
            w.Line("const bool keep = false;");
            using (w.Block($"for (int tile = firstTile; tile < global::System.Math.Min(endTile, {mainTiles}); tile++)"))
            {
                w.Line("int unit = tile * TileUnits;");
                w.Line($"{KernelName(name, 1, 0)}({arguments});");
            }
            if (tiles.HasLastTile(exact: true))
            {
                using (w.Block($"if (endTile > {mainTiles})"))
                {
                    w.Line($"const int unit = {KernelEmitter.Times(mainTiles, "TileUnits")};");
                    w.Line($"{KernelName(name, 1, tiles.TailLanes)}({arguments});");
                }
            }
        }
    }

    private static string KernelName(string name, int rows, int tail) => $"{name}R{rows}" + (tail > 0 ? $"Tail{tail}" : "");

    private static void EmitRows(SourceWriter w, PathPlan plan, string name, string arguments, int tail, bool singleRows)
    {
        w.Line("int r = 0;");
        if (plan.RowBlock > 1)
        {
            w.Line($"for (; r + {plan.RowBlock} <= rows; r += {plan.RowBlock})");
            w.Line($"    {KernelName(name, plan.RowBlock, tail)}({arguments});");
        }
        if (!singleRows)
            return;
        w.Line("for (; r < rows; r++)");
        w.Line($"    {KernelName(name, 1, tail)}({arguments});");
    }
}

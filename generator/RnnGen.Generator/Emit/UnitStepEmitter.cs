using System;
using System.Collections.Generic;
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
    public static void Emit(SourceWriter w, PathPlan plan, string name, string summary, string signature, string arguments,
        Action<int, int, string> emitKernel)
    {
        TilePlan tiles = plan.UnitTiles;
        int mainTiles = tiles.MainTiles(exact: true);
        bool hasLast = tiles.HasLastTile(exact: true);

        w.Summary(summary);
        using (w.Block($"private static void {name}Tiles{signature}"))
        {
            w.Line($"bool keep = !{KernelEmitter.Unsafe}.IsNullRef(ref gates);");
            if (mainTiles > 0)
            {
                w.Line($"// {mainTiles} tile(s) of {plan.Width} units.");
                using (w.Block($"for (int tile = 0; tile < {mainTiles}; tile++)"))
                {
                    w.Line("int unit = tile * TileUnits;");
                    EmitRows(w, plan, name, arguments, tail: 0);
                }
            }
            if (hasLast)
            {
                w.Line($"// The last tile: {tiles.TailLanes} unit(s) of its {plan.Width} lanes are real.");
                using (w.Block(""))
                {
                    w.Line($"const int unit = {mainTiles} * TileUnits;");
                    EmitRows(w, plan, name, arguments, tiles.TailLanes);
                }
            }
        }

        var tails = new List<int>();
        if (mainTiles > 0)
            tails.Add(0);
        if (hasLast)
            tails.Add(tiles.TailLanes);
        foreach (int tail in tails)
        {
            foreach (int rows in KernelEmitter.RowKinds(plan))
            {
                w.Line();
                emitKernel(rows, tail, KernelName(name, rows, tail));
            }
        }
    }

    private static string KernelName(string name, int rows, int tail) => $"{name}R{rows}" + (tail > 0 ? $"Tail{tail}" : "");

    private static void EmitRows(SourceWriter w, PathPlan plan, string name, string arguments, int tail)
    {
        w.Line("int r = 0;");
        if (plan.RowBlock > 1)
        {
            w.Line($"for (; r + {plan.RowBlock} <= rows; r += {plan.RowBlock})");
            w.Line($"    {KernelName(name, plan.RowBlock, tail)}({arguments});");
        }
        w.Line("for (; r < rows; r++)");
        w.Line($"    {KernelName(name, 1, tail)}({arguments});");
    }
}

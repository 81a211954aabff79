using System.Collections.Generic;
using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// Emits one SIMD path of a module as a nested static class: its packed-weight layout and packing, the
/// <c>IRnnKernels</c> struct the runtime's driver calls, and the register-tiled kernels with constant trip
/// counts and exact tails. Integers interpolated here format identically in every culture (no negatives).
/// </summary>
internal static class KernelEmitter
{
    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
    private const string AggressiveOptimization = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    public static void EmitPath(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        PackedLayout layout = PackedLayout.For(spec, plan);
        string v = $"global::System.Runtime.Intrinsics.{plan.Vector}";
        string activation = spec.Activation == ActivationKind.Tanh ? "global::RnnGen.Kernels.TanhActivation" : "global::RnnGen.Kernels.ReluActivation";

        w.Summary($"The {plan.Name} path: {plan.Width} floats per {plan.Vector}, column tiles of {plan.TileVectors} vectors, blocks of {plan.RowBlock} rows.");
        using (w.Block($"private static class {plan.Name}Path"))
        {
            w.Line($"private const int Width = {plan.Width};");
            w.Line($"/// <summary>HiddenSize rounded up to whole vectors.</summary>");
            w.Line($"public const int PaddedHidden = {plan.PaddedHidden};");
            w.Line($"/// <summary>Floats per column tile: {plan.TileVectors} vectors.</summary>");
            w.Line($"private const int TileWidth = {plan.TileWidth};");
            w.Line($"/// <summary>Rows per register block.</summary>");
            w.Line($"private const int RowBlock = {plan.RowBlock};");
            w.Line();
            w.Line("// Packed weights, per layer and direction: W_ih^T panels (inputs x PaddedHidden), W_hh^T panels (HiddenSize x PaddedHidden), bias_ih + bias_hh.");
            foreach (PackedBlock b in layout.Blocks)
            {
                w.Line($"private const int PackedWeightIh{b.Suffix} = {b.WeightIh};");
                w.Line($"private const int PackedWeightHh{b.Suffix} = {b.WeightHh};");
                w.Line($"private const int PackedBias{b.Suffix} = {b.Bias};");
            }
            w.Line($"public const int PackedLength = {layout.Length};");
            w.Line();
            EmitPack(w, spec, layout);
            w.Line();
            EmitKernelsStruct(w, spec, layout);

            foreach (int k in layout.Blocks.Select(b => b.InputColumns).Distinct())
            {
                w.Line();
                EmitDispatcher(w, plan, isStep: false, k);
                var vectorCounts = new List<int> { plan.TileVectors };
                if (plan.ProjectHasLastTile)
                    vectorCounts.Add(plan.LastTileVectors);
                foreach (int vectors in vectorCounts)
                {
                    for (int rows = plan.RowBlock; rows >= 1; rows--)
                    {
                        w.Line();
                        EmitProjectKernel(w, plan, v, k, vectors, rows);
                    }
                }
            }

            w.Line();
            EmitDispatcher(w, plan, isStep: true, spec.HiddenSize);
            var stepKernels = new List<(int Vectors, int Tail)>();
            if (plan.StepMainTiles > 0)
                stepKernels.Add((plan.TileVectors, 0));
            if (plan.StepHasLastTile)
                stepKernels.Add((plan.LastTileVectors, plan.TailLanes));
            foreach ((int vectors, int tail) in stepKernels)
            {
                for (int rows = plan.RowBlock; rows >= 1; rows--)
                {
                    w.Line();
                    EmitStepKernel(w, plan, v, activation, spec.HiddenSize, vectors, tail, rows);
                }
            }
        }
    }

    private static void EmitPack(SourceWriter w, NetworkSpec spec, PackedLayout layout)
    {
        w.Summary("Packs PyTorch-layout parameters into this path's layout.");
        using (w.Block("public static void Pack(global::RnnGen.ParameterSet parameters, global::System.Span<float> packed)"))
        {
            foreach (PackedBlock b in layout.Blocks)
            {
                w.Line($"global::RnnGen.Kernels.Packing.PackPanels(parameters.GetReadOnly(\"weight_ih{b.TorchSuffix}\"), HiddenSize, {b.InputColumns}, PaddedHidden, TileWidth, packed.Slice(PackedWeightIh{b.Suffix}, {b.InputColumns} * PaddedHidden));");
                w.Line($"global::RnnGen.Kernels.Packing.PackPanels(parameters.GetReadOnly(\"weight_hh{b.TorchSuffix}\"), HiddenSize, HiddenSize, PaddedHidden, TileWidth, packed.Slice(PackedWeightHh{b.Suffix}, HiddenSize * PaddedHidden));");
                if (spec.Bias)
                    w.Line($"global::RnnGen.Kernels.Packing.PackBias(parameters.GetReadOnly(\"bias_ih{b.TorchSuffix}\"), parameters.GetReadOnly(\"bias_hh{b.TorchSuffix}\"), packed.Slice(PackedBias{b.Suffix}, PaddedHidden));");
                else
                    w.Line($"packed.Slice(PackedBias{b.Suffix}, PaddedHidden).Clear();");
            }
        }
    }

    private static void EmitKernelsStruct(SourceWriter w, NetworkSpec spec, PackedLayout layout)
    {
        w.Summary("This path's kernels over packed weights, for the runtime's driver.");
        using (w.Block("public readonly struct Kernels : global::RnnGen.Kernels.IRnnKernels"))
        {
            w.Line("private readonly global::RnnGen.Kernels.AlignedBuffer _packed;");
            w.Line();
            w.Line("public Kernels(global::RnnGen.Kernels.AlignedBuffer packed) => _packed = packed;");
            w.Line();
            w.Line("public int PreStride => PaddedHidden;");
            w.Line();
            using (w.Block("public void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre)"))
            {
                w.Line("ref float packed = ref _packed.Start;");
                using (w.Block("switch (layer * NumDirections + direction)"))
                {
                    foreach (PackedBlock b in layout.Blocks)
                        w.Line($"case {b.Layer * spec.NumDirections + b.Direction}: ProjectK{b.InputColumns}(ref x, xStride, rows, ref {Unsafe}.Add(ref packed, PackedWeightIh{b.Suffix}), ref {Unsafe}.Add(ref packed, PackedBias{b.Suffix}), ref pre); return;");
                    w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(layer));");
                }
            }
            w.Line();
            using (w.Block("public void Step(int layer, int direction, ref float hPrev, nint hPrevStride, ref float pre, int rows, ref float h, nint hStride)"))
            {
                w.Line("ref float packed = ref _packed.Start;");
                using (w.Block("switch (layer * NumDirections + direction)"))
                {
                    foreach (PackedBlock b in layout.Blocks)
                        w.Line($"case {b.Layer * spec.NumDirections + b.Direction}: StepTiles(ref hPrev, hPrevStride, ref {Unsafe}.Add(ref packed, PackedWeightHh{b.Suffix}), ref pre, rows, ref h, hStride); return;");
                    w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(layer));");
                }
            }
        }
    }

    /// <summary>Walks the column tiles and, within each, the rows in register blocks with an exact remainder.</summary>
    private static void EmitDispatcher(SourceWriter w, PathPlan plan, bool isStep, int k)
    {
        string signature = isStep
            ? "private static void StepTiles(ref float x, nint xStride, ref float w, ref float pre, int rows, ref float h, nint hStride)"
            : $"private static void ProjectK{k}(ref float x, nint xStride, int rows, ref float w, ref float bias, ref float pre)";
        w.Summary(isStep
            ? "h = act(pre + hPrev · W_hh^T) for every row, tile by tile."
            : $"pre = x · W_ih^T + bias for every row ({k} inputs), tile by tile.");
        using (w.Block(signature))
        {
            int mainTiles = isStep ? plan.StepMainTiles : plan.ProjectMainTiles;
            bool hasLast = isStep ? plan.StepHasLastTile : plan.ProjectHasLastTile;
            if (mainTiles > 0)
            {
                w.Line($"// {mainTiles} tile(s) of {plan.TileVectors} vectors.");
                using (w.Block($"for (int tile = 0; tile < {mainTiles}; tile++)"))
                {
                    w.Line("int col = tile * TileWidth;");
                    w.Line($"ref float wt = ref {Unsafe}.Add(ref w, col * {k});");
                    EmitRowBlocks(w, plan, isStep, k, plan.TileVectors, isStep ? 0 : -1);
                }
            }
            if (hasLast)
            {
                int tail = isStep ? plan.TailLanes : -1;
                w.Line(tail > 0
                    ? $"// The last tile: {plan.LastTileVectors} vector(s), the last holding {tail} hidden unit(s)."
                    : $"// The last tile: {plan.LastTileVectors} vector(s).");
                using (w.Block(""))
                {
                    w.Line($"const int col = {mainTiles} * TileWidth;");
                    w.Line($"ref float wt = ref {Unsafe}.Add(ref w, col * {k});");
                    EmitRowBlocks(w, plan, isStep, k, plan.LastTileVectors, isStep ? plan.TailLanes : -1);
                }
            }
        }
    }

    private static void EmitRowBlocks(SourceWriter w, PathPlan plan, bool isStep, int k, int vectors, int tail)
    {
        string Call(int rows) => isStep
            ? $"{StepName(vectors, tail, rows)}(ref {Unsafe}.Add(ref x, r * xStride), xStride, ref wt, ref {Unsafe}.Add(ref pre, r * PaddedHidden + col), ref {Unsafe}.Add(ref h, r * hStride + col), hStride);"
            : $"{ProjectName(k, vectors, rows)}(ref {Unsafe}.Add(ref x, r * xStride), xStride, ref wt, ref {Unsafe}.Add(ref bias, col), ref {Unsafe}.Add(ref pre, r * PaddedHidden + col));";
        w.Line("int r = 0;");
        w.Line("for (; r + RowBlock <= rows; r += RowBlock)");
        w.Line("    " + Call(plan.RowBlock));
        if (plan.RowBlock > 1)
        {
            using (w.Block("switch (rows - r)"))
            {
                for (int rows = plan.RowBlock - 1; rows >= 1; rows--)
                    w.Line($"case {rows}: {Call(rows)} break;");
            }
        }
    }

    private static string ProjectName(int k, int vectors, int rows) => $"ProjectK{k}V{vectors}R{rows}";

    private static string StepName(int vectors, int tail, int rows) => tail > 0 ? $"StepV{vectors}R{rows}Tail{tail}" : $"StepV{vectors}R{rows}";

    private static void EmitProjectKernel(SourceWriter w, PathPlan plan, string v, int k, int vectors, int rows)
    {
        w.Summary($"{rows} row(s) x {vectors} vector(s) of pre = x · W_ih^T + bias, over {k} inputs.");
        w.Line(AggressiveOptimization);
        using (w.Block($"private static void {ProjectName(k, vectors, rows)}(ref float x, nint xStride, ref float w, ref float bias, ref float pre)"))
        {
            for (int j = 0; j < vectors; j++)
                w.Line($"{v}<float> bias{j} = {v}.LoadUnsafe(ref bias, {j * plan.Width});");
            for (int i = 0; i < rows; i++)
                w.Line($"{v}<float> {string.Join(", ", Enumerable.Range(0, vectors).Select(j => $"acc{i}{j} = bias{j}"))};");
            EmitRowRefs(w, "x", "xStride", rows);
            EmitProducts(w, plan, v, k, vectors, rows);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < vectors; j++)
                    w.Line($"{v}.StoreUnsafe(acc{i}{j}, ref pre, {i * plan.PaddedHidden + j * plan.Width});");
        }
    }

    private static void EmitStepKernel(SourceWriter w, PathPlan plan, string v, string activation, int k, int vectors, int tail, int rows)
    {
        w.Summary($"{rows} row(s) x {vectors} vector(s) of h = act(pre + hPrev · W_hh^T)" + (tail > 0 ? $"; the last vector holds {tail} hidden unit(s)." : "."));
        w.Line(AggressiveOptimization);
        using (w.Block($"private static void {StepName(vectors, tail, rows)}(ref float x, nint xStride, ref float w, ref float pre, ref float h, nint hStride)"))
        {
            for (int i = 0; i < rows; i++)
                w.Line($"{v}<float> {string.Join(", ", Enumerable.Range(0, vectors).Select(j => $"acc{i}{j} = {v}.LoadUnsafe(ref pre, {i * plan.PaddedHidden + j * plan.Width})"))};");
            EmitRowRefs(w, "x", "xStride", rows);
            EmitProducts(w, plan, v, k, vectors, rows);
            for (int i = 0; i < rows; i++)
            {
                string row = i == 0 ? "h" : $"h{i}";
                if (i > 0)
                    w.Line($"ref float {row} = ref {Unsafe}.Add(ref h, {i} * hStride);");
                for (int j = 0; j < vectors; j++)
                {
                    w.Line($"acc{i}{j} = {activation}.Invoke(acc{i}{j});");
                    if (j == vectors - 1 && tail > 0)
                        EmitPartialStore(w, $"acc{i}{j}", plan.Width, row, j * plan.Width, tail);
                    else
                        w.Line($"{v}.StoreUnsafe(acc{i}{j}, ref {row}, {j * plan.Width});");
                }
            }
        }
    }

    private static void EmitRowRefs(SourceWriter w, string name, string stride, int rows)
    {
        for (int i = 1; i < rows; i++)
            w.Line($"ref float {name}{i} = ref {Unsafe}.Add(ref {name}, {i} * {stride});");
    }

    /// <summary>The inner product loop: per input k, load the tile's weights once, broadcast one value per row.</summary>
    private static void EmitProducts(SourceWriter w, PathPlan plan, string v, int k, int vectors, int rows)
    {
        using (w.Block($"for (int k = 0; k < {k}; k++)"))
        {
            for (int j = 0; j < vectors; j++)
                w.Line($"{v}<float> w{j} = {v}.LoadUnsafe(ref w, {j * plan.Width});");
            for (int i = 0; i < rows; i++)
            {
                string row = i == 0 ? "x" : $"x{i}";
                w.Line($"{(i == 0 ? $"{v}<float> " : "")}a = {v}.Create({Unsafe}.Add(ref {row}, k));");
                for (int j = 0; j < vectors; j++)
                    w.Line($"acc{i}{j} = {v}.MultiplyAddEstimate(a, w{j}, acc{i}{j});");
            }
            w.Line($"w = ref {Unsafe}.Add(ref w, {vectors * plan.Width});");
        }
    }

    /// <summary>
    /// Stores the first <paramref name="lanes"/> lanes of a vector and nothing past them, by halving the
    /// vector down to 128 bits, then 64-bit and 32-bit stores: an exact tail with no run-time loop.
    /// </summary>
    private static void EmitPartialStore(SourceWriter w, string vector, int width, string destination, int offset, int lanes)
    {
        string type = VectorType(width);
        if (lanes == width)
        {
            w.Line($"{type}.StoreUnsafe({vector}, ref {destination}, {offset});");
            return;
        }
        if (width == 4)
        {
            if (lanes >= 2)
                w.Line($"{Unsafe}.WriteUnaligned(ref {Unsafe}.As<float, byte>(ref {Unsafe}.Add(ref {destination}, {offset})), {type}.ToScalar({type}.AsDouble({vector})));");
            if (lanes == 1)
                w.Line($"{Unsafe}.Add(ref {destination}, {offset}) = {type}.ToScalar({vector});");
            if (lanes == 3)
                w.Line($"{Unsafe}.Add(ref {destination}, {offset + 2}) = {type}.GetElement({vector}, 2);");
            return;
        }
        int half = width / 2;
        EmitPartialStore(w, $"{type}.GetLower({vector})", half, destination, offset, System.Math.Min(lanes, half));
        if (lanes > half)
            EmitPartialStore(w, $"{type}.GetUpper({vector})", half, destination, offset + half, lanes - half);
    }

    private static string VectorType(int width) => $"global::System.Runtime.Intrinsics.Vector{width * 32}";
}

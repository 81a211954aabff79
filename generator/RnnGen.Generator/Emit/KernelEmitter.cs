using System.Collections.Generic;
using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// Emits one SIMD path of a module as a nested static class: its packed-weight layout and packing, the
/// <c>IRnnKernels</c> struct the runtime's driver calls, and register-tiled kernels with constant trip
/// counts and exact tails. Every operation, forward and backward, is one shape of product,
/// C = (C0 or 0) + A·B over column tiles and row blocks (see <see cref="Operation"/>), so one emitter writes
/// them all. Integers interpolated here format identically in every culture (none is negative).
/// </summary>
internal static class KernelEmitter
{
    /// <summary>File-level aliases the module emitter declares (long global:: names would triple the source).</summary>
    public static readonly string[] Aliases =
    {
        "using RnnGenUnsafe = global::System.Runtime.CompilerServices.Unsafe;",
        "using RnnGenV128 = global::System.Runtime.Intrinsics.Vector128;",
        "using RnnGenV256 = global::System.Runtime.Intrinsics.Vector256;",
        "using RnnGenV512 = global::System.Runtime.Intrinsics.Vector512;",
        "using RnnGenF128 = global::System.Runtime.Intrinsics.Vector128<float>;",
        "using RnnGenF256 = global::System.Runtime.Intrinsics.Vector256<float>;",
        "using RnnGenF512 = global::System.Runtime.Intrinsics.Vector512<float>;",
    };

    internal const string Unsafe = "RnnGenUnsafe";
    internal const string AggressiveOptimization = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    /// <summary>The signature every dispatcher shares (unused operands are passed as the caller sees fit).</summary>
    private const string DispatcherParameters = "(ref float a, nint aStride, int rows, ref float b, ref float c0, nint c0Stride, ref float c, nint cStride, int count)";

    /// <summary>The signature every register-tile kernel shares.</summary>
    private const string KernelParameters = "(ref float a, nint aStride, ref float b, ref float c0, nint c0Stride, ref float c, nint cStride, int count)";

    /// <summary>
    /// One product C[rows × columns] = (C0 or 0) + Σ_k A[row, k] · B[k, columns], then an optional activation.
    /// A is read one scalar at a time (broadcast); <see cref="AStep"/> is the distance between A[row, k] and
    /// A[row, k + 1]. B is read a tile of vectors at a time: as column panels packed per tile
    /// (<see cref="PanelRows"/> = K), or as padded rows <see cref="BRowStride"/> floats apart.
    /// The reduction is the constant <see cref="Reduction"/>, or the run-time <c>count</c> when it is null.
    /// </summary>
    private sealed record Operation(string Name, string Summary, TilePlan Tiles, bool Exact, int? Reduction, int AStep,
        int? PanelRows, int BRowStride, bool Load, bool Activation);

    public static void EmitPath(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        PackedLayout layout = PackedLayout.For(spec, plan);
        TilePlan unitTiles = plan.UnitTiles, gateTiles = plan.GateTiles, stateTiles = plan.ProductTiles(spec.StateSize);
        int hp = plan.PaddedHidden, sp = plan.PaddedState, ps = plan.PreStride;
        // Backward products reduce over the gates: the real units suffice for one gate; a gated layout has padding inside.
        int gateReduction = plan.Gates == 1 ? spec.HiddenSize : ps;
        string activation = spec.Activation == ActivationKind.Tanh ? "global::RnnGen.__Internals.TanhActivation" : "global::RnnGen.__Internals.ReluActivation";
        var operations = new List<Operation>();
        foreach (PackedBlock b in layout.Blocks.GroupBy(b => b.InputColumns).Select(g => g.First()))
        {
            int k = b.InputColumns;
            TilePlan inputTiles = plan.ProductTiles(k);
            operations.Add(new Operation($"ProjectK{k}", $"pre = x · W_ih^T + bias over {k} inputs (column panels).", gateTiles, false, k, 1, k, 0, true, false));
            operations.Add(new Operation($"BackProjectK{k}", $"dx += da · W_ih, {k} inputs wide (padded rows).", inputTiles, false, gateReduction, 1, null, b.PaddedInput, true, false));
            operations.Add(new Operation($"WeightGradK{k}", $"dW_ih[q] += Σ_r da[r, q] · x[r], {k} inputs wide.", inputTiles, false, null, ps, null, b.PaddedInput, true, false));
        }
        if (plan.Gates == 1)
            operations.Add(new Operation("StepTiles", "h = act(pre + hPrev · W_hh^T), written exactly HiddenSize wide (column panels).", unitTiles, true, spec.HiddenSize, 1, spec.HiddenSize, 0, true, true));
        operations.Add(new Operation("BackStepTiles", "dh = da · W_hh (padded rows).", stateTiles, false, gateReduction, 1, null, sp, false, false));
        operations.Add(new Operation("WeightGradState", "dW_hh[q] += Σ_r da[r, q] · hPrev[r].", stateTiles, false, null, ps, null, sp, true, false));
        if (spec.Projects)
        {
            TilePlan cellTiles = plan.ProductTiles(spec.HiddenSize);
            operations.Add(new Operation("ProjectOutputTiles", $"h = m · W_hr^T, written exactly {spec.StateSize} wide (column panels).", plan.ProjectionTiles, true, spec.HiddenSize, 1, spec.HiddenSize, 0, false, false));
            operations.Add(new Operation("BackProjectOutputTiles", "dm = dh · W_hr (padded rows).", cellTiles, false, spec.StateSize, 1, null, hp, false, false));
            operations.Add(new Operation("ProjectionWeightGradTiles", "dW_hr[q] += Σ_r dh[r, q] · m[r].", cellTiles, false, null, sp, null, hp, true, false));
        }

        w.Summary($"The {plan.Name} path: {plan.Width} floats per {plan.Vector}, blocks of {plan.RowBlock} rows.");
        using (w.Block($"private static class {plan.Name}Path"))
        {
            w.Summary("HiddenSize rounded up to whole vectors: the row stride of states and their gradients.");
            w.Line($"public const int PaddedHidden = {hp};");
            if (spec.Projects)
            {
                w.Summary("ProjSize (the features of h) rounded up to whole vectors: the row stride of h and its gradients.");
                w.Line($"public const int PaddedState = {sp};");
                w.Summary("Output units per tile of the projection h = m · W_hr^T (the panel width of packed W_hr^T).");
                w.Line($"private const int ProjectionTileUnits = {plan.ProjectionTiles.TileWidth};");
            }
            w.Summary("Floats per pre-activation row: every gate of every padded unit.");
            w.Line($"private const int GateRow = {ps};");
            w.Summary("Hidden units per tile; a tile's gates are stored together (the panel width of packed W^T is Gates x TileUnits).");
            w.Line($"private const int TileUnits = {unitTiles.TileWidth};");
            w.Line($"private const int Gates = {plan.Gates};");
            if (plan.Gates > 1)
            {
                w.Summary("Floats per row of a training step's record: four vectors of units per tile (LSTM: i, f, g, o; GRU: r, z, n, W_hn h + b_hn).");
                w.Line($"private const int TapeRow = {4 * hp};");
            }
            w.Line("private static readonly global::RnnGen.__Internals.GateLayout s_layout = new(HiddenSize, PaddedHidden, TileUnits, Gates);");
            w.Line();
            w.Line("// Packed weights, per layer and direction: W_ih^T and W_hh^T as column panels, bias_ih + bias_hh (forward);");
            w.Line("// W_ih and W_hh with rows in the gate layout, padded to whole vectors (backward).");
            foreach (PackedBlock b in layout.Blocks)
            {
                w.Line($"private const int PackedWeightIh{b.Suffix} = {b.WeightIh};");
                w.Line($"private const int PackedWeightHh{b.Suffix} = {b.WeightHh};");
                w.Line($"private const int PackedBias{b.Suffix} = {b.Bias};");
                w.Line($"private const int PackedWeightIhRows{b.Suffix} = {b.WeightIhRows};");
                w.Line($"private const int PackedWeightHhRows{b.Suffix} = {b.WeightHhRows};");
                if (spec.IsGru)
                    w.Line($"private const int PackedHiddenBiasN{b.Suffix} = {b.HiddenBiasN};");
                if (spec.Projects)
                {
                    w.Line($"private const int PackedWeightHr{b.Suffix} = {b.WeightHr};");
                    w.Line($"private const int PackedWeightHrRows{b.Suffix} = {b.WeightHrRows};");
                }
            }
            w.Line($"public const int PackedLength = {layout.Length};");
            w.Line();
            EmitPack(w, spec, layout);
            w.Line();
            EmitKernelsStruct(w, spec, plan, layout);

            if (spec.IsLstm)
            {
                w.Line();
                LstmStepEmitter.Emit(w, spec, plan);
            }
            else if (spec.IsGru)
            {
                w.Line();
                GruStepEmitter.Emit(w, spec, plan);
            }
            BlockStepEmitter.EmitKernel(w, spec, plan);
            foreach (Operation op in operations)
            {
                w.Line();
                EmitDispatcher(w, plan, op);
                foreach ((int vectors, int tail) in TileKinds(op))
                {
                    foreach (int rows in RowKinds(plan))
                    {
                        w.Line();
                        EmitKernel(w, plan, op, vectors, tail, rows, activation);
                    }
                }
            }
        }
    }

    private static IEnumerable<(int Vectors, int Tail)> TileKinds(Operation op)
    {
        if (op.Tiles.MainTiles(op.Exact) > 0)
            yield return (op.Tiles.TileVectors, 0);
        if (op.Tiles.HasLastTile(op.Exact))
            yield return (op.Tiles.LastTileVectors, op.Exact ? op.Tiles.TailLanes : 0);
    }

    /// <summary>Full row blocks, and single rows for the remainder.</summary>
    internal static IEnumerable<int> RowKinds(PathPlan plan) => plan.RowBlock > 1 ? new[] { plan.RowBlock, 1 } : new[] { 1 };

    private static string KernelName(Operation op, int vectors, int tail, int rows) => $"{op.Name}V{vectors}R{rows}" + (tail > 0 ? $"Tail{tail}" : "");

    private static void EmitPack(SourceWriter w, NetworkSpec spec, PackedLayout layout)
    {
        const string Packing = "global::RnnGen.__Internals.Packing";
        w.Summary("Packs PyTorch-layout parameters into this path's layout.");
        using (w.Block("public static void Pack(global::RnnGen.ParameterSet parameters, global::System.Span<float> packed)"))
        {
            foreach (PackedBlock b in layout.Blocks)
            {
                string wih = $"parameters.GetReadOnly(\"weight_ih{b.TorchSuffix}\")", whh = $"parameters.GetReadOnly(\"weight_hh{b.TorchSuffix}\")";
                w.Line($"{Packing}.PackPanels({wih}, Gates, HiddenSize, {b.InputColumns}, PaddedHidden, TileUnits, packed.Slice(PackedWeightIh{b.Suffix}, {b.InputColumns} * GateRow));");
                w.Line($"{Packing}.PackPanels({whh}, Gates, HiddenSize, {spec.StateSizeName}, PaddedHidden, TileUnits, packed.Slice(PackedWeightHh{b.Suffix}, {spec.StateSizeName} * GateRow));");
                if (spec.Bias && spec.IsGru)
                {
                    w.Line($"{Packing}.PackBias(parameters.GetReadOnly(\"bias_ih{b.TorchSuffix}\"), parameters.GetReadOnly(\"bias_hh{b.TorchSuffix}\"), s_layout, packed.Slice(PackedBias{b.Suffix}, GateRow), hiddenBiasFromGate: 2);");
                    w.Line($"{Packing}.PackUnits(parameters.GetReadOnly(\"bias_hh{b.TorchSuffix}\").Slice(2 * HiddenSize, HiddenSize), packed.Slice(PackedHiddenBiasN{b.Suffix}, PaddedHidden));");
                }
                else if (spec.Bias)
                {
                    w.Line($"{Packing}.PackBias(parameters.GetReadOnly(\"bias_ih{b.TorchSuffix}\"), parameters.GetReadOnly(\"bias_hh{b.TorchSuffix}\"), s_layout, packed.Slice(PackedBias{b.Suffix}, GateRow));");
                }
                else
                {
                    w.Line($"packed.Slice(PackedBias{b.Suffix}, GateRow).Clear();");
                    if (spec.IsGru)
                        w.Line($"packed.Slice(PackedHiddenBiasN{b.Suffix}, PaddedHidden).Clear();");
                }
                w.Line($"{Packing}.PackRows({wih}, s_layout, {b.InputColumns}, {b.PaddedInput}, packed.Slice(PackedWeightIhRows{b.Suffix}, GateRow * {b.PaddedInput}));");
                string stateRow = spec.Projects ? "PaddedState" : "PaddedHidden";
                w.Line($"{Packing}.PackRows({whh}, s_layout, {spec.StateSizeName}, {stateRow}, packed.Slice(PackedWeightHhRows{b.Suffix}, GateRow * {stateRow}));");
                if (spec.Projects)
                {
                    string whr = $"parameters.GetReadOnly(\"weight_hr{b.TorchSuffix}\")";
                    w.Line($"{Packing}.PackPanels({whr}, 1, ProjSize, HiddenSize, PaddedState, ProjectionTileUnits, packed.Slice(PackedWeightHr{b.Suffix}, HiddenSize * PaddedState));");
                    w.Line($"{Packing}.PackRows({whr}, new global::RnnGen.__Internals.GateLayout(ProjSize, ProjSize, ProjSize, 1), HiddenSize, PaddedHidden, packed.Slice(PackedWeightHrRows{b.Suffix}, ProjSize * PaddedHidden));");
                }
            }
        }
    }

    private static void EmitKernelsStruct(SourceWriter w, NetworkSpec spec, PathPlan plan, PackedLayout layout)
    {
        string W(string offset) => $"ref {Unsafe}.Add(ref packed, {offset})";
        void Switch(SourceWriter writer, System.Func<PackedBlock, string> call)
        {
            writer.Line("ref float packed = ref _packed.Start;");
            using (writer.Block("switch (layer * NumDirections + direction)"))
            {
                foreach (PackedBlock b in layout.Blocks)
                    writer.Line($"case {b.Layer * spec.NumDirections + b.Direction}: {call(b)} return;");
                writer.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(layer));");
            }
        }

        w.Summary("This path's kernels over packed weights, for the runtime's driver.");
        using (w.Block("public readonly struct Kernels : global::RnnGen.__Internals.IRnnKernels"))
        {
            w.Line("private readonly global::RnnGen.__Internals.AlignedBuffer _packed;");
            w.Line();
            w.Line("public Kernels(global::RnnGen.__Internals.AlignedBuffer packed) => _packed = packed;");
            w.Line();
            string stateStride = spec.Projects ? "PaddedState" : "PaddedHidden";
            w.Line($"public int StateStride => {stateStride};");
            w.Line();
            w.Line("public int CellStride => PaddedHidden;");
            w.Line();
            w.Line("public int PreStride => GateRow;");
            w.Line();
            w.Line("public global::RnnGen.__Internals.GateLayout Layout => s_layout;");
            w.Line();
            int kp0 = layout.Blocks[0].PaddedInput;
            int kp1 = layout.Blocks.Count > spec.NumDirections ? layout.Blocks[spec.NumDirections].PaddedInput : kp0;
            w.Line(kp0 == kp1 ? $"public int InputStride(int layer) => {kp0};" : $"public int InputStride(int layer) => layer == 0 ? {kp0} : {kp1};");
            w.Line();
            using (w.Block("public void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre)"))
                Switch(w, b => $"ProjectK{b.InputColumns}(ref x, xStride, rows, {W($"PackedWeightIh{b.Suffix}")}, {W($"PackedBias{b.Suffix}")}, 0, ref pre, GateRow, 0);");
            w.Line();
            using (w.Block("public void Step(int layer, int direction, ref float hPrev, nint hPrevStride, ref float pre, int rows, ref float h, nint hStride, ref float cPrev, nint cPrevStride, ref float c, nint cStride, ref float gates)"))
                Switch(w, b => spec.IsLstm
                    ? $"LstmStepTiles(ref hPrev, hPrevStride, rows, {W($"PackedWeightHh{b.Suffix}")}, ref pre, ref cPrev, cPrevStride, ref h, hStride, ref c, cStride, ref gates);"
                    : spec.IsGru
                    ? $"GruStepTiles(ref hPrev, hPrevStride, rows, {W($"PackedWeightHh{b.Suffix}")}, ref pre, {W($"PackedHiddenBiasN{b.Suffix}")}, ref h, hStride, ref gates);"
                    : $"StepTiles(ref hPrev, hPrevStride, rows, {W($"PackedWeightHh{b.Suffix}")}, ref pre, GateRow, ref h, hStride, 0);");
            w.Line();
            using (w.Block("public void BackStep(int layer, int direction, ref float da, int rows, ref float dh)"))
                Switch(w, b => $"BackStepTiles(ref da, GateRow, rows, {W($"PackedWeightHhRows{b.Suffix}")}, ref dh, {stateStride}, ref dh, {stateStride}, 0);");
            w.Line();
            using (w.Block("public void BackProject(int layer, int direction, ref float da, int rows, ref float dx)"))
                Switch(w, b => $"BackProjectK{b.InputColumns}(ref da, GateRow, rows, {W($"PackedWeightIhRows{b.Suffix}")}, ref dx, {b.PaddedInput}, ref dx, {b.PaddedInput}, 0);");
            w.Line();
            using (w.Block("public void WeightGrad(int layer, int direction, bool recurrent, ref float da, ref float x, int rows, ref float dw)"))
            {
                using (w.Block("if (recurrent)"))
                {
                    w.Line($"WeightGradState(ref da, 1, GateRow, ref x, ref dw, {stateStride}, ref dw, {stateStride}, rows);");
                    w.Line("return;");
                }
                using (w.Block("switch (layer)"))
                {
                    foreach (PackedBlock b in layout.Blocks.Where(b => b.Direction == 0))
                        w.Line($"case {b.Layer}: WeightGradK{b.InputColumns}(ref da, 1, GateRow, ref x, ref dw, {b.PaddedInput}, ref dw, {b.PaddedInput}, rows); return;");
                    w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(layer));");
                }
            }
            if (spec.Projects)
            {
                w.Line();
                using (w.Block("public void ProjectOutput(int layer, int direction, ref float m, int rows, ref float h, nint hStride)"))
                    Switch(w, b => $"ProjectOutputTiles(ref m, PaddedHidden, rows, {W($"PackedWeightHr{b.Suffix}")}, ref h, 0, ref h, hStride, 0);");
                w.Line();
                using (w.Block("public void BackProjectOutput(int layer, int direction, ref float dh, int rows, ref float dm)"))
                    Switch(w, b => $"BackProjectOutputTiles(ref dh, PaddedState, rows, {W($"PackedWeightHrRows{b.Suffix}")}, ref dm, PaddedHidden, ref dm, PaddedHidden, 0);");
                w.Line();
                w.Line("public void ProjectionWeightGrad(ref float dh, ref float m, int rows, ref float dw) =>");
                w.Line("    ProjectionWeightGradTiles(ref dh, 1, ProjSize, ref m, ref dw, PaddedHidden, ref dw, PaddedHidden, rows);");
            }
            BlockStepEmitter.EmitMember(w, spec, plan, layout);
        }
    }

    /// <summary>Walks the column tiles and, within each, the rows: in register blocks, then one by one.</summary>
    private static void EmitDispatcher(SourceWriter w, PathPlan plan, Operation op)
    {
        w.Summary(op.Summary);
        using (w.Block($"private static void {op.Name}{DispatcherParameters}"))
        {
            TilePlan tiles = op.Tiles;
            int mainTiles = tiles.MainTiles(op.Exact);
            string Tile(int vectors, int tail) => tail > 0
                ? $"{vectors} vector(s), the last holding {tail} of its {plan.Width} lanes"
                : $"{vectors} vector(s)";
            if (mainTiles > 0)
            {
                w.Line($"// {mainTiles} tile(s) of {Tile(tiles.TileVectors, 0)}.");
                using (w.Block($"for (int tile = 0; tile < {mainTiles}; tile++)"))
                {
                    w.Line($"int col = tile * {tiles.TileWidth};");
                    EmitRowBlocks(w, plan, op, tiles.TileVectors, 0);
                }
            }
            if (tiles.HasLastTile(op.Exact))
            {
                int tail = op.Exact ? tiles.TailLanes : 0;
                w.Line($"// The last tile: {Tile(tiles.LastTileVectors, tail)}.");
                using (w.Block(""))
                {
                    w.Line($"const int col = {mainTiles * tiles.TileWidth};");
                    EmitRowBlocks(w, plan, op, tiles.LastTileVectors, tail);
                }
            }
        }
    }

    private static void EmitRowBlocks(SourceWriter w, PathPlan plan, Operation op, int vectors, int tail)
    {
        // Column panels hold each tile's K rows together; padded rows hold the tile at its column.
        string bTile = op.PanelRows is int k ? $"col * {k}" : "col";
        string Call(int rows) =>
            $"{KernelName(op, vectors, tail, rows)}(ref {Unsafe}.Add(ref a, r * aStride), aStride, ref {Unsafe}.Add(ref b, {bTile}), " +
            $"ref {Unsafe}.Add(ref c0, r * c0Stride + col), c0Stride, ref {Unsafe}.Add(ref c, r * cStride + col), cStride, count);";
        w.Line("int r = 0;");
        if (plan.RowBlock > 1)
        {
            w.Line($"for (; r + {plan.RowBlock} <= rows; r += {plan.RowBlock})");
            w.Line("    " + Call(plan.RowBlock));
        }
        w.Line("for (; r < rows; r++)");
        w.Line("    " + Call(1));
    }

    private static void EmitKernel(SourceWriter w, PathPlan plan, Operation op, int vectors, int tail, int rows, string activation)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int bStride = op.PanelRows is null ? op.BRowStride : vectors * plan.Width;
        w.Summary($"{rows} row(s) x {vectors} vector(s): {op.Summary}" + (tail > 0 ? $" The last vector holds {tail} lane(s)." : ""));
        w.Line(AggressiveOptimization);
        using (w.Block($"private static void {KernelName(op, vectors, tail, rows)}{KernelParameters}"))
        {
            for (int i = 1; i < rows; i++)
                w.Line($"ref float a{i} = ref {Unsafe}.Add(ref a, {i} * aStride);");
            for (int i = 0; i < rows; i++)
            {
                string row = i == 0 ? "c0" : $"{Unsafe}.Add(ref c0, {i} * c0Stride)";
                w.Line($"{f} " + string.Join(", ", Enumerable.Range(0, vectors).Select(j =>
                    op.Load ? $"acc{i}{j} = {v}.LoadUnsafe(ref {row}, {j * plan.Width})" : $"acc{i}{j} = {f}.Zero")) + ";");
            }
            using (w.Block($"for (int k = 0; k < {(op.Reduction is int n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "count")}; k++)"))
            {
                for (int j = 0; j < vectors; j++)
                    w.Line($"{f} w{j} = {v}.LoadUnsafe(ref b, {j * plan.Width});");
                for (int i = 0; i < rows; i++)
                {
                    string a = i == 0 ? "a" : $"a{i}";
                    w.Line($"{(i == 0 ? $"{f} " : "")}x = {v}.Create({a});");
                    for (int j = 0; j < vectors; j++)
                        w.Line($"acc{i}{j} = {v}.MultiplyAddEstimate(x, w{j}, acc{i}{j});");
                }
                for (int i = 0; i < rows; i++)
                {
                    string a = i == 0 ? "a" : $"a{i}";
                    w.Line($"{a} = ref {Unsafe}.Add(ref {a}, {op.AStep});");
                }
                w.Line($"b = ref {Unsafe}.Add(ref b, {bStride});");
            }
            for (int i = 0; i < rows; i++)
            {
                string row = i == 0 ? "c" : $"c{i}";
                if (i > 0)
                    w.Line($"ref float {row} = ref {Unsafe}.Add(ref c, {i} * cStride);");
                for (int j = 0; j < vectors; j++)
                {
                    if (op.Activation)
                        w.Line($"acc{i}{j} = {activation}.Invoke(acc{i}{j});");
                    if (j == vectors - 1 && tail > 0)
                        EmitPartialStore(w, $"acc{i}{j}", plan.Width, row, j * plan.Width, tail);
                    else
                        w.Line($"{v}.StoreUnsafe(acc{i}{j}, ref {row}, {j * plan.Width});");
                }
            }
        }
    }

    /// <summary>
    /// Stores the first <paramref name="lanes"/> lanes of a vector and nothing past them, by halving the
    /// vector down to 128 bits, then 64-bit and 32-bit stores: an exact tail with no run-time loop.
    /// </summary>
    internal static void EmitPartialStore(SourceWriter w, string vector, int width, string destination, int offset, int lanes)
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

    private static string VectorType(int width) => $"RnnGenV{width * 32}";
}

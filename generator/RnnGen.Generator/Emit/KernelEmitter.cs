using System.Collections.Generic;
using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emit;

/// <summary>
/// Emits one SIMD path of a module as a nested static class: its packed-weight layout and packing, the
/// <c>IRnnKernels</c> struct the runtime's driver calls, and register-tiled kernels with constant trip
/// counts and exact tails: the recurrent steps (here, and in the LSTM, GRU and block emitters) and the exactly-written
/// panel products (<see cref="Operation"/>). The input projection and the backward products are the runtime's
/// <c>VectorProducts</c>, which the struct's members call with this shape's strides. Integers interpolated here format
/// identically in every culture (none is negative).
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
        "using RnnGenProducts = global::RnnGen.__Internals.VectorProducts;",
        "using RnnGenLstm = global::RnnGen.__Internals.LstmCellUpdate;",
        "using RnnGenGru = global::RnnGen.__Internals.GruCellUpdate;",
        "using RnnGenWidth128 = global::RnnGen.__Internals.Width128;",
        "using RnnGenWidth256 = global::RnnGen.__Internals.Width256;",
        "using RnnGenWidth512 = global::RnnGen.__Internals.Width512;",
    };

    internal const string Unsafe = "RnnGenUnsafe";
    /// <summary>
    /// The attribute of every register-tiled kernel (and block kernel): compiled optimised at its first call, never
    /// inlined, so each kernel is one function with its own registers and its own inlining budget. Inlined into the
    /// driver (tier-1 code with dynamic PGO does that), multi-row kernels used up the caller's budget, the activations
    /// and vector helpers after them stayed calls, and <c>Rnn(100, 200)</c> at batch 5 ran 1.5–3× slower; a single-row
    /// kernel inlined into the streaming call did the same once the call's projection grew (<c>LstmCell(1→12)</c>: its
    /// σ and tanh became calls, 155 ns per step against 106 with the kernel a call of its own), so no kernel inlines.
    /// </summary>
    internal const string NeverInlined = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.NoInlining | global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    /// <summary>The signature every dispatcher shares (unused operands are passed as the caller sees fit).</summary>
    private const string DispatcherParameters = "(ref float a, nint aStride, int rows, ref float b, ref float c0, nint c0Stride, ref float c, nint cStride)";

    /// <summary>The signature every register-tile kernel shares.</summary>
    private const string KernelParameters = "(ref float a, nint aStride, ref float b, ref float c0, nint c0Stride, ref float c, nint cStride)";

    /// <summary>
    /// One product C[rows × columns] = (C0 or 0) + Σ_{k &lt; K} A[row, k] · B[k, columns], then an optional activation:
    /// A is read one scalar at a time (broadcast), B as column panels packed per tile (K rows each). The emitted
    /// products are the steps whose tail is written exactly; the others are the runtime's <c>VectorProducts</c>.
    /// </summary>
    private sealed record Operation(string Name, string Summary, TilePlan Tiles, bool Exact, int K, bool Load, bool Activation)
    {
        public static Operation Panels(string name, string summary, TilePlan tiles, int k, bool exact, bool load, bool activation = false) =>
            new(name, summary, tiles, exact, k, load, activation);
    }

    public static void EmitPath(SourceWriter w, NetworkSpec spec, PathPlan plan)
    {
        PackedLayout layout = PackedLayout.For(spec, plan);
        TilePlan unitTiles = plan.UnitTiles;
        int hp = plan.PaddedHidden, sp = plan.PaddedState, ps = plan.PreStride;
        string activation = ModuleEmitter.ActivationType(spec);
        // The input projection and the backward products are the runtime's VectorProducts; what is emitted is the steps.
        var operations = new List<Operation>();
        if (plan.Gates == 1)
            operations.Add(Operation.Panels("StepTiles", "h = act(pre + hPrev · W_hh^T), written exactly HiddenSize wide (column panels).", unitTiles, spec.HiddenSize, exact: true, load: true, activation: true));
        if (spec.Projects)
            operations.Add(Operation.Panels("ProjectOutputTiles", $"h = m · W_hr^T, written exactly {spec.StateSize} wide (column panels).", plan.ProjectionTiles, spec.HiddenSize, exact: true, load: false));

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
            if (plan.NarrowLastTile)
            {
                w.Summary("The last tile of units is packed at its own width, half a vector: the units the weight panels and the bias hold.");
                w.Line($"private const int PanelHidden = {plan.PanelHidden};");
                w.Summary("Floats of weight panels per input, and of the bias: every gate of PanelHidden units.");
                w.Line($"private const int PanelRow = {plan.PanelRow};");
                w.Summary($"Units in whole tiles: where the narrow last tile starts (its gates {plan.HalfWidth} apart, in the panels, the bias and its part of a pre-activation row).");
                w.Line($"private const int WholeTileUnits = {plan.WholeTileUnits};");
                w.Line("private static readonly global::RnnGen.__Internals.GateLayout s_panelLayout = new(HiddenSize, PanelHidden, TileUnits, Gates);");
            }
            w.Line();
            if (spec.Training)
            {
                w.Line("// Packed weights, per layer and direction: W_ih^T and W_hh^T as column panels, bias_ih + bias_hh (forward);");
                w.Line("// W_ih and W_hh with rows in the gate layout, padded to whole vectors (backward).");
            }
            else
            {
                w.Line("// Packed weights, per layer and direction: W_ih^T and W_hh^T as column panels, bias_ih + bias_hh (inference only).");
            }
            foreach (PackedBlock b in layout.Blocks)
            {
                w.Line($"private const int PackedWeightIh{b.Suffix} = {b.WeightIh};");
                w.Line($"private const int PackedWeightHh{b.Suffix} = {b.WeightHh};");
                w.Line($"private const int PackedBias{b.Suffix} = {b.Bias};");
                if (spec.Training)
                {
                    w.Line($"private const int PackedWeightIhRows{b.Suffix} = {b.WeightIhRows};");
                    w.Line($"private const int PackedWeightHhRows{b.Suffix} = {b.WeightHhRows};");
                }
                if (spec.IsGru)
                    w.Line($"private const int PackedHiddenBiasN{b.Suffix} = {b.HiddenBiasN};");
                if (spec.Projects)
                {
                    w.Line($"private const int PackedWeightHr{b.Suffix} = {b.WeightHr};");
                    if (spec.Training)
                        w.Line($"private const int PackedWeightHrRows{b.Suffix} = {b.WeightHrRows};");
                }
            }
            w.Line($"public const int PackedLength = {layout.Length};");
            w.Line();
            EmitPack(w, spec, plan, layout);
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

    private static void EmitPack(SourceWriter w, NetworkSpec spec, PathPlan plan, PackedLayout layout)
    {
        // With a narrow last tile the panels and the bias hold PanelHidden units (Packing packs the last tile at its width).
        string panelHidden = plan.NarrowLastTile ? "PanelHidden" : "PaddedHidden", panelRow = plan.NarrowLastTile ? "PanelRow" : "GateRow";
        string biasLayout = plan.NarrowLastTile ? "s_panelLayout" : "s_layout";
        const string Packing = "global::RnnGen.__Internals.Packing";
        w.Summary("Packs PyTorch-layout parameters into this path's layout.");
        using (w.Block("public static void Pack(global::RnnGen.ParameterSet parameters, global::System.Span<float> packed)"))
        {
            foreach (PackedBlock b in layout.Blocks)
            {
                string wih = $"parameters.GetReadOnly(\"weight_ih{b.TorchSuffix}\")", whh = $"parameters.GetReadOnly(\"weight_hh{b.TorchSuffix}\")";
                w.Line($"{Packing}.PackPanels({wih}, Gates, HiddenSize, {b.InputColumns}, {panelHidden}, TileUnits, packed.Slice(PackedWeightIh{b.Suffix}, {Times(b.InputColumns, panelRow)}));");
                w.Line($"{Packing}.PackPanels({whh}, Gates, HiddenSize, {spec.StateSizeName}, {panelHidden}, TileUnits, packed.Slice(PackedWeightHh{b.Suffix}, {spec.StateSizeName} * {panelRow}));");
                if (spec.Bias && spec.IsGru)
                {
                    w.Line($"{Packing}.PackBias(parameters.GetReadOnly(\"bias_ih{b.TorchSuffix}\"), parameters.GetReadOnly(\"bias_hh{b.TorchSuffix}\"), {biasLayout}, packed.Slice(PackedBias{b.Suffix}, {panelRow}), hiddenBiasFromGate: 2);");
                    w.Line($"{Packing}.PackUnits(parameters.GetReadOnly(\"bias_hh{b.TorchSuffix}\").Slice(2 * HiddenSize, HiddenSize), packed.Slice(PackedHiddenBiasN{b.Suffix}, PaddedHidden));");
                }
                else if (spec.Bias)
                {
                    w.Line($"{Packing}.PackBias(parameters.GetReadOnly(\"bias_ih{b.TorchSuffix}\"), parameters.GetReadOnly(\"bias_hh{b.TorchSuffix}\"), {biasLayout}, packed.Slice(PackedBias{b.Suffix}, {panelRow}));");
                }
                else
                {
                    w.Line($"packed.Slice(PackedBias{b.Suffix}, {panelRow}).Clear();");
                    if (spec.IsGru)
                        w.Line($"packed.Slice(PackedHiddenBiasN{b.Suffix}, PaddedHidden).Clear();");
                }
                if (spec.Training)
                {
                    w.Line($"{Packing}.PackRows({wih}, s_layout, {b.InputColumns}, {b.PaddedInput}, packed.Slice(PackedWeightIhRows{b.Suffix}, GateRow * {b.PaddedInput}));");
                    string stateRow = spec.Projects ? "PaddedState" : "PaddedHidden";
                    w.Line($"{Packing}.PackRows({whh}, s_layout, {spec.StateSizeName}, {stateRow}, packed.Slice(PackedWeightHhRows{b.Suffix}, GateRow * {stateRow}));");
                }
                if (spec.Projects)
                {
                    string whr = $"parameters.GetReadOnly(\"weight_hr{b.TorchSuffix}\")";
                    w.Line($"{Packing}.PackPanels({whr}, 1, ProjSize, HiddenSize, PaddedState, ProjectionTileUnits, packed.Slice(PackedWeightHr{b.Suffix}, HiddenSize * PaddedState));");
                    if (spec.Training)
                        w.Line($"{Packing}.PackRows({whr}, new global::RnnGen.__Internals.GateLayout(ProjSize, ProjSize, ProjSize, 1), HiddenSize, PaddedHidden, packed.Slice(PackedWeightHrRows{b.Suffix}, ProjSize * PaddedHidden));");
                }
            }
        }
    }

    /// <summary>
    /// A member of the kernels struct that makes one call for the (layer, direction) block asked for: a module of one
    /// block makes it directly; others switch on the block. <paramref name="call"/> names the packed weights through
    /// <see cref="Packed"/>; it may be several statements, one per line. With <paramref name="returns"/>, the member returns it after the call. With
    /// <paramref name="only"/>, the blocks it leaves out (fewer than all) return false, as does a block out of range.
    /// </summary>
    internal static void EmitPerBlock(SourceWriter w, NetworkSpec spec, PackedLayout layout, string signature, System.Func<PackedBlock, string> call, string? returns = null,
        System.Func<PackedBlock, bool>? only = null)
    {
        bool some = only is not null && !layout.Blocks.All(only);
        if (layout.Blocks.Count == 1 && !some)
        {
            using (w.Block(signature))
            {
                // Kept as a checked statement body, not an expression body: so written, tier-1 code inlined the kernels
                // into the driver and the first seconds of an LstmCell stream had a 0.6-0.9 ms block (0.2-0.3 ms so).
                w.Line("if ((layer | direction) != 0) throw new global::System.ArgumentOutOfRangeException(nameof(layer));");
                foreach (string statement in call(layout.Blocks[0]).Split('\n'))
                    w.Line(statement);
                if (returns is not null)
                    w.Line($"return {returns};");
            }
            return;
        }
        using (w.Block(signature))
        {
            w.Line("ref float packed = ref _packed.Start;");
            using (w.Block("switch (layer * NumDirections + direction)"))
            {
                foreach (PackedBlock b in layout.Blocks.Where(b => !some || only!(b)))
                {
                    string[] statements = call(b).Split('\n');
                    string end = $"return{(returns is null ? "" : " " + returns)};";
                    if (statements.Length == 1)
                    {
                        w.Line($"case {b.Layer * spec.NumDirections + b.Direction}: {statements[0]} {end}");
                        continue;
                    }
                    w.Line($"case {b.Layer * spec.NumDirections + b.Direction}:");
                    foreach (string statement in statements)
                        w.Line("    " + statement);
                    w.Line("    " + end);
                }
                w.Line(some ? "default: return false;" : "default: throw new global::System.ArgumentOutOfRangeException(nameof(layer));");
            }
        }
    }

    /// <summary>A reference into the packed weights at <paramref name="offset"/>, inside a member written by <see cref="EmitPerBlock"/>.</summary>
    internal static string Packed(PackedLayout layout, string offset) =>
        $"ref {Unsafe}.Add(ref {(layout.Blocks.Count == 1 ? "_packed.Start" : "packed")}, {offset})";

    private static void EmitKernelsStruct(SourceWriter w, NetworkSpec spec, PathPlan plan, PackedLayout layout)
    {
        string W(string offset) => Packed(layout, offset);
        void Switch(string signature, System.Func<PackedBlock, string> call) => EmitPerBlock(w, spec, layout, signature, call);

        w.Summary("This path's kernels over packed weights, for the runtime's driver.");
        using (w.Block("public readonly struct Kernels : global::RnnGen.__Internals.IRnnKernels"))
        {
            w.Line("private readonly global::RnnGen.__Internals.AlignedBuffer _packed;");
            w.Line();
            w.Line("public Kernels(global::RnnGen.__Internals.AlignedBuffer packed) => _packed = packed;");
            w.Line();
            string stateStride = spec.Projects ? "PaddedState" : "PaddedHidden";
            w.Line($"public int StateStride => {stateStride};");
            w.Line("public int CellStride => PaddedHidden;");
            w.Line("public int PreStride => GateRow;");
            w.Line("public global::RnnGen.__Internals.GateLayout Layout => s_layout;");
            // One kernel call per row (one tile; an LSTM's two tiles in the AVX-512 pair kernel) reads all of hPrev
            // (its products) before it stores h (its last act): a row may step in place.
            bool oneCallPerRow = plan.UnitTiles.TileCount == 1 || spec.IsLstm && LstmStepEmitter.HasPairKernel(plan);
            bool inPlace = oneCallPerRow && (spec.IsLstm && !spec.Projects || spec.IsGru);
            w.Line($"public bool OneRowStepInPlace => {(inPlace ? "true" : "false")};");
            int kp0 = layout.Blocks[0].PaddedInput;
            int kp1 = layout.Blocks.Count > spec.NumDirections ? layout.Blocks[spec.NumDirections].PaddedInput : kp0;
            w.Line(kp0 == kp1 ? $"public int InputStride(int layer) => {kp0};" : $"public int InputStride(int layer) => layer == 0 ? {kp0} : {kp1};");
            w.Line();
            string products = $"RnnGenProducts.{{0}}<RnnGenWidth{plan.Width * 32}, RnnGenF{plan.Width * 32}>";
            string panels = string.Format(products, "Panels"), rowProducts = string.Format(products, "Rows");
            // One row walks its tiles either way (IRnnKernels.Step's tilesBackward): the projection's (VectorProducts) and,
            // where the step calls a kernel per tile, the gated steps'; the Elman step ignores it.
            // A narrow last tile (PathPlan.NarrowLastTile) is a product of its own, in half vectors: the last tile, so
            // first when the tiles walk last to first.
            if (plan.NarrowLastTile)
                w.Line($"// The whole tiles in vectors of {plan.Width}; the last tile, packed at its own width, in vectors of {plan.HalfWidth} (first when the tiles walk last to first).");
            string wholeWidth = plan.NarrowLastTile ? "WholeTileUnits * Gates" : "GateRow";
            Switch("public void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre, bool tilesBackward)", b =>
            {
                string whole = $"{panels}(ref x, xStride, rows, {b.InputColumns}, {W($"PackedWeightIh{b.Suffix}")}, {plan.GateTiles.TileVectors}, {wholeWidth}, {W($"PackedBias{b.Suffix}")}, ref pre, GateRow, tilesBackward);";
                if (!plan.NarrowLastTile)
                    return whole;
                string narrow = NarrowTileProjection(plan, b, W, "xStride", "rows");
                return $"if (tilesBackward) {narrow}\n{whole}\nif (!tilesBackward) {narrow}";
            });
            w.Line();
            const string Rows = "global::RnnGen.__Internals.StridedRows";
            string backward = UnitStepEmitter.WalksTilesBackward(spec, plan) ? ", tilesBackward" : "";
            Switch($"public void Step(int layer, int direction, {Rows} hPrev, ref float pre, int rows, {Rows} h, {Rows} cPrev, {Rows} c, ref float gates, bool tilesBackward)",
                b => spec.IsLstm
                    ? $"LstmStepTiles(ref hPrev.Start, hPrev.Stride, rows, {W($"PackedWeightHh{b.Suffix}")}, ref pre, ref cPrev.Start, cPrev.Stride, ref h.Start, h.Stride, ref c.Start, c.Stride, ref gates{backward});"
                    : spec.IsGru
                    ? $"GruStepTiles(ref hPrev.Start, hPrev.Stride, rows, {W($"PackedWeightHh{b.Suffix}")}, ref pre, {W($"PackedHiddenBiasN{b.Suffix}")}, ref h.Start, h.Stride, ref gates{backward});"
                    : $"StepTiles(ref hPrev.Start, hPrev.Stride, rows, {W($"PackedWeightHh{b.Suffix}")}, ref pre, GateRow, ref h.Start, h.Stride);");
            w.Line();
            EmitRowTilesMembers(w, spec, plan, Switch, W, panels);
            if (spec.Projects)
            {
                w.Line();
                Switch("public void ProjectOutput(int layer, int direction, ref float m, int rows, ref float h, nint hStride)",
                    b => $"ProjectOutputTiles(ref m, PaddedHidden, rows, {W($"PackedWeightHr{b.Suffix}")}, ref h, 0, ref h, hStride);");
            }
            if (spec.Training)
                EmitBackwardMembers(w, spec, plan, layout, Switch, W, stateStride, rowProducts);
            else
                w.Line("// Inference only (Training = false): no backward members; IRnnKernels' defaults throw if anything calls them.");
            BlockStepEmitter.EmitMember(w, spec, plan, layout);
        }
    }

    /// <summary>
    /// <c>IRnnKernels.RowParts</c> and, where a batch of one splits (<see cref="UnitStepEmitter.SplitsRows"/>),
    /// <c>RowTiles</c> and <c>StepRowTiles</c>: those tiles' projection (the same per-tile products as <c>Project</c>'s
    /// one row: a unit tile's gates are one tile of the pre-activation row) and their step.
    /// </summary>
    private static void EmitRowTilesMembers(SourceWriter w, NetworkSpec spec, PathPlan plan, System.Action<string, System.Func<PackedBlock, string>> onBlock,
        System.Func<string, string> at, string panels)
    {
        if (!UnitStepEmitter.SplitsRows(spec, plan))
        {
            // Declared even so: the interface's default body, called on a struct, would box it (an allocation per call).
            w.Line("public int RowParts(int layer) => 1;");
            return;
        }
        if (plan.GateTiles.TileWidth != plan.Gates * plan.UnitTiles.TileWidth)
            throw new System.InvalidOperationException($"{plan.Name}: a pre-activation tile must hold one unit tile's gates.");
        int first = System.Math.Max(1, plan.RowParts(spec.InputSize)), later = System.Math.Max(1, plan.RowParts(spec.HiddenSize));
        w.Line($"public int RowParts(int layer) => {(spec.NumLayers == 1 || first == later ? $"{first}" : $"layer == 0 ? {first} : {later}")};");
        w.Line($"public int RowTiles => {plan.UnitTiles.TileCount};");
        w.Line();
        const string Tile = "firstTile * TileUnits * Gates";
        // The whole tiles of the range; a narrow last tile (PathPlan.NarrowLastTile) in half vectors, as in Project.
        int mainTiles = plan.UnitTiles.MainTiles(exact: true);
        string endWhole = plan.NarrowLastTile ? $"global::System.Math.Min(endTile, {mainTiles})" : "endTile";
        onBlock("public void StepRowTiles(int layer, int direction, ref float x, ref float hPrev, ref float pre, ref float h, ref float c, int firstTile, int endTile)",
            b => $"{panels}(ref x, 0, 1, {b.InputColumns}, {at($"PackedWeightIh{b.Suffix} + {Times(b.InputColumns, Tile, first: false)}")}, {plan.GateTiles.TileVectors}, ({endWhole} - firstTile) * TileUnits * Gates, "
                + $"{at($"PackedBias{b.Suffix} + {Tile}")}, ref {Unsafe}.Add(ref pre, {Tile}), GateRow);\n"
                + (plan.NarrowLastTile ? $"if (endTile > {mainTiles}) " + NarrowTileProjection(plan, b, at, "0", "1") + "\n" : "")
                + (spec.IsLstm
                    ? $"LstmStepRowTiles(ref hPrev, 0, 1, {at($"PackedWeightHh{b.Suffix}")}, ref pre, ref c, 0, ref h, 0, ref c, 0, ref {Unsafe}.NullRef<float>(), firstTile, endTile);"
                    : $"GruStepRowTiles(ref hPrev, 0, 1, {at($"PackedWeightHh{b.Suffix}")}, ref pre, {at($"PackedHiddenBiasN{b.Suffix}")}, ref h, 0, ref {Unsafe}.NullRef<float>(), firstTile, endTile);"));
    }

    /// <summary>
    /// The input projection of a narrow last tile (<see cref="PathPlan.NarrowLastTile"/>): one tile of half vectors, its gates
    /// half a vector apart in the panel, the bias and the pre-activation rows.
    /// </summary>
    private static string NarrowTileProjection(PathPlan plan, PackedBlock b, System.Func<string, string> at, string xStride, string rows)
    {
        const string Start = "WholeTileUnits * Gates";
        int bits = plan.HalfWidth * 32;
        return $"RnnGenProducts.Panels<RnnGenWidth{bits}, RnnGenF{bits}>(ref x, {xStride}, {rows}, {b.InputColumns}, {at($"PackedWeightIh{b.Suffix} + {Times(b.InputColumns, Start, first: false)}")}, Gates, Gates * {plan.HalfWidth}, "
            + $"{at($"PackedBias{b.Suffix} + {Start}")}, ref {Unsafe}.Add(ref pre, {Start}), GateRow);";
    }

    /// <summary>
    /// The kernel struct's backward members (a training module's only): each one of the runtime's row products, with this
    /// shape's strides and counts. They reduce over the gates: the real units suffice for one gate; a gated layout has padding inside.
    /// </summary>
    private static void EmitBackwardMembers(SourceWriter w, NetworkSpec spec, PathPlan plan, PackedLayout layout,
        System.Action<string, System.Func<PackedBlock, string>> onBlock, System.Func<string, string> at, string stateStride, string rows)
    {
        string gateReduction = plan.Gates == 1 ? "HiddenSize" : "GateRow";
        w.Line();
        onBlock("public void BackStep(int layer, int direction, ref float da, int rows, ref float dh)",
            b => $"{rows}(ref da, GateRow, 1, rows, {gateReduction}, {at($"PackedWeightHhRows{b.Suffix}")}, {stateStride}, {stateStride}, ref dh, {stateStride}, accumulate: false);");
        w.Line();
        onBlock("public void BackProject(int layer, int direction, ref float da, int rows, ref float dx)",
            b => $"{rows}(ref da, GateRow, 1, rows, {gateReduction}, {at($"PackedWeightIhRows{b.Suffix}")}, {b.PaddedInput}, {b.PaddedInput}, ref dx, {b.PaddedInput}, accumulate: true);");
        w.Line();
        w.Line("public void WeightGrad(int layer, bool recurrent, ref float da, ref float x, int rows, ref float dw)");
        w.Line("{");
        w.Line($"    int width = recurrent ? {stateStride} : InputStride(layer);");
        w.Line($"    {rows}(ref da, 1, GateRow, GateRow, rows, ref x, width, width, ref dw, width, accumulate: true);");
        w.Line("}");
        if (spec.Projects)
        {
            w.Line();
            onBlock("public void BackProjectOutput(int layer, int direction, ref float dh, int rows, ref float dm)",
                b => $"{rows}(ref dh, PaddedState, 1, rows, ProjSize, {at($"PackedWeightHrRows{b.Suffix}")}, PaddedHidden, PaddedHidden, ref dm, PaddedHidden, accumulate: false);");
            w.Line();
            w.Line("public void ProjectionWeightGrad(ref float dh, ref float m, int rows, ref float dw) =>");
            w.Line($"    {rows}(ref dh, 1, PaddedState, ProjSize, rows, ref m, PaddedHidden, PaddedHidden, ref dw, PaddedHidden, accumulate: true);");
        }

    }

    /// <summary>
    /// Walks the column tiles and, within each, the rows: in register blocks, then one by one. One tile is straight-line
    /// code at a constant column; the last tile is too; only two or more full tiles take a loop.
    /// </summary>
    private static void EmitDispatcher(SourceWriter w, PathPlan plan, Operation op)
    {
        w.Summary(op.Summary);
        using (w.Block($"private static void {op.Name}{DispatcherParameters}"))
        {
            TilePlan tiles = op.Tiles;
            int mainTiles = tiles.MainTiles(op.Exact);
            bool hasLast = tiles.HasLastTile(op.Exact);
            string Tile(int vectors, int tail) => tail > 0
                ? $"{vectors} vector(s), the last holding {tail} of its {plan.Width} lanes"
                : $"{vectors} vector(s)";
            if (mainTiles > 1)
            {
                w.Line($"// {mainTiles} tiles of {Tile(tiles.TileVectors, 0)}.");
                using (w.Block($"for (int tile = 0; tile < {mainTiles}; tile++)"))
                {
                    w.Line($"int col = tile * {tiles.TileWidth};");
                    EmitRowBlocks(w, plan, op, tiles.TileVectors, 0, column: null);
                }
            }
            else if (mainTiles == 1)
            {
                w.Line($"// One tile of {Tile(tiles.TileVectors, 0)}.");
                using (hasLast ? w.Block("") : null)
                    EmitRowBlocks(w, plan, op, tiles.TileVectors, 0, column: 0);
            }
            if (hasLast)
            {
                int tail = op.Exact ? tiles.TailLanes : 0;
                w.Line($"// The last tile: {Tile(tiles.LastTileVectors, tail)}.");
                using (mainTiles > 0 ? w.Block("") : null)
                    EmitRowBlocks(w, plan, op, tiles.LastTileVectors, tail, column: mainTiles * tiles.TileWidth);
            }
        }
    }

    /// <summary>The row blocks of one column tile, at the constant <paramref name="column"/> or (null) the loop's <c>col</c>.</summary>
    private static void EmitRowBlocks(SourceWriter w, PathPlan plan, Operation op, int vectors, int tail, int? column)
    {
        string col = column is int c ? Format(c) : "col";
        // Column panels hold each tile's K rows together.
        string bTile = column is int c0 ? Format(c0 * op.K) : Times(op.K, "col", first: false);
        string Row(string stride) => col == "0" ? $"r * {stride}" : $"r * {stride} + {col}";
        string Call(int rows) =>
            $"{KernelName(op, vectors, tail, rows)}(ref {Unsafe}.Add(ref a, r * aStride), aStride, {At("b", bTile)}, " +
            $"ref {Unsafe}.Add(ref c0, {Row("c0Stride")}), c0Stride, ref {Unsafe}.Add(ref c, {Row("cStride")}), cStride);";
        w.Line("int r = 0;");
        if (plan.RowBlock > 1)
        {
            w.Line($"for (; r + {plan.RowBlock} <= rows; r += {plan.RowBlock})");
            w.Line("    " + Call(plan.RowBlock));
        }
        w.Line("for (; r < rows; r++)");
        w.Line("    " + Call(1));
    }

    /// <summary><paramref name="n"/> times <paramref name="value"/> as code with no arithmetic on 0 or 1: "0", the value, or the product.</summary>
    internal static string Times(int n, string value, bool first = true) =>
        n == 0 ? "0" : n == 1 ? value : first ? $"{Format(n)} * {value}" : $"{value} * {Format(n)}";

    /// <summary>A reference <paramref name="offset"/> floats past <paramref name="reference"/>: the reference itself at offset "0".</summary>
    internal static string At(string reference, string offset) =>
        offset == "0" ? $"ref {reference}" : $"ref {Unsafe}.Add(ref {reference}, {offset})";

    /// <summary>The element-offset argument of a vector load or store (with its comma), or nothing at offset 0.</summary>
    internal static string Offset(int offset) => offset == 0 ? "" : $", {Format(offset)}";

    /// <summary>The element-offset argument of a vector load or store (with its comma), or nothing at offset "0".</summary>
    internal static string Offset(string offset) => offset == "0" ? "" : $", {offset}";

    private static string Format(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void EmitKernel(SourceWriter w, PathPlan plan, Operation op, int vectors, int tail, int rows, string activation)
    {
        string v = $"RnnGenV{plan.Width * 32}", f = $"RnnGenF{plan.Width * 32}";
        int bStride = vectors * plan.Width;
        w.Summary($"{rows} row(s) x {vectors} vector(s): {op.Summary}" + (tail > 0 ? $" The last vector holds {tail} lane(s)." : ""));
        w.Line(NeverInlined);
        using (w.Block($"private static void {KernelName(op, vectors, tail, rows)}{KernelParameters}"))
        {
            for (int i = 1; i < rows; i++)
                w.Line($"ref float a{i} = {At("a", Times(i, "aStride"))};");
            for (int i = 0; i < rows; i++)
            {
                string row = At("c0", Times(i, "c0Stride"));
                w.Line($"{f} " + string.Join(", ", Enumerable.Range(0, vectors).Select(j =>
                    op.Load ? $"acc{i}{j} = {v}.LoadUnsafe({row}{Offset(j * plan.Width)})" : $"acc{i}{j} = {f}.Zero")) + ";");
            }
            // A reduction over one value is the loop's body once, straight-line (the same operations in the same order).
            bool once = op.K == 1;
            using (once ? null : w.Block($"for (int k = 0; k < {Format(op.K)}; k++)"))
            {
                for (int j = 0; j < vectors; j++)
                    w.Line($"{f} w{j} = {v}.LoadUnsafe(ref b{Offset(j * plan.Width)});");
                for (int i = 0; i < rows; i++)
                {
                    string a = i == 0 ? "a" : $"a{i}";
                    w.Line($"{(i == 0 ? $"{f} " : "")}x = {v}.Create({a});");
                    for (int j = 0; j < vectors; j++)
                        w.Line($"acc{i}{j} = {v}.MultiplyAddEstimate(x, w{j}, acc{i}{j});");
                }
                if (!once)
                {
                    for (int i = 0; i < rows; i++)
                    {
                        string a = i == 0 ? "a" : $"a{i}";
                        w.Line($"{a} = ref {Unsafe}.Add(ref {a}, 1);");
                    }
                    w.Line($"b = ref {Unsafe}.Add(ref b, {bStride});");
                }
            }
            for (int i = 0; i < rows; i++)
            {
                string row = i == 0 ? "c" : $"c{i}";
                if (i > 0)
                    w.Line($"ref float {row} = {At("c", Times(i, "cStride"))};");
                for (int j = 0; j < vectors; j++)
                {
                    if (op.Activation)
                        w.Line($"acc{i}{j} = {activation}.Invoke(acc{i}{j});");
                    if (j == vectors - 1 && tail > 0)
                        EmitPartialStore(w, $"acc{i}{j}", plan.Width, row, j * plan.Width, tail);
                    else
                        w.Line($"{v}.StoreUnsafe(acc{i}{j}, ref {row}{Offset(j * plan.Width)});");
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
            w.Line($"{type}.StoreUnsafe({vector}, ref {destination}{Offset(offset)});");
            return;
        }
        if (width == 4)
        {
            if (lanes >= 2)
                w.Line($"{Unsafe}.WriteUnaligned(ref {Unsafe}.As<float, byte>({At(destination, Format(offset))}), {type}.ToScalar({type}.AsDouble({vector})));");
            if (lanes == 1)
                w.Line($"{(offset == 0 ? destination : $"{Unsafe}.Add(ref {destination}, {Format(offset)})")} = {type}.ToScalar({vector});");
            if (lanes == 3)
                w.Line($"{Unsafe}.Add(ref {destination}, {offset + 2}) = {type}.GetElement({vector}, 2);");
            return;
        }
        int half = width / 2;
        EmitPartialStore(w, $"{type}.GetLower({vector})", half, destination, offset, System.Math.Min(lanes, half));
        if (lanes > half)
            EmitPartialStore(w, $"{type}.GetUpper({vector})", half, destination, offset + half, lanes - half);
    }

    /// <summary>The real lanes of a tile of <paramref name="width"/> lanes: its first <paramref name="tail"/> (0: all of them).</summary>
    internal static int Lanes(int width, int tail) => tail > 0 ? tail : width;

    /// <summary>
    /// A vector of <paramref name="width"/> lanes holding the first <paramref name="lanes"/> floats at
    /// <paramref name="source"/> + <paramref name="offset"/> and zeros above, read in the pieces
    /// <see cref="EmitPartialStore"/> writes (halves down to 128 bits, then a 64-bit and a 32-bit load): nothing past the
    /// row's end is read, and a row that such stores wrote is forwarded to each piece from its store. One whole-vector
    /// load over several smaller stores cannot be forwarded: it waits until they reach the cache (a streaming call
    /// that reloads the state its previous call stored paid that on its dependency chain).
    /// </summary>
    internal static string PartialLoad(int width, string source, int offset, int lanes)
    {
        string type = VectorType(width);
        if (lanes == width)
            return $"{type}.LoadUnsafe(ref {source}{Offset(offset)})";
        if (width == 4)
        {
            string pair = $"{type}.AsSingle({type}.CreateScalar({Unsafe}.ReadUnaligned<double>(ref {Unsafe}.As<float, byte>({At(source, Format(offset))}))))";
            return lanes switch
            {
                1 => $"{type}.CreateScalar({Unsafe}.Add(ref {source}, {Format(offset)}))",
                2 => pair,
                _ => $"{type}.WithElement({pair}, 2, {Unsafe}.Add(ref {source}, {Format(offset + 2)}))",
            };
        }
        int half = width / 2;
        return lanes <= half
            ? $"{type}.Create({PartialLoad(half, source, offset, lanes)}, RnnGenF{half * 32}.Zero)"
            : $"{type}.Create({VectorType(half)}.LoadUnsafe(ref {source}{Offset(offset)}), {PartialLoad(half, source, offset + half, lanes - half)})";
    }

    private static string VectorType(int width) => $"RnnGenV{width * 32}";
}

using System.Collections.Generic;

namespace RnnGen.Generator.Model;

/// <summary>
/// How one SIMD path computes a module: the vector width, the register tile and the packed-weight layout.
/// The generator chooses it per shape; the emitter writes exactly what it says.
/// </summary>
/// <remarks>
/// A kernel computes a tile of <see cref="RowBlock"/> rows by <see cref="TileVectors"/> vectors of hidden
/// units, all accumulators in registers: per input feature k it loads the tile's weights once and
/// broadcasts one value per row (acc[r][v] += W[k][v] · x[r][k]). The register budget decides the tile:
/// rows·vectors accumulators + vectors weights + 1 broadcast must fit the register file (32 zmm with
/// AVX-512; 16 ymm/xmm with AVX2/SSE, and NEON is planned like SSE).
/// </remarks>
internal sealed record PathPlan(string Name, string Vector, string KernelPathMember, int Width, int RowBlock, int MaxTileVectors, int HiddenSize, int Gates, int StateSize)
{
    /// <summary><paramref name="n"/> rounded up to whole vectors.</summary>
    public int Pad(int n) => (n + Width - 1) / Width * Width;

    /// <summary>The hidden size rounded up to whole vectors: the padded width of states and pre-activations.</summary>
    public int PaddedHidden => Pad(HiddenSize);

    /// <summary>The state size (h's features: an LSTM's ProjSize, else HiddenSize) rounded up to whole vectors: the row stride of h.</summary>
    public int PaddedState => Pad(StateSize);

    /// <summary>The column tiles over an output of <paramref name="width"/> floats (exactly <paramref name="exact"/> of them meaningful).</summary>
    public TilePlan Tiles(int width, int exact) => new(Width, System.Math.Min(MaxTileVectors, Pad(width) / Width), Pad(width), exact);

    /// <summary>The column tiles of the LSTM projection's output h: up to four vectors, written exactly StateSize wide.</summary>
    public TilePlan ProjectionTiles => new(Width, System.Math.Min(4, PaddedState / Width), PaddedState, StateSize);

    /// <summary>Column tiles for the backward products, which hold no gates: up to four vectors whatever the cell.</summary>
    public TilePlan ProductTiles(int width) => new(Width, System.Math.Min(4, Pad(width) / Width), Pad(width), width);

    /// <summary>The hidden-unit tiles: gates of the same units stay together, so a gated cell takes one vector of units per tile.</summary>
    public TilePlan UnitTiles => Tiles(HiddenSize, HiddenSize);

    /// <summary>Floats per pre-activation row: every gate of every padded unit.</summary>
    public int PreStride => Gates * PaddedHidden;

    /// <summary>
    /// Whether the last tile of units is packed at its own width, half a vector: a gated cell of three tiles or more (its
    /// step calls a kernel per tile; the block and pair kernels, which read two tiles at most, keep whole vectors) whose
    /// last tile holds at most <see cref="HalfWidth"/> units, on a path of 8 lanes or more. Its weight panels and bias then
    /// take half the bytes (Lstm(100→200) on AVX-512: 960,000 bytes of W_ih and W_hh instead of 998,400, a step that
    /// streams them from L2), its projection and products run in half vectors, and its part of a pre-activation row holds
    /// the gates <see cref="HalfWidth"/> apart; states, gate records and the update keep whole vectors.
    /// </summary>
    public bool NarrowLastTile => Gates > 1 && Width >= 8 && UnitTiles.TileCount >= 3 && UnitTiles.TailLanes is > 0 && UnitTiles.TailLanes <= HalfWidth;

    /// <summary>Lanes of half a vector: the width of a narrow last tile (<see cref="NarrowLastTile"/>).</summary>
    public int HalfWidth => Width / 2;

    /// <summary>
    /// Lanes of the vectors a step kernel's products run in for a tile with <paramref name="tail"/> real units (0: a whole
    /// tile): half a vector for a narrow last tile, else the path's width.
    /// </summary>
    public int ProductLanes(int tail) => tail > 0 && NarrowLastTile ? HalfWidth : Width;

    /// <summary>The hidden units the weight panels and the bias hold: <see cref="PaddedHidden"/>, or with a narrow last tile the hidden size rounded up to half vectors.</summary>
    public int PanelHidden => NarrowLastTile ? (HiddenSize + HalfWidth - 1) / HalfWidth * HalfWidth : PaddedHidden;

    /// <summary>Floats of packed weight panels per input, and of the packed bias: every gate of <see cref="PanelHidden"/> units.</summary>
    public int PanelRow => Gates * PanelHidden;

    /// <summary>Units in whole tiles: where a narrow last tile starts.</summary>
    public int WholeTileUnits => UnitTiles.MainTiles(exact: true) * UnitTiles.TileWidth;

    /// <summary>
    /// The column tiles of a pre-activation row: one per unit tile, each holding that tile's units of every gate.
    /// </summary>
    public TilePlan GateTiles => new(Width, Gates * UnitTiles.TileVectors, PreStride, PreStride);

    /// <summary>
    /// The packed weights (bytes) each part of a one-row step split over threads by tiles of units streams at least
    /// (<c>IRnnKernels.RowParts</c>): 384 KiB, so that a row splits only where its layer's W_ih and W_hh overflow a 1 MiB L2
    /// and each part's share fits one. Fixed when the code is generated, whatever L2 the running CPU has (Zen 4 and 5: 1 MiB
    /// per core; recent Xeons 2 MiB, where a split part stays in L2 all the more). Measured on Zen 5: one Lstm(100→200) step (998,400 bytes as then packed; 960,000 since its last tile is narrow) ran in
    /// 0.45–0.68× the time on two threads; a synthetic pass over 614,400 bytes in 0.84–1.10× (handing a part to a pool thread
    /// costs about 1 µs).
    /// </summary>
    public const int RowPartBytes = 384 * 1024;

    /// <summary>
    /// The most parts one row of a layer with <paramref name="inputColumns"/> inputs splits into: one per
    /// <see cref="RowPartBytes"/> of its packed W_ih and W_hh, at most one per tile of units (below 2: it does not split).
    /// </summary>
    public int RowParts(int inputColumns) =>
        (int)System.Math.Min(UnitTiles.TileCount, (long)(inputColumns + StateSize) * PanelRow * sizeof(float) / RowPartBytes);

    /// <summary>The three SIMD paths, widest first. Gated cells keep all gates of a tile in registers: one vector of units.</summary>
    public static IReadOnlyList<PathPlan> For(NetworkSpec spec)
    {
        int maxTile = spec.Gates > 1 ? 1 : 4;
        return new[]
        {
            new PathPlan("Avx512", "Vector512", "Avx512", 16, RowBlock: 4, maxTile, spec.HiddenSize, spec.Gates, spec.StateSize),
            new PathPlan("Avx2", "Vector256", "Avx2", 8, RowBlock: 2, maxTile, spec.HiddenSize, spec.Gates, spec.StateSize),
            new PathPlan("Vector128", "Vector128", "Vector128", 4, RowBlock: 2, maxTile, spec.HiddenSize, spec.Gates, spec.StateSize),
        };
    }
}

/// <summary>
/// The column tiles of one output: full tiles of <see cref="TileVectors"/> vectors and, when the padded width
/// is not a whole number of tiles, a narrower last tile; <see cref="TailLanes"/> says how many lanes of the
/// very last vector are real when the output is written exactly (0: all of them).
/// </summary>
internal sealed record TilePlan(int Width, int TileVectors, int PaddedWidth, int ExactWidth)
{
    public int TileWidth => TileVectors * Width;

    public int TileCount => (PaddedWidth + TileWidth - 1) / TileWidth;

    public int LastTileVectors => (PaddedWidth - (TileCount - 1) * TileWidth) / Width;

    public int TailLanes => ExactWidth % Width;

    /// <summary>Whether the last tile needs its own kernel: narrower, or (written exactly) with a partial last vector.</summary>
    public bool HasLastTile(bool exact) => LastTileVectors != TileVectors || (exact && TailLanes != 0);

    public int MainTiles(bool exact) => HasLastTile(exact) ? TileCount - 1 : TileCount;
}

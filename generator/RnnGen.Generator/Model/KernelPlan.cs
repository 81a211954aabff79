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
internal sealed record PathPlan(string Name, string Vector, string KernelPathMember, int Width, int RowBlock, int MaxTileVectors, int HiddenSize)
{
    /// <summary>The hidden size rounded up to whole vectors: the padded width of packed weights and pre-activations.</summary>
    public int PaddedHidden => (HiddenSize + Width - 1) / Width * Width;

    /// <summary>Vectors per column tile.</summary>
    public int TileVectors => System.Math.Min(MaxTileVectors, PaddedHidden / Width);

    /// <summary>Floats per column tile.</summary>
    public int TileWidth => TileVectors * Width;

    /// <summary>Column tiles over the padded hidden size.</summary>
    public int TileCount => (PaddedHidden + TileWidth - 1) / TileWidth;

    /// <summary>Vectors in the last tile (the padded hidden size need not be a whole number of tiles).</summary>
    public int LastTileVectors => (PaddedHidden - (TileCount - 1) * TileWidth) / Width;

    /// <summary>Hidden units in the last vector when the hidden size is not a whole number of vectors (else 0).</summary>
    public int TailLanes => HiddenSize % Width;

    /// <summary>The projection writes padded rows, so only a narrower last tile needs its own kernel.</summary>
    public bool ProjectHasLastTile => LastTileVectors != TileVectors;

    /// <summary>The step writes exactly the hidden size, so a tail also needs its own kernel.</summary>
    public bool StepHasLastTile => LastTileVectors != TileVectors || TailLanes != 0;

    public int ProjectMainTiles => ProjectHasLastTile ? TileCount - 1 : TileCount;

    public int StepMainTiles => StepHasLastTile ? TileCount - 1 : TileCount;

    /// <summary>The three SIMD paths, widest first.</summary>
    public static IReadOnlyList<PathPlan> For(NetworkSpec spec) => new[]
    {
        new PathPlan("Avx512", "Vector512", "Avx512", 16, RowBlock: 4, MaxTileVectors: 4, spec.HiddenSize),
        new PathPlan("Avx2", "Vector256", "Avx2", 8, RowBlock: 2, MaxTileVectors: 4, spec.HiddenSize),
        new PathPlan("Vector128", "Vector128", "Vector128", 4, RowBlock: 2, MaxTileVectors: 4, spec.HiddenSize),
    };
}

/// <summary>Where one layer-and-direction's packed matrices sit in a path's packed buffer.</summary>
internal sealed record PackedBlock(int Layer, int Direction, string Suffix, string TorchSuffix, int InputColumns, int WeightIh, int WeightHh, int Bias);

/// <summary>The packed-weight layout of one path: per block W_ihᵀ panels, W_hhᵀ panels, then the summed bias.</summary>
internal sealed record PackedLayout(IReadOnlyList<PackedBlock> Blocks, int Length)
{
    public static PackedLayout For(NetworkSpec spec, PathPlan plan)
    {
        var blocks = new List<PackedBlock>();
        int offset = 0;
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            for (int direction = 0; direction < spec.NumDirections; direction++)
            {
                string torch = spec.IsCell ? "" : $"_l{layer}" + (direction == 1 ? "_reverse" : "");
                string suffix = spec.IsCell ? "" : $"L{layer}" + (direction == 1 ? "Reverse" : "");
                int k = spec.LayerInputSize(layer);
                int wih = offset;
                int whh = wih + k * plan.PaddedHidden;
                int bias = whh + spec.HiddenSize * plan.PaddedHidden;
                offset = bias + plan.PaddedHidden;
                blocks.Add(new PackedBlock(layer, direction, suffix, torch, k, wih, whh, bias));
            }
        }
        return new PackedLayout(blocks, offset);
    }
}

using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

/// <summary>
/// Where gate g of hidden unit u sits in a row of pre-activations (and in every row laid out like one):
/// kernels keep the gates of the same hidden units together, tile by tile, so that a tile's gate math runs
/// while all its gates are in registers. A tile covers <see cref="TileWidth"/> units (the last one may be
/// narrower); within a tile, gate g's units are consecutive. With one tile (the generic kernels) this is
/// PyTorch's row order, gate blocks of <see cref="PaddedHidden"/> units.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct GateLayout(int Hidden, int PaddedHidden, int TileWidth, int Gates)
{
    /// <summary>Floats per row: every gate of every (padded) unit.</summary>
    public int RowLength => Gates * PaddedHidden;

    /// <summary>The position of gate <paramref name="gate"/> of unit <paramref name="unit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Offset(int gate, int unit)
    {
        int tileStart = unit / TileWidth * TileWidth;
        return tileStart * Gates + gate * WidthAt(tileStart) + (unit - tileStart);
    }

    /// <summary>The width of the tile starting at unit <paramref name="tileStart"/> (the last may be narrower): the distance between its gates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int WidthAt(int tileStart) => System.Math.Min(TileWidth, PaddedHidden - tileStart);

    /// <summary>How many real (unpadded) units the tile starting at <paramref name="tileStart"/> holds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int UnitsAt(int tileStart) => System.Math.Min(WidthAt(tileStart), Hidden - tileStart);

    /// <summary>The PyTorch row (gate · hidden + unit) at <paramref name="position"/>, or −1 for padding.</summary>
    public int TorchRow(int position)
    {
        int tileStart = position / (TileWidth * Gates) * TileWidth;
        int width = WidthAt(tileStart);
        int within = position - tileStart * Gates;
        int gate = within / width, unit = tileStart + within % width;
        return unit < Hidden ? gate * Hidden + unit : -1;
    }
}

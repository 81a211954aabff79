using System;
using System.ComponentModel;
using System.Diagnostics;

namespace RnnGen.__Internals;

/// <summary>
/// Copies PyTorch-layout weights into the layouts the generated kernels read. The generator decides the
/// layout (tile width, padding, where each matrix goes); these primitives only move numbers.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Packing
{
    /// <summary>
    /// Packs <paramref name="weight"/>, a row-major (gates·hidden, cols) matrix W in PyTorch's gate order, as
    /// column panels of Wᵀ in a <see cref="GateLayout"/>: hidden units are taken <paramref name="tileUnits"/> at a
    /// time (a tile; the last may be narrower); a tile's panel holds, for each input column k, the tile's
    /// units of gate 0, then of gate 1, and so on. Units from hidden up to <paramref name="paddedHidden"/> are
    /// zeros, so a kernel's last vector reads zeros rather than past the end. With one gate this is plain
    /// column panels. Tile t starts at t · tileUnits · gates · cols.
    /// </summary>
    public static void PackPanels(ReadOnlySpan<float> weight, int gates, int hidden, int cols, int paddedHidden, int tileUnits, Span<float> destination)
    {
        if (gates < 1 || hidden < 1 || cols < 1 || paddedHidden < hidden || tileUnits < 1)
            throw new ArgumentOutOfRangeException(nameof(hidden), $"Bad panel shape: gates {gates}, hidden {hidden}, cols {cols}, paddedHidden {paddedHidden}, tileUnits {tileUnits}.");
        if (weight.Length != gates * hidden * cols)
            throw new ArgumentException($"Expected {gates * hidden}x{cols} = {gates * hidden * cols} weights; got {weight.Length}.", nameof(weight));
        if (destination.Length != gates * paddedHidden * cols)
            throw new ArgumentException($"Expected room for {gates * paddedHidden}x{cols} = {gates * paddedHidden * cols} packed weights; got {destination.Length}.", nameof(destination));

        for (int tileStart = 0; tileStart < paddedHidden; tileStart += tileUnits)
        {
            int width = Math.Min(tileUnits, paddedHidden - tileStart);
            Span<float> tile = destination.Slice(tileStart * gates * cols, width * gates * cols);
            for (int k = 0; k < cols; k++)
            {
                Span<float> line = tile.Slice(k * gates * width, gates * width);
                for (int g = 0; g < gates; g++)
                {
                    for (int j = 0; j < width; j++)
                    {
                        int unit = tileStart + j;
                        line[g * width + j] = unit < hidden ? weight[(g * hidden + unit) * cols + k] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Writes <c>bias_ih + bias_hh</c> (PyTorch's gate order) into <paramref name="destination"/> in
    /// <paramref name="layout"/>'s order, zeros at the padding. Both biases enter every pre-activation, so the
    /// kernels add them once.
    /// </summary>
    /// <remarks>
    /// With <paramref name="hiddenBiasFromGate"/> set (a GRU: 2), gates from that one on get <c>bias_ih</c> only:
    /// their <c>bias_hh</c> goes inside the reset product (<see cref="PackUnits"/>).
    /// </remarks>
    public static void PackBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, in GateLayout layout, Span<float> destination, int hiddenBiasFromGate = int.MaxValue)
    {
        AssertLayout(layout);
        Debug.Assert(hiddenBiasFromGate >= 0);
        if (biasIh.Length != layout.Gates * layout.Hidden || biasHh.Length != biasIh.Length || destination.Length != layout.RowLength)
            throw new ArgumentException($"Bias lengths {biasIh.Length} and {biasHh.Length} do not fit a layout of {layout.RowLength}.", nameof(destination));
        for (int q = 0; q < destination.Length; q++)
        {
            int row = layout.TorchRow(q);
            destination[q] = row < 0 ? 0f : row / layout.Hidden >= hiddenBiasFromGate ? biasIh[row] : biasIh[row] + biasHh[row];
        }
    }

    /// <summary>Copies <paramref name="source"/> (one value per hidden unit) and zeros the padding after it.</summary>
    public static void PackUnits(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"{source.Length} values do not fit {destination.Length}.", nameof(destination));
        source.CopyTo(destination);
        destination.Slice(source.Length).Clear();
    }

    /// <summary>
    /// Copies <paramref name="weight"/>, a row-major (gates·hidden, cols) matrix in PyTorch's gate order, with its
    /// rows in <paramref name="layout"/>'s order (zero rows at the padding) and every row padded by zeros to
    /// <paramref name="paddedCols"/>: the layout the backward kernels read W in.
    /// </summary>
    public static void PackRows(ReadOnlySpan<float> weight, in GateLayout layout, int cols, int paddedCols, Span<float> destination)
    {
        AssertLayout(layout);
        if (cols < 1 || paddedCols < cols)
            throw new ArgumentOutOfRangeException(nameof(cols), $"Bad row shape: cols {cols}, paddedCols {paddedCols}.");
        if (weight.Length != layout.Gates * layout.Hidden * cols)
            throw new ArgumentException($"Expected {layout.Gates * layout.Hidden}x{cols} weights; got {weight.Length}.", nameof(weight));
        if (destination.Length != layout.RowLength * paddedCols)
            throw new ArgumentException($"Expected room for {layout.RowLength}x{paddedCols} packed weights; got {destination.Length}.", nameof(destination));
        for (int q = 0; q < layout.RowLength; q++)
        {
            Span<float> row = destination.Slice(q * paddedCols, paddedCols);
            int source = layout.TorchRow(q);
            if (source < 0)
            {
                row.Clear();
                continue;
            }
            weight.Slice(source * cols, cols).CopyTo(row);
            row.Slice(cols).Clear();
        }
    }

    /// <summary>What <see cref="GateLayout.TorchRow"/> divides by and counts on: the generator's layouts always hold.</summary>
    [Conditional("DEBUG")]
    private static void AssertLayout(in GateLayout layout) =>
        Debug.Assert(layout.Gates >= 1 && layout.Hidden >= 1 && layout.TileWidth >= 1 && layout.PaddedHidden >= layout.Hidden, $"a gate layout: {layout}");
}

using System;
using System.ComponentModel;

namespace RnnGen.Kernels;

/// <summary>
/// Copies PyTorch-layout weights into the layouts the generated kernels read. The generator decides the
/// layout (tile width, padding, where each matrix goes); these primitives only move numbers.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Packing
{
    /// <summary>
    /// Packs <paramref name="weight"/>, a row-major (<paramref name="rows"/>, <paramref name="cols"/>) matrix
    /// W, as column panels of Wᵀ: output rows are taken <paramref name="tileRows"/> at a time (a tile); within
    /// a tile, for each input column k, the tile's rows of column k are stored consecutively. Rows from
    /// <paramref name="rows"/> up to <paramref name="paddedRows"/> are zeros, so a kernel's last vector reads
    /// zeros rather than past the end. Tile t starts at t · tileRows · cols; the last tile may be narrower.
    /// </summary>
    public static void PackPanels(ReadOnlySpan<float> weight, int rows, int cols, int paddedRows, int tileRows, Span<float> destination)
    {
        if (rows < 1 || cols < 1 || paddedRows < rows || tileRows < 1)
            throw new ArgumentOutOfRangeException(nameof(rows), $"Bad panel shape: rows {rows}, cols {cols}, paddedRows {paddedRows}, tileRows {tileRows}.");
        if (weight.Length != rows * cols)
            throw new ArgumentException($"Expected {rows}x{cols} = {rows * cols} weights; got {weight.Length}.", nameof(weight));
        if (destination.Length != paddedRows * cols)
            throw new ArgumentException($"Expected room for {paddedRows}x{cols} = {paddedRows * cols} packed weights; got {destination.Length}.", nameof(destination));

        for (int tileStart = 0; tileStart < paddedRows; tileStart += tileRows)
        {
            int width = Math.Min(tileRows, paddedRows - tileStart);
            Span<float> tile = destination.Slice(tileStart * cols, width * cols);
            for (int k = 0; k < cols; k++)
            {
                Span<float> line = tile.Slice(k * width, width);
                for (int j = 0; j < width; j++)
                {
                    int row = tileStart + j;
                    line[j] = row < rows ? weight[row * cols + k] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// Writes <c>bias_ih + bias_hh</c> into <paramref name="destination"/> and zeros after them (the padding).
    /// Both biases enter every pre-activation, so the kernels add them once.
    /// </summary>
    public static void PackBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> destination)
    {
        if (biasIh.Length != biasHh.Length || destination.Length < biasIh.Length)
            throw new ArgumentException($"Bias lengths {biasIh.Length} and {biasHh.Length} do not fit a destination of {destination.Length}.", nameof(destination));
        for (int j = 0; j < biasIh.Length; j++)
            destination[j] = biasIh[j] + biasHh[j];
        destination.Slice(biasIh.Length).Clear();
    }

    /// <summary>
    /// Copies <paramref name="weight"/>, a row-major (<paramref name="rows"/>, <paramref name="cols"/>) matrix,
    /// with every row padded by zeros to <paramref name="paddedCols"/>: the layout the backward kernels read
    /// W in (a tile of a row is then whole vectors).
    /// </summary>
    public static void PackRows(ReadOnlySpan<float> weight, int rows, int cols, int paddedCols, Span<float> destination)
    {
        if (rows < 1 || cols < 1 || paddedCols < cols)
            throw new ArgumentOutOfRangeException(nameof(rows), $"Bad row shape: rows {rows}, cols {cols}, paddedCols {paddedCols}.");
        if (weight.Length != rows * cols)
            throw new ArgumentException($"Expected {rows}x{cols} = {rows * cols} weights; got {weight.Length}.", nameof(weight));
        if (destination.Length != rows * paddedCols)
            throw new ArgumentException($"Expected room for {rows}x{paddedCols} = {rows * paddedCols} packed weights; got {destination.Length}.", nameof(destination));
        for (int j = 0; j < rows; j++)
        {
            weight.Slice(j * cols, cols).CopyTo(destination.Slice(j * paddedCols, cols));
            destination.Slice(j * paddedCols + cols, paddedCols - cols).Clear();
        }
    }
}

using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

/// <summary>
/// The matrix products whose only dependence on a module's shape is a handful of sizes and strides, written once for
/// every vector width (<see cref="IVectorWidth{TVector}"/>) rather than emitted into every module: the input
/// projection and every product of the backward pass. Each computes <c>C = (C0 or 0) + A · B</c>: A is read one value at
/// a time and broadcast; B and C a tile of up to <see cref="MaxTileVectors"/> vectors at a time; rows in register
/// blocks of <see cref="IVectorWidth{TVector}.RowBlock"/>, then one by one. Accumulators sum over k in order, one fused
/// multiply-add per term, so the bits do not depend on the width's tiling.
/// </summary>
/// <remarks>
/// The register tile is a type (<see cref="IConstant"/>) so that the JIT compiles one straight kernel per tile shape,
/// with the unused accumulators removed; the kernels the generator emits are the recurrent steps, where the shape
/// decides the code (gates in registers, exact tails, constant trip counts).
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VectorProducts
{
    /// <summary>The widest column tile in vectors: four accumulators per row.</summary>
    public const int MaxTileVectors = 4;

    /// <summary>
    /// A forward product over column panels (<see cref="Packing.PackPanels"/>): for r &lt; rows,
    /// <c>c[r] = c0 + Σ_{k &lt; inputs} x[r][k] · W[k]</c> over <paramref name="width"/> floats, where tile t of
    /// <paramref name="tileVectors"/> vectors (the last may be narrower) is the panel at <c>t · tileWidth · inputs</c>,
    /// <paramref name="inputs"/> rows of the tile's width. <paramref name="c0"/> is one row (the bias), read for every row.
    /// One row with <paramref name="tilesBackward"/> takes the tiles last to first (the same bits: see
    /// <see cref="IRnnKernels.Step"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Panels<TWidth, TVector>(ref float x, nint xStride, int rows, int inputs, ref float panels, int tileVectors, int width,
        ref float c0, ref float c, nint cStride, bool tilesBackward = false)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
    {
        Debug.Assert(rows >= 0 && inputs > 0 && tileVectors is > 0 and <= MaxTileVectors && width % TWidth.Count == 0 && cStride >= width);
        // One row (a streaming step): inline here, tile by tile, no tile dispatch (measured: that dispatch, not inlined,
        // took 5% of an LstmCell(1→12) step and 10% of a GruCell(1→32) step, whose tiles are three vectors wide).
        if (rows == 1)
        {
            int tileWidth = tileVectors * TWidth.Count, whole = width / tileWidth * tileWidth;
            if (tilesBackward)
            {
                if (whole < width)
                    OneRow<TWidth, TVector>((width - whole) / TWidth.Count, ref x, inputs, ref Unsafe.Add(ref panels, whole * inputs), ref Unsafe.Add(ref c0, whole), ref Unsafe.Add(ref c, whole));
                for (int col = whole - tileWidth; col >= 0; col -= tileWidth)
                    OneRow<TWidth, TVector>(tileVectors, ref x, inputs, ref Unsafe.Add(ref panels, col * inputs), ref Unsafe.Add(ref c0, col), ref Unsafe.Add(ref c, col));
                return;
            }
            for (int col = 0; col < whole; col += tileWidth)
                OneRow<TWidth, TVector>(tileVectors, ref x, inputs, ref Unsafe.Add(ref panels, col * inputs), ref Unsafe.Add(ref c0, col), ref Unsafe.Add(ref c, col));
            if (whole < width)
                OneRow<TWidth, TVector>((width - whole) / TWidth.Count, ref x, inputs, ref Unsafe.Add(ref panels, whole * inputs), ref Unsafe.Add(ref c0, whole), ref Unsafe.Add(ref c, whole));
            return;
        }
        Tiles<TWidth, TVector>(ref x, xStride, aStep: 1, rows, inputs, ref panels, bStride: 0, panels: true, width, tileVectors, ref c0, c0Stride: 0, load: true, ref c, cStride);
    }

    /// <summary>
    /// A product over B as rows <paramref name="bStride"/> floats apart: for r &lt; rows,
    /// <c>c[r] = (c[r] or 0) + Σ_{k &lt; count} a[r · aStride + k · aStep] · b[k]</c> over <paramref name="width"/> floats
    /// (whole vectors); c keeps its value and gains the sum when <paramref name="accumulate"/>, else it is overwritten.
    /// </summary>
    public static void Rows<TWidth, TVector>(ref float a, nint aStride, nint aStep, int rows, int count, ref float b, nint bStride, int width,
        ref float c, nint cStride, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
    {
        Debug.Assert(rows >= 0 && count >= 0 && width % TWidth.Count == 0 && bStride >= width && cStride >= width);
        Tiles<TWidth, TVector>(ref a, aStride, aStep, rows, count, ref b, bStride, panels: false, width, MaxTileVectors, ref c, cStride, accumulate, ref c, cStride);
    }

    /// <summary>One row of a tile of <paramref name="vectors"/> vectors (a constant where the call inlines, so the switch folds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneRow<TWidth, TVector>(int vectors, ref float x, int inputs, ref float panel, ref float c0, ref float c)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
    {
        switch (vectors)
        {
            case 4: OneRow<TWidth, TVector, N4>(ref x, inputs, ref panel, ref c0, ref c); break;
            case 3: OneRow<TWidth, TVector, N3>(ref x, inputs, ref panel, ref c0, ref c); break;
            case 2: OneRow<TWidth, TVector, N2>(ref x, inputs, ref panel, ref c0, ref c); break;
            default: OneRow<TWidth, TVector, N1>(ref x, inputs, ref panel, ref c0, ref c); break;
        }
    }

    /// <summary>
    /// <see cref="Kernel"/> for one row of <typeparamref name="TVectors"/> vectors over a panel (rows of the tile's own
    /// width), the same operations in the same order, written out small enough for the JIT to inline into the streaming
    /// call (it does not inline the general kernel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneRow<TWidth, TVector, TVectors>(ref float x, int inputs, ref float panel, ref float c0, ref float c)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
        where TVectors : struct, IConstant
    {
        int n = TWidth.Count;
        bool v1 = TVectors.Value > 1, v2 = TVectors.Value > 2, v3 = TVectors.Value > 3;
        TVector acc0 = TWidth.Load(ref c0), acc1 = default, acc2 = default, acc3 = default;
        if (v1) acc1 = TWidth.Load(ref Unsafe.Add(ref c0, n));
        if (v2) acc2 = TWidth.Load(ref Unsafe.Add(ref c0, 2 * n));
        if (v3) acc3 = TWidth.Load(ref Unsafe.Add(ref c0, 3 * n));
        for (int k = 0; k < inputs; k++)
        {
            TVector xk = TWidth.Broadcast(Unsafe.Add(ref x, k));
            acc0 = TWidth.MultiplyAdd(xk, TWidth.Load(ref panel), acc0);
            if (v1) acc1 = TWidth.MultiplyAdd(xk, TWidth.Load(ref Unsafe.Add(ref panel, n)), acc1);
            if (v2) acc2 = TWidth.MultiplyAdd(xk, TWidth.Load(ref Unsafe.Add(ref panel, 2 * n)), acc2);
            if (v3) acc3 = TWidth.MultiplyAdd(xk, TWidth.Load(ref Unsafe.Add(ref panel, 3 * n)), acc3);
            panel = ref Unsafe.Add(ref panel, TVectors.Value * n);
        }
        TWidth.Store(acc0, ref c);
        if (v1) TWidth.Store(acc1, ref Unsafe.Add(ref c, n));
        if (v2) TWidth.Store(acc2, ref Unsafe.Add(ref c, 2 * n));
        if (v3) TWidth.Store(acc3, ref Unsafe.Add(ref c, 3 * n));
    }

    private static void Tiles<TWidth, TVector>(ref float a, nint aStride, nint aStep, int rows, int count, ref float b, nint bStride, bool panels,
        int width, int tileVectors, ref float c0, nint c0Stride, bool load, ref float c, nint cStride)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
    {
        int tileWidth = tileVectors * TWidth.Count;
        for (int col = 0; col < width; col += tileWidth)
        {
            int vectors = Math.Min(tileVectors, (width - col) / TWidth.Count);
            // A panel holds its tile's columns for every k, as rows of the tile's own width; padded rows hold the tile at its column.
            ref float bTile = ref Unsafe.Add(ref b, panels ? col * count : col);
            nint bRow = panels ? vectors * TWidth.Count : bStride;
            ref float c0Tile = ref Unsafe.Add(ref c0, col);
            ref float cTile = ref Unsafe.Add(ref c, col);
            switch (vectors)
            {
                case 4: RowBlocks<TWidth, TVector, N4>(ref a, aStride, aStep, rows, count, ref bTile, bRow, ref c0Tile, c0Stride, load, ref cTile, cStride); break;
                case 3: RowBlocks<TWidth, TVector, N3>(ref a, aStride, aStep, rows, count, ref bTile, bRow, ref c0Tile, c0Stride, load, ref cTile, cStride); break;
                case 2: RowBlocks<TWidth, TVector, N2>(ref a, aStride, aStep, rows, count, ref bTile, bRow, ref c0Tile, c0Stride, load, ref cTile, cStride); break;
                default: RowBlocks<TWidth, TVector, N1>(ref a, aStride, aStep, rows, count, ref bTile, bRow, ref c0Tile, c0Stride, load, ref cTile, cStride); break;
            }
        }
    }

    private static void RowBlocks<TWidth, TVector, TVectors>(ref float a, nint aStride, nint aStep, int rows, int count, ref float b, nint bStride,
        ref float c0, nint c0Stride, bool load, ref float c, nint cStride)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
        where TVectors : struct, IConstant
    {
        int r = 0;
        if (TWidth.RowBlock == 4)
        {
            for (; r + 4 <= rows; r += 4)
                Kernel<TWidth, TVector, N4, TVectors>(ref Unsafe.Add(ref a, r * aStride), aStride, aStep, count, ref b, bStride,
                    ref Unsafe.Add(ref c0, r * c0Stride), c0Stride, load, ref Unsafe.Add(ref c, r * cStride), cStride);
        }
        else
        {
            for (; r + 2 <= rows; r += 2)
                Kernel<TWidth, TVector, N2, TVectors>(ref Unsafe.Add(ref a, r * aStride), aStride, aStep, count, ref b, bStride,
                    ref Unsafe.Add(ref c0, r * c0Stride), c0Stride, load, ref Unsafe.Add(ref c, r * cStride), cStride);
        }
        for (; r < rows; r++)
            Kernel<TWidth, TVector, N1, TVectors>(ref Unsafe.Add(ref a, r * aStride), aStride, aStep, count, ref b, bStride,
                ref Unsafe.Add(ref c0, r * c0Stride), c0Stride, load, ref Unsafe.Add(ref c, r * cStride), cStride);
    }

    /// <summary>
    /// <typeparamref name="TRows"/> rows × <typeparamref name="TVectors"/> vectors, every accumulator in a register. The
    /// tile's sizes are constants of the instantiation: the JIT drops the accumulators and branches it does not use.
    /// </summary>
    /// <remarks>
    /// Never inlined: one function with its own registers. Inlined into its callers' loops (tier-1 code with dynamic PGO
    /// does that) its accumulators spilled, and the projection of <c>Rnn(100, 200)</c>, batch 5, ran 1.5–3× slower.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TWidth, TVector, TRows, TVectors>(ref float a, nint aStride, nint aStep, int count, ref float b, nint bStride,
        ref float c0, nint c0Stride, bool load, ref float c, nint cStride)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
        where TRows : struct, IConstant
        where TVectors : struct, IConstant
    {
        int n = TWidth.Count;
        bool r1 = TRows.Value > 1, r2 = TRows.Value > 2, r3 = TRows.Value > 3;
        bool v1 = TVectors.Value > 1, v2 = TVectors.Value > 2, v3 = TVectors.Value > 3;
        nint a1 = aStride, a2 = 2 * aStride, a3 = 3 * aStride;

        TVector acc00 = Start<TWidth, TVector>(load, ref c0, 0), acc01 = default, acc02 = default, acc03 = default;
        TVector acc10 = default, acc11 = default, acc12 = default, acc13 = default;
        TVector acc20 = default, acc21 = default, acc22 = default, acc23 = default;
        TVector acc30 = default, acc31 = default, acc32 = default, acc33 = default;
        if (v1) acc01 = Start<TWidth, TVector>(load, ref c0, n);
        if (v2) acc02 = Start<TWidth, TVector>(load, ref c0, 2 * n);
        if (v3) acc03 = Start<TWidth, TVector>(load, ref c0, 3 * n);
        if (r1)
        {
            ref float row = ref Unsafe.Add(ref c0, c0Stride);
            acc10 = Start<TWidth, TVector>(load, ref row, 0);
            if (v1) acc11 = Start<TWidth, TVector>(load, ref row, n);
            if (v2) acc12 = Start<TWidth, TVector>(load, ref row, 2 * n);
            if (v3) acc13 = Start<TWidth, TVector>(load, ref row, 3 * n);
        }
        if (r2)
        {
            ref float row = ref Unsafe.Add(ref c0, 2 * c0Stride);
            acc20 = Start<TWidth, TVector>(load, ref row, 0);
            if (v1) acc21 = Start<TWidth, TVector>(load, ref row, n);
            if (v2) acc22 = Start<TWidth, TVector>(load, ref row, 2 * n);
            if (v3) acc23 = Start<TWidth, TVector>(load, ref row, 3 * n);
        }
        if (r3)
        {
            ref float row = ref Unsafe.Add(ref c0, 3 * c0Stride);
            acc30 = Start<TWidth, TVector>(load, ref row, 0);
            if (v1) acc31 = Start<TWidth, TVector>(load, ref row, n);
            if (v2) acc32 = Start<TWidth, TVector>(load, ref row, 2 * n);
            if (v3) acc33 = Start<TWidth, TVector>(load, ref row, 3 * n);
        }

        nint ak = 0, bk = 0;
        for (int k = 0; k < count; k++)
        {
            ref float bRow = ref Unsafe.Add(ref b, bk);
            TVector w0 = TWidth.Load(ref bRow);
            TVector w1 = v1 ? TWidth.Load(ref Unsafe.Add(ref bRow, n)) : default;
            TVector w2 = v2 ? TWidth.Load(ref Unsafe.Add(ref bRow, 2 * n)) : default;
            TVector w3 = v3 ? TWidth.Load(ref Unsafe.Add(ref bRow, 3 * n)) : default;
            TVector x = TWidth.Broadcast(Unsafe.Add(ref a, ak));
            acc00 = TWidth.MultiplyAdd(x, w0, acc00);
            if (v1) acc01 = TWidth.MultiplyAdd(x, w1, acc01);
            if (v2) acc02 = TWidth.MultiplyAdd(x, w2, acc02);
            if (v3) acc03 = TWidth.MultiplyAdd(x, w3, acc03);
            if (r1)
            {
                x = TWidth.Broadcast(Unsafe.Add(ref a, a1 + ak));
                acc10 = TWidth.MultiplyAdd(x, w0, acc10);
                if (v1) acc11 = TWidth.MultiplyAdd(x, w1, acc11);
                if (v2) acc12 = TWidth.MultiplyAdd(x, w2, acc12);
                if (v3) acc13 = TWidth.MultiplyAdd(x, w3, acc13);
            }
            if (r2)
            {
                x = TWidth.Broadcast(Unsafe.Add(ref a, a2 + ak));
                acc20 = TWidth.MultiplyAdd(x, w0, acc20);
                if (v1) acc21 = TWidth.MultiplyAdd(x, w1, acc21);
                if (v2) acc22 = TWidth.MultiplyAdd(x, w2, acc22);
                if (v3) acc23 = TWidth.MultiplyAdd(x, w3, acc23);
            }
            if (r3)
            {
                x = TWidth.Broadcast(Unsafe.Add(ref a, a3 + ak));
                acc30 = TWidth.MultiplyAdd(x, w0, acc30);
                if (v1) acc31 = TWidth.MultiplyAdd(x, w1, acc31);
                if (v2) acc32 = TWidth.MultiplyAdd(x, w2, acc32);
                if (v3) acc33 = TWidth.MultiplyAdd(x, w3, acc33);
            }
            ak += aStep;
            bk += bStride;
        }

        Store<TWidth, TVector, TVectors>(ref c, acc00, acc01, acc02, acc03);
        if (r1) Store<TWidth, TVector, TVectors>(ref Unsafe.Add(ref c, cStride), acc10, acc11, acc12, acc13);
        if (r2) Store<TWidth, TVector, TVectors>(ref Unsafe.Add(ref c, 2 * cStride), acc20, acc21, acc22, acc23);
        if (r3) Store<TWidth, TVector, TVectors>(ref Unsafe.Add(ref c, 3 * cStride), acc30, acc31, acc32, acc33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Start<TWidth, TVector>(bool load, ref float row, int offset)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct =>
        load ? TWidth.Load(ref Unsafe.Add(ref row, offset)) : TWidth.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TWidth, TVector, TVectors>(ref float row, TVector v0, TVector v1, TVector v2, TVector v3)
        where TWidth : struct, IVectorWidth<TVector>
        where TVector : struct
        where TVectors : struct, IConstant
    {
        int n = TWidth.Count;
        TWidth.Store(v0, ref row);
        if (TVectors.Value > 1) TWidth.Store(v1, ref Unsafe.Add(ref row, n));
        if (TVectors.Value > 2) TWidth.Store(v2, ref Unsafe.Add(ref row, 2 * n));
        if (TVectors.Value > 3) TWidth.Store(v3, ref Unsafe.Add(ref row, 3 * n));
    }
}

/// <summary>A small integer as a type: the size of a register tile, a constant of each generic instantiation.</summary>
internal interface IConstant
{
    /// <summary>The value.</summary>
    static abstract int Value { get; }
}

internal readonly struct N1 : IConstant { public static int Value => 1; }

internal readonly struct N2 : IConstant { public static int Value => 2; }

internal readonly struct N3 : IConstant { public static int Value => 3; }

internal readonly struct N4 : IConstant { public static int Value => 4; }

using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.__Internals;

/// <summary>
/// Rows of floats a fixed distance apart, as the kernels address them: row r starts at <see cref="Start"/> +
/// r · <see cref="Stride"/>. A stride of 0 repeats one row (a row of zeros for a default state); <c>default</c> is no
/// rows at all (a null reference: a cell state an Elman or GRU step does not have). The view knows neither how many
/// rows there are nor how wide they are; whoever passes it says (a kernel's <c>rows</c> argument, the shape's widths).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly ref struct StridedRows
{
    /// <summary>The first float of row 0 (a null reference for <c>default</c>).</summary>
    public readonly ref float Start;

    /// <summary>Floats from one row's start to the next's: 0 or more.</summary>
    public readonly nint Stride;

    /// <summary>Rows from <paramref name="start"/> on, <paramref name="stride"/> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public StridedRows(ref float start, nint stride)
    {
        Debug.Assert(stride >= 0, "rows are never negative distances apart");
        Start = ref start;
        Stride = stride;
    }

    /// <summary>Whether this is <c>default</c>: no rows.</summary>
    public bool IsNone => Unsafe.IsNullRef(ref Start);

    /// <summary>The first float of row <paramref name="row"/>.</summary>
    public ref float this[int row]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.Add(ref Start, row * Stride);
    }

    /// <summary>The first <paramref name="width"/> floats of row <paramref name="row"/>; an empty span where there are no rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<float> Row(int row, int width)
    {
        Debug.Assert(row >= 0 && width >= 0);
        return IsNone ? default : MemoryMarshal.CreateSpan(ref this[row], width);
    }

    /// <summary>
    /// Rows of <paramref name="stride"/> floats in <paramref name="rows"/> from its row <paramref name="first"/> on; checks (always)
    /// that the row <paramref name="first"/> starts inside the span.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static StridedRows Of(Span<float> rows, int first, int stride) => new(ref rows[first * stride], stride);
}

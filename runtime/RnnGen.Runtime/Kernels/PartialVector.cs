using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

/// <summary>
/// Loads the first <c>count</c> floats into a vector, zeros in the other lanes, reading nothing past them:
/// the exact tail of a row that belongs to the caller (whose memory may end right there).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class PartialVector
{
    /// <summary>The first <paramref name="count"/> (1 to 3) floats at <paramref name="source"/>.</summary>
    public static Vector128<float> Load128(ref float source, int count)
    {
        Debug.Assert(count is >= 1 and < 4);
        Vector128<float> v = default;
        MemoryMarshal.CreateReadOnlySpan(ref source, count).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.As<Vector128<float>, float>(ref v), 4));
        return v;
    }

    /// <summary>The first <paramref name="count"/> (1 to 7) floats at <paramref name="source"/>.</summary>
    public static Vector256<float> Load256(ref float source, int count)
    {
        Debug.Assert(count is >= 1 and < 8);
        Vector256<float> v = default;
        MemoryMarshal.CreateReadOnlySpan(ref source, count).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.As<Vector256<float>, float>(ref v), 8));
        return v;
    }

    /// <summary>The first <paramref name="count"/> (1 to 15) floats at <paramref name="source"/>.</summary>
    public static Vector512<float> Load512(ref float source, int count)
    {
        Debug.Assert(count is >= 1 and < 16);
        Vector512<float> v = default;
        MemoryMarshal.CreateReadOnlySpan(ref source, count).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.As<Vector512<float>, float>(ref v), 16));
        return v;
    }
}

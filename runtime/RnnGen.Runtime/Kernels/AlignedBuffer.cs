using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.__Internals;

/// <summary>
/// Floats in a pinned array whose first element is 64-byte aligned (one cache line, one AVX-512 vector),
/// so that vector loads never split a cache line. Zero-filled when created.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class AlignedBuffer
{
    private const int AlignmentBytes = 64;
    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed floats.</summary>
    public unsafe AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _array = GC.AllocateArray<float>(length + AlignmentBytes / sizeof(float), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        int misalignment = (int)(address & (AlignmentBytes - 1));
        _offset = misalignment == 0 ? 0 : (AlignmentBytes - misalignment) / sizeof(float);
        Length = length;
    }

    /// <summary>The number of usable floats.</summary>
    public int Length { get; }

    /// <summary>The first float (64-byte aligned).</summary>
    public ref float Start => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), _offset);

    /// <summary>The usable floats.</summary>
    public Span<float> Span => _array.AsSpan(_offset, Length);
}

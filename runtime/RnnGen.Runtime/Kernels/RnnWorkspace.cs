using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.Kernels;

/// <summary>
/// A module's scratch memory: the pre-activations of the current layer and a row of zeros (the default
/// initial state). It grows to the largest call seen and is then reused, so steady-state calls allocate
/// nothing. Not thread-safe: one module instance serves one call at a time.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RnnWorkspace
{
    private AlignedBuffer _pre = new(0);
    private AlignedBuffer _scratch = new(0);
    private AlignedBuffer _zeros = new(0);

    /// <summary>The path the last call ran on.</summary>
    public KernelPath LastPath { get; set; }

    /// <summary>At least <paramref name="length"/> floats for pre-activations.</summary>
    public ref float Pre(int length) => ref Ensure(ref _pre, length);

    /// <summary>At least <paramref name="length"/> floats of scratch, distinct from <see cref="Pre"/>.</summary>
    public ref float Scratch(int length) => ref Ensure(ref _scratch, length);

    /// <summary>At least <paramref name="length"/> zeros.</summary>
    public ref float Zeros(int length) => ref Ensure(ref _zeros, length);

    private static ref float Ensure(ref AlignedBuffer buffer, int length)
    {
        if (buffer.Length < length)
            Grow(ref buffer, length);
        return ref buffer.Start;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Grow(ref AlignedBuffer buffer, int length) => buffer = new AlignedBuffer(length);
}

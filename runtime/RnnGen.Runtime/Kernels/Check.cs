using System;

namespace RnnGen.Kernels;

/// <summary>Argument checks shared by every module, so that all of them word their errors alike.</summary>
internal static class Check
{
    public static void Positive(int value, string name)
    {
        if (value < 1)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1; got {value}.");
    }

    /// <summary>The product of the sizes, or an <see cref="ArgumentException"/> if it cannot be a span length.</summary>
    public static int Product(string name, int a, int b, int c = 1, int d = 1)
    {
        long n = (long)a * b * c * d;
        if (n > Array.MaxLength)
            throw new ArgumentException($"{name} would need {n} floats, more than an array can hold.", name);
        return (int)n;
    }

    /// <summary>
    /// Throws for a span of the wrong length. Callers test the length first and build
    /// <paramref name="layout"/> only on this path, so a correct call allocates nothing.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void ThrowLength(string name, int actual, int expected, string layout, bool optional = false) =>
        throw new ArgumentException(
            optional
                ? $"{name} must be empty (zeros) or hold {layout} = {expected} floats; got {actual}."
                : $"{name} must hold {layout} = {expected} floats; got {actual}.",
            name);

    public static void NoOverlap(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> other, string otherName)
    {
        if (written.Overlaps(other))
            throw new ArgumentException($"{writtenName} must not overlap {otherName}.", writtenName);
    }

    /// <summary>Allows the exact same memory (state carried in place) or none in common.</summary>
    public static void SameOrDisjoint(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> other, string otherName)
    {
        if (written.Overlaps(other) && !(written.Length == other.Length && System.Runtime.CompilerServices.Unsafe.AreSame(
                ref System.Runtime.InteropServices.MemoryMarshal.GetReference(written), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(other))))
            throw new ArgumentException($"{writtenName} must be either the same memory as {otherName} or not overlap it.", writtenName);
    }
}

using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

/// <summary>
/// Argument checks shared by every module, so that all of them word their errors alike. The checks inline into
/// the hot calls; every message is built in a separate throw helper (the .NET <c>ThrowHelper</c> pattern), so a
/// correct call carries no string-building code or stack space for it.
/// </summary>
internal static class Check
{
    public static void Positive(int value, string name)
    {
        if (value < 1)
            ThrowNotPositive(value, name);
    }

    /// <summary>The product of the sizes, or an <see cref="ArgumentException"/> if it cannot be a span length.</summary>
    public static int Product(string name, int a, int b, int c = 1, int d = 1)
    {
        long n = (long)a * b * c * d;
        if (n > Array.MaxLength)
            ThrowTooLarge(name, n);
        return (int)n;
    }

    /// <summary>
    /// Throws for a span of the wrong length. Callers test the length first and build
    /// <paramref name="layout"/> only on this path, so a correct call allocates nothing.
    /// </summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowLength(string name, int actual, int expected, string layout, bool optional = false) =>
        throw new ArgumentException(
            optional
                ? $"{name} must be empty (zeros) or hold {layout} = {expected} floats; got {actual}."
                : $"{name} must hold {layout} = {expected} floats; got {actual}.",
            name);

    public static void NoOverlap(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> other, string otherName)
    {
        if (written.Overlaps(other))
            ThrowOverlap(writtenName, otherName);
    }

    /// <summary>Allows the exact same memory (state carried in place) or none in common.</summary>
    public static void SameOrDisjoint(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> other, string otherName)
    {
        if (written.Overlaps(other) && !(written.Length == other.Length && Unsafe.AreSame(
                ref System.Runtime.InteropServices.MemoryMarshal.GetReference(written), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(other))))
            ThrowNotSameOrDisjoint(writtenName, otherName);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotPositive(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1; got {value}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooLarge(string name, long n) =>
        throw new ArgumentException($"{name} would need {n} floats, more than an array can hold.", name);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOverlap(string writtenName, string otherName) =>
        throw new ArgumentException($"{writtenName} must not overlap {otherName}.", writtenName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotSameOrDisjoint(string writtenName, string otherName) =>
        throw new ArgumentException($"{writtenName} must be either the same memory as {otherName} or not overlap it.", writtenName);
}

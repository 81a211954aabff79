using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

/// <summary>relu(x) = max(x, 0); NaN stays NaN, as in PyTorch.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct ReluActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float x) => x > 0f || float.IsNaN(x) ? x : 0f;

    /// <inheritdoc/>
    /// <remarks>relu' = 1 where the output is positive, else 0 (PyTorch's choice at 0).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DerivativeFromOutput(float y) => y > 0f ? 1f : 0f;

    // MaxNative(0, x): on x86 the second operand is returned when either is NaN, so NaN propagates.

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> x) => Vector128.MaxNative(Vector128<float>.Zero, x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> x) => Vector256.MaxNative(Vector256<float>.Zero, x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> x) => Vector512.MaxNative(Vector512<float>.Zero, x);
}

using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

/// <summary>
/// One SIMD width as a type, so that a runtime kernel is written once and compiled per width (the pattern of
/// <see cref="IActivation"/>, and of TensorPrimitives' operators): the JIT specializes a generic method for each
/// struct that implements this, binds these static members directly and inlines them.
/// </summary>
/// <typeparam name="TVector">The vector type of this width.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IVectorWidth<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Rows per register block in a product kernel: as many as the register file holds with four vectors of columns.</summary>
    static abstract int RowBlock { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TVector Zero { get; }

    /// <summary>Loads <see cref="Count"/> floats.</summary>
    static abstract TVector Load(ref float source);

    /// <summary>Stores <see cref="Count"/> floats.</summary>
    static abstract void Store(TVector value, ref float destination);

    /// <summary>One value in every lane.</summary>
    static abstract TVector Broadcast(float value);

    /// <summary><c>a · b + c</c>, fused where the hardware fuses (the generated kernels' <c>MultiplyAddEstimate</c>).</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    /// <summary><c>a · b</c>, lane by lane.</summary>
    static abstract TVector Multiply(TVector a, TVector b);

    /// <summary><c>1 − x</c>, lane by lane.</summary>
    static abstract TVector OneMinus(TVector x);

    /// <summary>An activation of every lane, at this width.</summary>
    static abstract TVector Activate<TActivation>(TVector x) where TActivation : IActivation;
}

/// <summary>128-bit vectors (SSE, NEON): 4 floats, 16 registers, blocks of 2 rows.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Width128 : IVectorWidth<Vector128<float>>
{
    /// <inheritdoc/>
    public static int Count => Vector128<float>.Count;

    /// <inheritdoc/>
    public static int RowBlock => 2;

    /// <inheritdoc/>
    public static Vector128<float> Zero => Vector128<float>.Zero;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, ref float destination) => Vector128.StoreUnsafe(value, ref destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> OneMinus(Vector128<float> x) => Vector128<float>.One - x;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Activate<TActivation>(Vector128<float> x) where TActivation : IActivation => TActivation.Invoke(x);
}

/// <summary>256-bit vectors (AVX2): 8 floats, 16 registers, blocks of 2 rows.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Width256 : IVectorWidth<Vector256<float>>
{
    /// <inheritdoc/>
    public static int Count => Vector256<float>.Count;

    /// <inheritdoc/>
    public static int RowBlock => 2;

    /// <inheritdoc/>
    public static Vector256<float> Zero => Vector256<float>.Zero;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination) => Vector256.StoreUnsafe(value, ref destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> OneMinus(Vector256<float> x) => Vector256<float>.One - x;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Activate<TActivation>(Vector256<float> x) where TActivation : IActivation => TActivation.Invoke(x);
}

/// <summary>512-bit vectors (AVX-512): 16 floats, 32 registers, blocks of 4 rows.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Width512 : IVectorWidth<Vector512<float>>
{
    /// <inheritdoc/>
    public static int Count => Vector512<float>.Count;

    /// <inheritdoc/>
    public static int RowBlock => 4;

    /// <inheritdoc/>
    public static Vector512<float> Zero => Vector512<float>.Zero;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination) => Vector512.StoreUnsafe(value, ref destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.MultiplyAddEstimate(a, b, c);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> OneMinus(Vector512<float> x) => Vector512<float>.One - x;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Activate<TActivation>(Vector512<float> x) where TActivation : IActivation => TActivation.Invoke(x);
}

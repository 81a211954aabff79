namespace RnnGen;

/// <summary>The instruction-set path a module's kernels run on.</summary>
public enum KernelPath
{
    /// <summary>The runtime's generic kernels in scalar code (no SIMD hardware, or SIMD disabled).</summary>
    Scalar = 0,

    /// <summary>128-bit vectors: SSE on x86-64, NEON (AdvSimd) on ARM64.</summary>
    Vector128 = 1,

    /// <summary>256-bit vectors with fused multiply-add: AVX2 + FMA on x86-64.</summary>
    Avx2 = 2,

    /// <summary>512-bit vectors: AVX-512F on x86-64.</summary>
    Avx512 = 3,
}

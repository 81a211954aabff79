using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnGen;

/// <summary>Chooses, once per process, which <see cref="KernelPath"/> every module runs.</summary>
/// <remarks>
/// The widest path the hardware supports is chosen: AVX-512F, then AVX2 with FMA, then 128-bit vectors,
/// then scalar code. The runtime's switches narrow it as usual (<c>DOTNET_EnableAVX512=0</c>,
/// <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_EnableHWIntrinsic=0</c>). The environment variable
/// <c>RNNGEN_KERNEL_PATH</c> (<c>Avx512</c>, <c>Avx2</c>, <c>Vector128</c> or <c>Scalar</c>) forces a path; a
/// path wider than the hardware then runs in the runtime's software emulation of those vectors: correct
/// but slow, meant for testing a path on a machine that lacks it. A value that names no path makes every
/// module constructor throw <see cref="InvalidOperationException"/> with the accepted values (the process
/// keeps running; <see cref="Path"/> then stays the hardware's). Because the choice is a
/// <c>static readonly</c> field, the JIT folds the dispatch and each process runs one straight path.
/// </remarks>
public static class Simd
{
    /// <summary>The name of the environment variable that forces a path.</summary>
    public const string OverrideVariable = "RNNGEN_KERNEL_PATH";

    // Read once; a bad value is reported by module constructors (ThrowIfOverrideInvalid), never by this type's initializer.
    private static readonly string? s_override = Environment.GetEnvironmentVariable(OverrideVariable);

    /// <summary>The path every module runs in this process.</summary>
    public static readonly KernelPath Path = TryChoose(s_override, out KernelPath path) ? path : HardwarePath;

    /// <summary>The widest path this hardware (as the runtime's switches leave it) runs natively.</summary>
    public static KernelPath HardwarePath
    {
        get
        {
            if (Avx512F.IsSupported)
                return KernelPath.Avx512;
            if (Avx2.IsSupported && Fma.IsSupported)
                return KernelPath.Avx2;
            if (Vector128.IsHardwareAccelerated)
                return KernelPath.Vector128;
            return KernelPath.Scalar;
        }
    }

    /// <summary>Whether <see cref="Path"/> runs in software emulation (forced wider than the hardware).</summary>
    public static bool IsEmulated => Path > HardwarePath;

    /// <summary>Throws <see cref="InvalidOperationException"/> when <c>RNNGEN_KERNEL_PATH</c> names no path.</summary>
    internal static void ThrowIfOverrideInvalid()
    {
        if (!TryChoose(s_override, out _))
            throw InvalidOverride(s_override);
    }

    private static InvalidOperationException InvalidOverride(string? forced) => new(
        $"{OverrideVariable}='{forced}' is not a kernel path; use one of {string.Join(", ", Enum.GetNames<KernelPath>())}, or unset it.");

    /// <summary>The path <paramref name="forced"/> asks for: the hardware's when it is empty; false when it names no path.</summary>
    internal static bool TryChoose(string? forced, out KernelPath path)
    {
        if (string.IsNullOrWhiteSpace(forced))
        {
            path = HardwarePath;
            return true;
        }
        if (Enum.TryParse(forced.Trim(), ignoreCase: true, out path) && Enum.IsDefined(path))
            return true;
        path = HardwarePath;
        return false;
    }
}

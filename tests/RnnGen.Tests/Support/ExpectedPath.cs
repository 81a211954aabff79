using System;
using System.IO;
using System.Linq;

namespace RnnGen.Tests.Support;

/// <summary>
/// Which kernel path a module must run, worked out independently of the runtime's own detection: from
/// the CPU's flags in /proc/cpuinfo and the DOTNET_* / RNNGEN_KERNEL_PATH switches in the environment.
/// A path that silently fell back to another would fail the tests that compare with this.
/// </summary>
internal static class ExpectedPath
{
    public static KernelPath Get()
    {
        string? forced = Environment.GetEnvironmentVariable(Simd.OverrideVariable);
        if (!string.IsNullOrWhiteSpace(forced))
            return Enum.Parse<KernelPath>(forced, ignoreCase: true);
        if (Disabled("DOTNET_EnableHWIntrinsic"))
            return KernelPath.Scalar;

        string[] flags = CpuFlags();
        bool avx512 = flags.Contains("avx512f") && !Disabled("DOTNET_EnableAVX512");
        bool avx2 = flags.Contains("avx2") && flags.Contains("fma") && !Disabled("DOTNET_EnableAVX2");
        if (avx512 && avx2)
            return KernelPath.Avx512;
        if (avx2)
            return KernelPath.Avx2;
        return KernelPath.Vector128; // every x86-64 has SSE2; ARM64 has NEON
    }

    /// <summary>A short description of the environment, for test output.</summary>
    public static string Describe() =>
        $"expected path {Get()}; {Simd.OverrideVariable}={Environment.GetEnvironmentVariable(Simd.OverrideVariable) ?? "(unset)"}, " +
        string.Join(", ", new[] { "DOTNET_EnableAVX512", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic" }
            .Select(n => $"{n}={Environment.GetEnvironmentVariable(n) ?? "(unset)"}"));

    private static bool Disabled(string variable) => Environment.GetEnvironmentVariable(variable) == "0";

    private static string[] CpuFlags()
    {
        if (!File.Exists("/proc/cpuinfo"))
            throw new PlatformNotSupportedException("ExpectedPath reads /proc/cpuinfo; run the path tests on Linux x86-64.");
        string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        return line is null ? Array.Empty<string>() : line.Substring(line.IndexOf(':') + 1).Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}

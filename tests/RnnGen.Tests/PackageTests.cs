using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// A newcomer's path, end to end: pack RnnGen into a temporary folder feed, build tests/PackageConsumer (copied out
/// of the repository, so nothing of ours is imported) with only a PackageReference and warnings as errors, run it,
/// and publish it with NativeAOT with and without an instruction set. What it prints is compared with the same
/// Workload.cs run in this process (built by the repository's generator against the repository's runtime).
/// </summary>
[TestFixture]
[Category("Package")]
[NonParallelizable]
public class PackageTests
{
    private string _work = "";
    private string _app = "";
    private string _version = "";
    private Dictionary<string, float[]> _expected = new();

    [OneTimeSetUp]
    public void PackAndBuildTheConsumer()
    {
        string root = DotnetCli.RepositoryRoot();
        _work = Directory.CreateTempSubdirectory("rnngen-package-").FullName;
        _version = typeof(ParameterSet).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        string feed = Path.Combine(_work, "feed");
        DotnetCli.Dotnet(root, "pack", Path.Combine(root, "runtime", "RnnGen.Runtime", "RnnGen.Runtime.csproj"), "-c", "Release", "-o", feed)
            .Succeeded("dotnet pack");
        Assert.That(File.Exists(Path.Combine(feed, $"RnnGen.{_version}.nupkg")), $"RnnGen.{_version}.nupkg in the feed");

        _app = Path.Combine(_work, "app");
        Directory.CreateDirectory(_app);
        foreach (string file in Directory.GetFiles(Path.Combine(root, "tests", "PackageConsumer")))
            File.Copy(file, Path.Combine(_app, Path.GetFileName(file)));
        // A packages folder of its own: the package just packed is extracted fresh, never taken from a cache. Only the
        // sources named here (no machine-wide ones), and RnnGen only from the local feed: never a package of that name
        // from nuget.org, which still serves everything else (the NativeAOT compiler, runtime packs).
        File.WriteAllText(Path.Combine(_app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_work, "packages")}" /></config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="RnnGen" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);

        _expected = PackageConsumer.Workload.Run().ToDictionary(r => r.Name, r => r.Values);
    }

    [OneTimeTearDown]
    public void RemoveTheWorkFolder()
    {
        if (Directory.Exists(_work))
            Directory.Delete(_work, recursive: true);
    }

    [Test]
    public void BuildsWithoutWarningsAndPrintsWhatTheTestsComputeInProcess()
    {
        DotnetCli.Result build = DotnetCli.Dotnet(_app, "build", "-c", "Release", $"-p:RnnGenVersion={_version}", "-warnaserror", "-clp:NoSummary")
            .Succeeded("dotnet build of the consumer");
        Assert.That(build.Output, Does.Not.Contain("warning"));

        string dll = Path.Combine(_app, "bin", "Release", "net10.0", "PackageConsumer.dll");
        Printed printed = Parse(DotnetCli.Run("dotnet", _app, null, dll).Succeeded("the consumer"));

        Assert.That(printed.Path, Is.EqualTo(Simd.Path), "the consumer runs this process's path");
        Assert.That(printed.Values.Keys, Is.EquivalentTo(_expected.Keys));
        foreach ((string name, float[] expected) in _expected)
            Assert.That(printed.Values[name], Is.EqualTo(expected), $"{name}: the same kernels on the same path give the same bits");
    }

    [Test]
    public void NativeAotWithoutAnInstructionSetWarnsOnceAndRunsTheBaselineKernels()
    {
        DotnetCli.Result publish = Publish("aot-baseline");
        string[] warnings = WarningLines(publish);
        Assert.That(warnings, Has.Length.EqualTo(1), () => string.Join('\n', warnings));
        Assert.That(warnings[0], Does.Contain("warning RNNG1001").And.Contain("IlcInstructionSet"));

        Printed printed = Parse(DotnetCli.Run(Path.Combine(_app, "aot-baseline", "PackageConsumer"), _app, null).Succeeded("the AOT binary"));
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64 && Simd.HardwarePath >= KernelPath.Vector128)
            Assert.That(printed.Path, Is.EqualTo(KernelPath.Vector128), "baseline x86-64 has SSE only");
        AssertCloseToInProcess(printed);
    }

    [Test]
    public void NativeAotWithIlcInstructionSetNativeRunsTheWidestPathWithoutWarnings()
    {
        DotnetCli.Result publish = Publish("aot-native", "-p:IlcInstructionSet=native");
        Assert.That(WarningLines(publish), Is.Empty, "no trim, AOT or RnnGen warnings");

        Printed printed = Parse(DotnetCli.Run(Path.Combine(_app, "aot-native", "PackageConsumer"), _app, null).Succeeded("the AOT binary"));
        Assert.That(printed.Path, Is.EqualTo(Simd.HardwarePath), "the path this CPU supports");
        AssertCloseToInProcess(printed);
    }

    [Test]
    public void ABadKernelPathOverrideIsAClearErrorFromTheModuleNotATypeInitializerFailure()
    {
        string dll = Path.Combine(_app, "bin", "Release", "net10.0", "PackageConsumer.dll");
        if (!File.Exists(dll))
            DotnetCli.Dotnet(_app, "build", "-c", "Release", $"-p:RnnGenVersion={_version}").Succeeded("dotnet build of the consumer");
        DotnetCli.Result run = DotnetCli.Run("dotnet", _app, new Dictionary<string, string> { ["RNNGEN_KERNEL_PATH"] = "Avx1024" }, dll);
        Assert.That(run.ExitCode, Is.Not.Zero);
        Assert.That(run.Error, Does.Contain("System.InvalidOperationException: RNNGEN_KERNEL_PATH='Avx1024' is not a kernel path; use one of Scalar, Vector128, Avx2, Avx512"));
        Assert.That(run.Error, Does.Not.Contain("TypeInitializationException"));
    }

    private DotnetCli.Result Publish(string output, params string[] extra) =>
        DotnetCli.Dotnet(_app, new[] { "publish", "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "-p:PublishAot=true",
                $"-p:RnnGenVersion={_version}", "-clp:NoSummary", "-o", output }.Concat(extra).ToArray())
            .Succeeded("dotnet publish -p:PublishAot=true " + string.Join(' ', extra));

    private static string[] WarningLines(DotnetCli.Result result) =>
        result.All.Split('\n').Where(line => line.Contains("warning", StringComparison.OrdinalIgnoreCase)).Distinct().ToArray();

    private void AssertCloseToInProcess(Printed printed)
    {
        Assert.That(printed.Values.Keys, Is.EquivalentTo(_expected.Keys));
        foreach ((string name, float[] expected) in _expected.Where(e => e.Key != "Paths"))
            Numerics.AssertClose(printed.Values[name], expected, name);
    }

    private sealed record Printed(KernelPath Path, Dictionary<string, float[]> Values);

    private static Printed Parse(DotnetCli.Result run)
    {
        string[] lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines[0], Does.StartWith("path "));
        var values = new Dictionary<string, float[]>();
        foreach (string line in lines.Skip(1))
        {
            string[] parts = line.Split(' ');
            values[parts[0]] = parts.Skip(1).Select(p => float.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        }
        return new Printed(Enum.Parse<KernelPath>(lines[0]["path ".Length..]), values);
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using NUnit.Framework;

namespace RnnGen.Tests.Support;

/// <summary>Runs the dotnet CLI (or a built program) as a child process and returns what it printed.</summary>
internal static class DotnetCli
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }

    /// <summary>The repository root: the first directory upwards from the test assembly that holds RnnGen.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RnnGen.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("RnnGen.sln not found above " + TestContext.CurrentContext.TestDirectory);
    }

    public static Result Dotnet(string workingDirectory, params string[] arguments) => Run("dotnet", workingDirectory, null, arguments);

    public static Result Run(string fileName, string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        // No build servers or MSBuild nodes outlive the call; no first-run banners in the output.
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        if (environment is not null)
            foreach ((string key, string value) in environment)
                start.Environment[key] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName);
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', arguments)} did not finish in 10 minutes");
        }
        var result = new Result(process.ExitCode, output.Result, error.Result);
        TestContext.Out.WriteLine($"$ {fileName} {string.Join(' ', arguments)}  -> exit {result.ExitCode}");
        return result;
    }

    /// <summary>Asserts a zero exit code, showing everything the command printed otherwise.</summary>
    public static Result Succeeded(this Result result, string what)
    {
        Assert.That(result.ExitCode, Is.Zero, () => $"{what} failed:\n{result.All}");
        return result;
    }
}

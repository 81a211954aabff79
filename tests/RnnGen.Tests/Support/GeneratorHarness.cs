using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RnnGen.Generator;

namespace RnnGen.Tests.Support;

/// <summary>Runs the RnnGen generator in-process on source text, and compiles and loads the result.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<MetadataReference[]> s_references = new(() =>
    {
        string tpa = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        return tpa.Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(RnnAttribute).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray();
    });

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public static CSharpCompilation CreateCompilation(string source, string assemblyName = "RnnGenTestInput") =>
        CSharpCompilation.Create(
            assemblyName,
            new[] { CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Input.cs") },
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new RnnGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the compilation with the generated files and the run result.</summary>
    public static (Compilation Output, GeneratorDriverRunResult Result) Run(string source)
    {
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(CreateCompilation(source), out Compilation output, out _);
        return (output, driver.GetRunResult());
    }

    /// <summary>The diagnostics the generator reported (not the compiler's).</summary>
    public static ImmutableArray<Diagnostic> GeneratorDiagnostics(string source) => Run(source).Result.Diagnostics;

    /// <summary>The compiler's errors on the generated output (nothing when the generated code is valid).</summary>
    public static IReadOnlyList<Diagnostic> CompileErrors(Compilation output) =>
        output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>Generates, compiles and loads <paramref name="source"/> into a collectible context.</summary>
    public static Assembly CompileAndLoad(string source, string assemblyName)
    {
        (Compilation output, GeneratorDriverRunResult result) = Run(source);
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            throw new InvalidOperationException("Generator errors:\n" + string.Join("\n", result.Diagnostics));
        using var stream = new MemoryStream();
        var emit = output.WithAssemblyName(assemblyName).Emit(stream);
        if (!emit.Success)
            throw new InvalidOperationException("Compile errors:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
        stream.Position = 0;
        return new AssemblyLoadContext(assemblyName, isCollectible: true).LoadFromStream(stream);
    }
}

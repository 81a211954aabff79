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

    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText>? additionalFiles = null, string? projectDirectory = null) =>
        CSharpGeneratorDriver.Create(
            new[] { new RnnGenerator().AsSourceGenerator() },
            additionalTexts: additionalFiles,
            parseOptions: ParseOptions,
            optionsProvider: projectDirectory is null ? null : new BuildProperties(new Dictionary<string, string> { ["build_property.MSBuildProjectDirectory"] = projectDirectory }),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the compilation with the generated files and the run result.</summary>
    public static (Compilation Output, GeneratorDriverRunResult Result) Run(string source, IEnumerable<AdditionalText>? additionalFiles = null, string? projectDirectory = null)
    {
        GeneratorDriver driver = CreateDriver(additionalFiles, projectDirectory).RunGeneratorsAndUpdateCompilation(CreateCompilation(source), out Compilation output, out _);
        return (output, driver.GetRunResult());
    }

    /// <summary>
    /// An additional file on disk, as the compiler passes one: a path. Its text is never wanted (a safetensors file is binary,
    /// and the command-line compiler would report CS2015 for it if anything asked), so asking for it fails the test.
    /// </summary>
    public sealed class BinaryFile(string path) : AdditionalText
    {
        public override string Path { get; } = path;

        public override Microsoft.CodeAnalysis.Text.SourceText GetText(System.Threading.CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException($"The generator asked for the text of the binary additional file {Path}.");
    }

    /// <summary>build_property.* values as MSBuild hands them to analyzers (CompilerVisibleProperty).</summary>
    private sealed class BuildProperties(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
    {
        private readonly Options _options = new(values);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions => _options;

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
        {
            public static Options Empty { get; } = new(new Dictionary<string, string>());

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }

    /// <summary>The diagnostics the generator reported (not the compiler's).</summary>
    public static ImmutableArray<Diagnostic> GeneratorDiagnostics(string source) => Run(source).Result.Diagnostics;

    /// <summary>The compiler's errors on the generated output (nothing when the generated code is valid).</summary>
    public static IReadOnlyList<Diagnostic> CompileErrors(Compilation output) =>
        output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>Generates, compiles and loads <paramref name="source"/> into a collectible context.</summary>
    public static Assembly CompileAndLoad(string source, string assemblyName, IEnumerable<AdditionalText>? additionalFiles = null, string? projectDirectory = null)
    {
        (Compilation output, GeneratorDriverRunResult result) = Run(source, additionalFiles, projectDirectory);
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

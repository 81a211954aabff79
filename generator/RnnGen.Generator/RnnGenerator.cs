using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RnnGen.Generator.Emit;
using RnnGen.Generator.Model;
using RnnGen.Generator.Parsing;

namespace RnnGen.Generator;

/// <summary>
/// The pipeline: each RnnGen attribute is found with <c>ForAttributeWithMetadataName</c>, parsed into an
/// equatable <see cref="ParseResult"/>, and then reported (diagnostics) and emitted (one file per type).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class RnnGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Every *.safetensors additional file, read and validated once per version of the file: an unchanged file keeps
        // its value (equal by content), so only the modules that bake a changed file see a change.
        IncrementalValueProvider<ImmutableArray<WeightsFile>> weightsFiles = context.AdditionalTextsProvider
            .Where(static text => WeightsBaker.IsWeightsFile(text.Path))
            .Select(static (text, ct) => WeightsBaker.Read(text.Path, ct))
            .WithTrackingName(TrackingNames.WeightsFiles)
            .Collect();
        IncrementalValueProvider<string?> projectDirectory = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.MSBuildProjectDirectory", out string? directory) ? directory : null);
        IncrementalValueProvider<(ImmutableArray<WeightsFile> Files, string? ProjectDirectory)> weights = weightsFiles.Combine(projectDirectory);

        foreach ((string metadataName, ModuleKind kind, string trackingName) in SpecParser.ModuleAttributes)
        {
            IncrementalValuesProvider<ParseResult> results = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    metadataName,
                    static (node, _) => node is TypeDeclarationSyntax,
                    (ctx, ct) => SpecParser.Parse(ctx, kind, ct))
                .WithTrackingName(trackingName);
            Register(context, results, weights);
        }

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> orphans = context.SyntaxProvider
            .ForAttributeWithMetadataName(SpecParser.WeightsAttribute, static (node, _) => node is TypeDeclarationSyntax, SpecParser.ParseOrphanWeights)
            .Where(static d => d.Count > 0)
            .WithTrackingName(TrackingNames.WeightsParse);
        context.RegisterSourceOutput(orphans, ReportAll);
    }

    private static void Register(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<ParseResult> results,
        IncrementalValueProvider<(ImmutableArray<WeightsFile> Files, string? ProjectDirectory)> weights)
    {
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
            .Select(static (r, _) => r.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, ReportAll);

        IncrementalValuesProvider<NetworkSpec> specs = results
            .Where(static r => r.Spec is not null && r.Spec.Weights is null)
            .Select(static (r, _) => r.Spec!)
            .WithTrackingName(TrackingNames.Specs);
        context.RegisterSourceOutput(specs, static (spc, spec) =>
            spc.AddSource($"{spec.FullName}.RnnGen.g.cs", ModuleEmitter.Emit(spec)));

        // [Weights]: match and check the file, then emit the module (which depends on the spec only, so new weights leave
        // its kernels cached) and, beside it, the weights.
        IncrementalValuesProvider<BakeResult> baked = results
            .Where(static r => r.Spec?.Weights is not null)
            .Combine(weights)
            .Select(static (input, ct) => WeightsBaker.Bake(input.Left, input.Right.Files, input.Right.ProjectDirectory, ct))
            .WithTrackingName(TrackingNames.Bake);
        context.RegisterSourceOutput(baked.Select(static (b, _) => b.Diagnostics).Where(static d => d.Count > 0), ReportAll);
        IncrementalValuesProvider<NetworkSpec> bakedSpecs = baked
            .Where(static b => b.Spec is not null)
            .Select(static (b, _) => b.Spec!)
            .WithTrackingName(TrackingNames.BakedSpecs);
        context.RegisterSourceOutput(bakedSpecs, static (spc, spec) =>
            spc.AddSource($"{spec.FullName}.RnnGen.g.cs", ModuleEmitter.Emit(spec)));
        IncrementalValuesProvider<BakedModule> bakedWeights = baked
            .Where(static b => b.Spec is not null)
            .Select(static (b, _) => new BakedModule(b.Spec!, b.Weights))
            .WithTrackingName(TrackingNames.BakedWeights);
        context.RegisterSourceOutput(bakedWeights, static (spc, module) =>
            spc.AddSource($"{module.Spec.FullName}.RnnGen.Weights.g.cs", WeightsEmitter.Emit(module.Spec, module.Weights)));
    }

    private static void ReportAll(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (DiagnosticInfo info in diagnostics)
            context.ReportDiagnostic(info.ToDiagnostic());
    }
}

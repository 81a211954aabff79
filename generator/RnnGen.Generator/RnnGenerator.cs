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
        foreach ((string metadataName, ModuleKind kind, string trackingName) in SpecParser.ModuleAttributes)
        {
            IncrementalValuesProvider<ParseResult> results = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    metadataName,
                    static (node, _) => node is TypeDeclarationSyntax,
                    (ctx, ct) => SpecParser.Parse(ctx, kind, ct))
                .WithTrackingName(trackingName);
            Register(context, results);
        }
    }

    private static void Register(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<ParseResult> results)
    {
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
            .Select(static (r, _) => r.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (DiagnosticInfo info in list)
                spc.ReportDiagnostic(info.ToDiagnostic());
        });

        IncrementalValuesProvider<NetworkSpec> specs = results
            .Where(static r => r.Spec is not null)
            .Select(static (r, _) => r.Spec!)
            .WithTrackingName(TrackingNames.Specs);
        context.RegisterSourceOutput(specs, static (spc, spec) =>
            spc.AddSource($"{spec.FullName}.RnnGen.g.cs", ModuleEmitter.Emit(spec)));
    }
}

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
        IncrementalValuesProvider<ParseResult> rnn = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                SpecParser.RnnAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => SpecParser.Parse(ctx, ModuleKind.Rnn, ct))
            .WithTrackingName(TrackingNames.RnnParse);

        IncrementalValuesProvider<ParseResult> cell = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                SpecParser.RnnCellAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => SpecParser.Parse(ctx, ModuleKind.RnnCell, ct))
            .WithTrackingName(TrackingNames.RnnCellParse);

        IncrementalValuesProvider<ParseResult> lstm = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                SpecParser.LstmAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => SpecParser.Parse(ctx, ModuleKind.Lstm, ct))
            .WithTrackingName(TrackingNames.LstmParse);

        IncrementalValuesProvider<ParseResult> lstmCell = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                SpecParser.LstmCellAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => SpecParser.Parse(ctx, ModuleKind.LstmCell, ct))
            .WithTrackingName(TrackingNames.LstmCellParse);

        Register(context, rnn);
        Register(context, cell);
        Register(context, lstm);
        Register(context, lstmCell);
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

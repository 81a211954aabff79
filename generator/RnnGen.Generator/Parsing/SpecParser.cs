using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Parsing;

/// <summary>
/// Turns one RnnGen attribute on one type into a <see cref="NetworkSpec"/> and the diagnostics it deserves.
/// Half-typed code (missing arguments, unresolved values) yields nothing: the compiler reports it already.
/// </summary>
internal static class SpecParser
{
    public const string RnnAttribute = "RnnGen.RnnAttribute";
    public const string RnnCellAttribute = "RnnGen.RnnCellAttribute";
    public const string LstmAttribute = "RnnGen.LstmAttribute";
    public const string LstmCellAttribute = "RnnGen.LstmCellAttribute";
    public const string GruAttribute = "RnnGen.GruAttribute";
    public const string GruCellAttribute = "RnnGen.GruCellAttribute";
    public const string WeightsAttribute = "RnnGen.WeightsAttribute";

    /// <summary>Every attribute that makes a type a module, with its kind; a type may carry only one.</summary>
    public static readonly (string MetadataName, ModuleKind Kind, string TrackingName)[] ModuleAttributes =
    {
        (RnnAttribute, ModuleKind.Rnn, TrackingNames.RnnParse),
        (RnnCellAttribute, ModuleKind.RnnCell, TrackingNames.RnnCellParse),
        (LstmAttribute, ModuleKind.Lstm, TrackingNames.LstmParse),
        (LstmCellAttribute, ModuleKind.LstmCell, TrackingNames.LstmCellParse),
        (GruAttribute, ModuleKind.Gru, TrackingNames.GruParse),
        (GruCellAttribute, ModuleKind.GruCell, TrackingNames.GruCellParse),
    };

    /// <summary>Array.MaxLength: the most floats one parameter buffer can hold.</summary>
    private const long MaxArrayLength = 0x7FFFFFC7;

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, ModuleKind kind, CancellationToken cancellationToken)
    {
        var empty = new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty);
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax node
            || context.Attributes.Length == 0 || type.TypeKind != TypeKind.Class)
            return empty;

        AttributeData attribute = context.Attributes[0];
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        string attributeName = kind.ToString();
        Location typeLocation = node.Identifier.GetLocation();
        Location attributeLocation = attributeSyntax?.GetLocation() ?? typeLocation;
        var diagnostics = new List<DiagnosticInfo>();

        // One module per type. Both parses see the clash; the first attribute in source order reports it.
        AttributeData[] modules = type.GetAttributes().Where(a => IsModuleAttribute(a.AttributeClass)).ToArray();
        if (modules.Length > 1)
        {
            if (SymbolEqualityComparer.Default.Equals(modules[0].AttributeClass, attribute.AttributeClass))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SeveralModules, typeLocation,
                    type.Name, ShortName(modules[0]), ShortName(modules[1])));
            }
            return new ParseResult(null, diagnostics.ToEquatableArray());
        }

        if (attribute.ConstructorArguments.Length != 2
            || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error || a.Value is not int))
            return empty;
        int inputSize = (int)attribute.ConstructorArguments[0].Value!;
        int hiddenSize = (int)attribute.ConstructorArguments[1].Value!;

        int numLayers = 1, activation = 0, projSize = 0;
        bool bias = true, batchFirst = false, bidirectional = false, training = true;
        double dropout = 0;
        foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
        {
            if (named.Value.Kind == TypedConstantKind.Error || named.Value.Value is null)
                return empty;
            object value = named.Value.Value;
            switch (named.Key)
            {
                case "NumLayers" when value is int n: numLayers = n; break;
                case "Nonlinearity" when value is int a: activation = a; break;
                case "Bias" when value is bool b: bias = b; break;
                case "BatchFirst" when value is bool b: batchFirst = b; break;
                case "Bidirectional" when value is bool b: bidirectional = b; break;
                case "Dropout": dropout = Convert.ToDouble(value, CultureInfo.InvariantCulture); break;
                case "ProjSize" when value is int n: projSize = n; break;
                case "Training" when value is bool b: training = b; break;
                default: return empty;
            }
        }

        // The declaration itself.
        if (!node.Modifiers.Any(SyntaxKind.PartialKeyword))
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NotPartial, typeLocation, type.Name, attributeName, KeywordOf(node)));
        if (type.IsStatic)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.StaticType, typeLocation, type.Name, attributeName));
        if (type.TypeParameters.Length > 0)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.GenericType, typeLocation, type.Name, attributeName));

        var containing = new List<ContainingType>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            var outerNode = outer.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as TypeDeclarationSyntax;
            if (outer.TypeParameters.Length > 0)
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NestedInGeneric, typeLocation, type.Name, attributeName, outer.Name));
            if (outerNode is null)
                return empty;
            if (!outer.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax t && t.Modifiers.Any(SyntaxKind.PartialKeyword)))
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ContainingNotPartial, typeLocation, type.Name, outer.Name));
            containing.Insert(0, new ContainingType(KeywordOf(outerNode), outer.Name));
        }

        // The shape.
        if (inputSize < 1)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SizeNotPositive, ArgumentLocation(attributeSyntax, "inputSize", 0) ?? attributeLocation, "inputSize", Format(inputSize), attributeName));
        if (hiddenSize < 1)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SizeNotPositive, ArgumentLocation(attributeSyntax, "hiddenSize", 1) ?? attributeLocation, "hiddenSize", Format(hiddenSize), attributeName));
        if (numLayers < 1)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.LayersNotPositive, ArgumentLocation(attributeSyntax, "NumLayers", -1) ?? attributeLocation, Format(numLayers)));
        if (!(dropout >= 0 && dropout < 1))
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DropoutOutOfRange, ArgumentLocation(attributeSyntax, "Dropout", -1) ?? attributeLocation, Format(dropout)));
        if (projSize < 0 || (projSize > 0 && projSize >= hiddenSize))
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ProjSizeOutOfRange, ArgumentLocation(attributeSyntax, "ProjSize", -1) ?? attributeLocation, Format(projSize), Format(hiddenSize)));
        if (activation is not (0 or 1))
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnknownNonlinearity, ArgumentLocation(attributeSyntax, "Nonlinearity", -1) ?? attributeLocation, Format(activation)));
        if (inputSize >= 1 && hiddenSize >= 1 && numLayers >= 1)
        {
            // The largest buffer a module keeps: its packed weights at the widest padding (the layout the emitter writes).
            var shape = new NetworkSpec(null, type.Name, "class", EquatableArray<ContainingType>.Empty, kind, inputSize, hiddenSize,
                kind is ModuleKind.RnnCell or ModuleKind.LstmCell or ModuleKind.GruCell ? 1 : numLayers, bidirectional, bias, batchFirst, dropout,
                ActivationKind.Tanh, projSize > 0 && projSize < hiddenSize ? projSize : 0, Training: training);
            long values = PackedLayout.FloatsOf(shape, PathPlan.For(shape)[0]);
            if (values > MaxArrayLength)
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.TooLarge, attributeLocation, Format(values), Format(MaxArrayLength)));
        }
        if (diagnostics.Count == 0 && dropout > 0 && numLayers == 1)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DropoutWithOneLayer, ArgumentLocation(attributeSyntax, "Dropout", -1) ?? attributeLocation, Format(dropout)));
        else if (diagnostics.Count == 0 && dropout > 0 && !training)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DropoutWithoutTraining, ArgumentLocation(attributeSyntax, "Dropout", -1) ?? attributeLocation, Format(dropout)));

        // [Weights(file, Prefix = ...)]: only recorded here; the file is matched and checked in the bake step.
        WeightsRequest? weights = null;
        LocationInfo? weightsLocation = null;
        AttributeData? weightsAttribute = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == WeightsAttribute);
        if (weightsAttribute is not null)
        {
            if (weightsAttribute.ConstructorArguments.Length != 1 || weightsAttribute.ConstructorArguments[0].Kind == TypedConstantKind.Error)
                return empty;
            string prefix = "";
            foreach (KeyValuePair<string, TypedConstant> named in weightsAttribute.NamedArguments)
            {
                if (named.Key != "Prefix" || named.Value.Kind == TypedConstantKind.Error)
                    return empty;
                prefix = named.Value.Value as string ?? "";
            }
            weights = new WeightsRequest(weightsAttribute.ConstructorArguments[0].Value as string ?? "", prefix);
            weightsLocation = LocationInfo.From(weightsAttribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? attributeLocation);
        }

        bool hasErrors = diagnostics.Any(d => Diagnostics.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error);
        NetworkSpec? spec = hasErrors ? null : new NetworkSpec(
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            KeywordOf(node),
            containing.ToEquatableArray(),
            kind,
            inputSize,
            hiddenSize,
            numLayers,
            bidirectional,
            bias,
            batchFirst,
            dropout,
            (ActivationKind)activation,
            projSize,
            weights,
            training);
        return new ParseResult(spec, diagnostics.ToEquatableArray(), weightsLocation);
    }

    /// <summary>[Weights] on a type without a module attribute: nothing to load into (RNNG0020).</summary>
    public static EquatableArray<DiagnosticInfo> ParseOrphanWeights(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax node || context.Attributes.Length == 0
            || type.GetAttributes().Any(a => IsModuleAttribute(a.AttributeClass)))
            return EquatableArray<DiagnosticInfo>.Empty;
        Location location = context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? node.Identifier.GetLocation();
        return new EquatableArray<DiagnosticInfo>(new[] { DiagnosticInfo.Create(Diagnostics.WeightsWithoutModule, location, type.Name) });
    }

    private static bool IsModuleAttribute(INamedTypeSymbol? attributeClass) =>
        attributeClass is not null && Array.Exists(ModuleAttributes, a => a.MetadataName == attributeClass.ToDisplayString());

    private static string ShortName(AttributeData attribute)
    {
        string name = attribute.AttributeClass?.Name ?? "?";
        return name.EndsWith("Attribute", StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }

    private static string KeywordOf(TypeDeclarationSyntax node) => node switch
    {
        RecordDeclarationSyntax r => r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
        _ => node.Keyword.ValueText,
    };

    /// <summary>The location of an argument given by name (<c>name:</c> or <c>Name =</c>) or by position.</summary>
    private static Location? ArgumentLocation(AttributeSyntax? attribute, string name, int position)
    {
        if (attribute?.ArgumentList is null)
            return null;
        SeparatedSyntaxList<AttributeArgumentSyntax> arguments = attribute.ArgumentList.Arguments;
        foreach (AttributeArgumentSyntax argument in arguments)
        {
            if (argument.NameEquals?.Name.Identifier.ValueText == name || argument.NameColon?.Name.Identifier.ValueText == name)
                return argument.GetLocation();
        }
        return position >= 0 && position < arguments.Count && arguments[position].NameEquals is null && arguments[position].NameColon is null
            ? arguments[position].GetLocation()
            : null;
    }

    private static string Format(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);
}

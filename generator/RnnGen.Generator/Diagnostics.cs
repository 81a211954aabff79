using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace RnnGen.Generator;

/// <summary>Every diagnostic the generator reports: what is wrong and what to write instead.</summary>
internal static class Diagnostics
{
    private const string Category = "RnnGen";

    public static readonly DiagnosticDescriptor SizeNotPositive = new(
        "RNNG0001", "Size must be positive",
        "{0} is {1}, but a recurrent module needs at least one feature; write a positive {0}, for example [{2}(inputSize: 1, hiddenSize: 32)]",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor LayersNotPositive = new(
        "RNNG0002", "NumLayers must be at least 1",
        "NumLayers is {0}; write NumLayers = 1 or more (PyTorch's num_layers), or leave it out for one layer",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DropoutOutOfRange = new(
        "RNNG0003", "Dropout must be in [0, 1)",
        "Dropout is {0}; write a probability from 0 (inclusive) to 1 (exclusive), such as Dropout = 0.2, or leave it out for none",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotPartial = new(
        "RNNG0004", "Annotated type must be partial",
        "'{0}' carries [{1}] but is not partial, so RnnGen cannot add its kernels; declare it as 'partial {2} {0}'",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericType = new(
        "RNNG0005", "Annotated type must not be generic",
        "'{0}' carries [{1}] but is generic; RnnGen sizes a module at compile time, so declare a non-generic partial class (wrap it in a generic type of your own if needed)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NestedInGeneric = new(
        "RNNG0006", "Annotated type must not be nested in a generic type",
        "'{0}' carries [{1}] but is nested inside the generic type '{2}'; move it to a non-generic type or to a namespace",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SeveralModules = new(
        "RNNG0007", "One RnnGen attribute per type",
        "'{0}' carries both [{1}] and [{2}]; a type is one module, so keep one attribute and declare the other module on another partial class",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DropoutWithOneLayer = new(
        "RNNG0008", "Dropout has no effect with one layer",
        "Dropout = {0} with NumLayers = 1 has no effect: dropout applies between layers only (PyTorch warns likewise); set NumLayers > 1 or remove Dropout",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownNonlinearity = new(
        "RNNG0009", "Unknown nonlinearity",
        "Nonlinearity is {0}, which is neither Tanh nor Relu; write Nonlinearity = Nonlinearity.Tanh or Nonlinearity.Relu",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TooLarge = new(
        "RNNG0010", "Module too large",
        "This module would hold {0} parameter values, more than one .NET array can hold ({1}); reduce inputSize, hiddenSize or NumLayers",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ContainingNotPartial = new(
        "RNNG0011", "Containing type must be partial",
        "'{0}' is nested inside '{1}', which is not partial, so RnnGen cannot add members to '{0}'; declare '{1}' as partial",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor StaticType = new(
        "RNNG0012", "Annotated type must not be static",
        "'{0}' carries [{1}] but is static; a module holds parameters and state, so remove 'static'",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ProjSizeOutOfRange = new(
        "RNNG0013", "ProjSize must be in [0, hiddenSize)",
        "ProjSize is {0} but must be 0 (no projection) or between 1 and hiddenSize - 1 ({1} - 1), as in PyTorch; write a smaller ProjSize or leave it out",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightsFileNotFound = new(
        "RNNG0014", "Weights file is not among AdditionalFiles",
        "[Weights(\"{0}\")]: {1}; add <AdditionalFiles Include=\"{0}\" /> to the project file (RnnGen bakes AdditionalFiles named *.safetensors, found by their path relative to the project directory, or by file name when only one matches)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightsFileMalformed = new(
        "RNNG0015", "Weights file is not valid safetensors",
        "'{0}' is not a valid safetensors file: {1}; save it with safetensors.torch.save_file(model.state_dict(), ...) or RnnGen's SafetensorsFile.Write",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightsKeysMismatch = new(
        "RNNG0016", "Weights file keys do not match the module",
        "'{0}' does not hold the parameters of [{1}] with Prefix \"{2}\" (strict, as load_state_dict): {3}; {4}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightsShapeMismatch = new(
        "RNNG0017", "Weights file shape disagrees with the declaration",
        "{0} in '{1}' is {2} but [{3}] needs {4}: {5}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightsDtypeUnsupported = new(
        "RNNG0018", "Weights file has an unsupported dtype",
        "In '{0}', {1}, but RnnGen bakes F32, F16, BF16 and F64 (converted to float32 as tensor.float() does); save the model as floating point, for example save_file({{k: v.float() for k, v in model.state_dict().items()}}, ...)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightsLarge = new(
        "RNNG0019", "Large weights baked into the assembly",
        "[Weights(\"{0}\")] bakes {1} MB of float32 into the assembly, more than {2} MB: the build slows down and the assembly grows by as much; for a model this size load the file at run time with Parameters.LoadSafetensors(path, prefix) instead, or suppress RNNG0019 to keep it baked",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightsWithoutModule = new(
        "RNNG0020", "[Weights] needs a module attribute",
        "'{0}' carries [Weights] but no module attribute, so there is nothing to load the weights into; add the module it holds, such as [Lstm(1, 32)], beside [Weights]",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DropoutWithoutTraining = new(
        "RNNG0021", "Dropout has no effect on an inference-only module",
        "Dropout = {0} with Training = false has no effect: dropout applies in training forwards only, and this module has none; remove Dropout, or Training = false to train the module",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static IReadOnlyList<DiagnosticDescriptor> All { get; } = new[]
    {
        SizeNotPositive, LayersNotPositive, DropoutOutOfRange, NotPartial, GenericType, NestedInGeneric,
        SeveralModules, DropoutWithOneLayer, UnknownNonlinearity, TooLarge, ContainingNotPartial, StaticType,
        ProjSizeOutOfRange, WeightsFileNotFound, WeightsFileMalformed, WeightsKeysMismatch, WeightsShapeMismatch,
        WeightsDtypeUnsupported, WeightsLarge, WeightsWithoutModule, DropoutWithoutTraining,
    };

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => s_byId[id];
}

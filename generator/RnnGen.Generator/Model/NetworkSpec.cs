using System;
using System.Collections.Generic;

namespace RnnGen.Generator.Model;

/// <summary>Which PyTorch module an annotated type becomes.</summary>
internal enum ModuleKind
{
    Rnn,
    RnnCell,
    Lstm,
    LstmCell,
    Gru,
    GruCell,
}

/// <summary>The non-linearity, mirroring <c>RnnGen.Nonlinearity</c> (the generator does not reference the runtime).</summary>
internal enum ActivationKind
{
    Tanh = 0,
    Relu = 1,
}

/// <summary>A type that contains the annotated type, outermost first: it must be re-declared as partial.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// Everything the emitter needs to know about one annotated type, as plain values: equal specs produce
/// equal source, which is what lets the incremental pipeline cache.
/// </summary>
internal sealed record NetworkSpec(
    string? Namespace,
    string TypeName,
    string Keyword,
    EquatableArray<ContainingType> ContainingTypes,
    ModuleKind Kind,
    int InputSize,
    int HiddenSize,
    int NumLayers,
    bool Bidirectional,
    bool Bias,
    bool BatchFirst,
    double Dropout,
    ActivationKind Activation,
    int ProjSize = 0,
    WeightsRequest? Weights = null,
    bool Training = true)
{
    /// <summary>Features of h (output and recurrent input): the LSTM's ProjSize when it projects, else HiddenSize.</summary>
    public int StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>The generated constant that holds <see cref="StateSize"/>.</summary>
    public string StateSizeName => Projects ? "ProjSize" : "HiddenSize";

    /// <summary>Whether an LSTM projects h with weight_hr.</summary>
    public bool Projects => ProjSize > 0;

    public int NumDirections => Bidirectional ? 2 : 1;

    public bool IsCell => Kind is ModuleKind.RnnCell or ModuleKind.LstmCell or ModuleKind.GruCell;

    public bool IsLstm => Kind is ModuleKind.Lstm or ModuleKind.LstmCell;

    public bool IsGru => Kind is ModuleKind.Gru or ModuleKind.GruCell;

    /// <summary>Whether this is an Elman RNN (the kind with a choice of non-linearity).</summary>
    public bool IsElman => Kind is ModuleKind.Rnn or ModuleKind.RnnCell;

    /// <summary>Gates per hidden unit: 1 (Elman), 3 (GRU: r, z, n) or 4 (LSTM: i, f, g, o).</summary>
    public int Gates => GatesOf(Kind);

    /// <summary>Gates per hidden unit of a module kind (the one place that maps kinds to gate counts).</summary>
    public static int GatesOf(ModuleKind kind) => kind switch
    {
        ModuleKind.Lstm or ModuleKind.LstmCell => 4,
        ModuleKind.Gru or ModuleKind.GruCell => 3,
        _ => 1,
    };

    /// <summary>The fully qualified metadata-style name, used for the hint name.</summary>
    public string FullName
    {
        get
        {
            string nested = string.Join(".", Array.ConvertAll(ContainingTypes.AsSpan().ToArray(), t => t.Name));
            string prefix = Namespace is null ? "" : Namespace + ".";
            return prefix + (nested.Length > 0 ? nested + "." : "") + TypeName;
        }
    }

    /// <summary>Features per input row of <paramref name="layer"/>.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : NumDirections * StateSize;

    /// <summary>
    /// The names and shapes of PyTorch's <c>named_parameters()</c>, in its order: the runtime's <c>RnnShape.ParameterLayout()</c>
    /// (the generator does not reference the runtime; the baked-weights tests check the two agree).
    /// </summary>
    public List<(string Name, int[] Shape)> ParameterLayout()
    {
        var list = new List<(string, int[])>();
        for (int layer = 0; layer < (IsCell ? 1 : NumLayers); layer++)
        {
            for (int direction = 0; direction < NumDirections; direction++)
            {
                string suffix = IsCell ? "" : $"_l{layer}" + (direction == 1 ? "_reverse" : "");
                int gateRows = Gates * HiddenSize;
                list.Add(("weight_ih" + suffix, new[] { gateRows, LayerInputSize(layer) }));
                list.Add(("weight_hh" + suffix, new[] { gateRows, StateSize }));
                if (Bias)
                {
                    list.Add(("bias_ih" + suffix, new[] { gateRows }));
                    list.Add(("bias_hh" + suffix, new[] { gateRows }));
                }
                if (Projects)
                    list.Add(("weight_hr" + suffix, new[] { ProjSize, HiddenSize }));
            }
        }
        return list;
    }
}

/// <summary>What <c>[Weights(file, Prefix = ...)]</c> asks for: the file as written, and the key prefix.</summary>
internal sealed record WeightsRequest(string File, string Prefix);

using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace RnnGen.__Internals;

/// <summary>
/// The sizes and layout flags of a recurrent module, everything its parameters and buffers follow from.
/// A cell is a one-layer, one-direction shape whose parameters drop the <c>_l0</c> suffix.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public readonly record struct RnnShape
{
    /// <summary>
    /// Describes a module; throws <see cref="ArgumentOutOfRangeException"/> for sizes below 1, and for a
    /// <paramref name="projSize"/> outside [0, hiddenSize) or given to anything but an LSTM sequence module.
    /// </summary>
    public RnnShape(int inputSize, int hiddenSize, int numLayers = 1, bool bidirectional = false, bool bias = true, bool batchFirst = false, bool isCell = false, int gateCount = 1,
        int projSize = 0)
    {
        if (gateCount is not (1 or 3 or 4))
            throw new ArgumentOutOfRangeException(nameof(gateCount), gateCount, "gateCount is 1 (RNN), 3 (GRU) or 4 (LSTM).");
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLayers, 1);
        if (isCell && (numLayers != 1 || bidirectional || batchFirst))
            throw new ArgumentException("A cell has one layer, one direction and no batch-first layout.", nameof(isCell));
        if (projSize < 0 || projSize >= hiddenSize)
            throw new ArgumentOutOfRangeException(nameof(projSize), projSize, $"projSize must be 0 (no projection) or between 1 and hiddenSize - 1 ({hiddenSize} - 1), as in PyTorch.");
        if (projSize > 0 && (isCell || gateCount != 4))
            throw new ArgumentException("Only an LSTM sequence module has a projection (proj_size), as in PyTorch.", nameof(projSize));
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        NumDirections = bidirectional ? 2 : 1;
        Bias = bias;
        BatchFirst = batchFirst;
        IsCell = isCell;
        GateCount = gateCount;
        ProjSize = projSize;
    }

    /// <summary>An LSTM's <c>proj_size</c>: 0, or the size h is projected to by <c>weight_hr</c> (c keeps <see cref="HiddenSize"/>).</summary>
    public int ProjSize { get; }

    /// <summary>Features of h, the state that is output and fed back: <see cref="ProjSize"/> when projecting, else <see cref="HiddenSize"/>.</summary>
    public int StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>Gates per hidden unit: 1 for an Elman RNN, 3 for a GRU (r, z, n), 4 for an LSTM (i, f, g, o).</summary>
    public int GateCount { get; }

    /// <summary>Features per input row.</summary>
    public int InputSize { get; }

    /// <summary>Features of the hidden state.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    public int NumDirections { get; }

    /// <summary>Whether the module has <c>bias_ih</c> and <c>bias_hh</c>.</summary>
    public bool Bias { get; }

    /// <summary>Whether input and output are (batch, seq, feature) rather than (seq, batch, feature).</summary>
    public bool BatchFirst { get; }

    /// <summary>Whether this is a cell (<c>weight_ih</c> rather than <c>weight_ih_l0</c>).</summary>
    public bool IsCell { get; }

    /// <summary>Features per output row: the state size times the directions.</summary>
    public int OutputSize => NumDirections * StateSize;

    /// <summary>Features per input row of <paramref name="layer"/>: the input size, then the previous layer's output.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;

    /// <summary>Parameters per layer and direction: weight_ih, weight_hh, the two biases if any, and weight_hr if projecting.</summary>
    public int ParametersPerBlock => (Bias ? 4 : 2) + (ProjSize > 0 ? 1 : 0);

    // The index, in named_parameters() order, of each parameter of a layer and direction: its block starts with
    // weight_ih, then weight_hh, bias_ih and bias_hh (with Bias), then weight_hr (with a projection); ParameterLayout
    // lists them in this order.

    /// <summary>The index of <c>weight_ih</c> of a layer and direction (the first of its parameters).</summary>
    public int WeightIhIndex(int layer, int direction)
    {
        Debug.Assert(layer >= 0 && layer < NumLayers && direction >= 0 && direction < NumDirections);
        return (layer * NumDirections + direction) * ParametersPerBlock;
    }

    /// <summary>The index of <c>weight_hh</c> of a layer and direction.</summary>
    public int WeightHhIndex(int layer, int direction) => WeightIhIndex(layer, direction) + 1;

    /// <summary>The index of <c>bias_ih</c> of a layer and direction (with <see cref="Bias"/>).</summary>
    public int BiasIhIndex(int layer, int direction)
    {
        Debug.Assert(Bias, "a shape without bias has no bias_ih");
        return WeightIhIndex(layer, direction) + 2;
    }

    /// <summary>The index of <c>bias_hh</c> of a layer and direction (with <see cref="Bias"/>).</summary>
    public int BiasHhIndex(int layer, int direction)
    {
        Debug.Assert(Bias, "a shape without bias has no bias_hh");
        return WeightIhIndex(layer, direction) + 3;
    }

    /// <summary>The index of <c>weight_hr</c> of a layer and direction (with a projection: <see cref="ProjSize"/> above 0).</summary>
    public int WeightHrIndex(int layer, int direction)
    {
        Debug.Assert(ProjSize > 0, "a shape without projection has no weight_hr");
        return WeightIhIndex(layer, direction) + ParametersPerBlock - 1;
    }

    /// <summary>The names and shapes PyTorch's <c>named_parameters()</c> lists for this shape, in its order.</summary>
    public IReadOnlyList<(string Name, int[] Shape)> ParameterLayout()
    {
        var list = new List<(string, int[])>(NumLayers * NumDirections * ParametersPerBlock);
        for (int layer = 0; layer < NumLayers; layer++)
        {
            for (int direction = 0; direction < NumDirections; direction++)
            {
                string suffix = IsCell ? "" : $"_l{layer}" + (direction == 1 ? "_reverse" : "");
                int gateRows = GateCount * HiddenSize;
                list.Add(("weight_ih" + suffix, [gateRows, LayerInputSize(layer)]));
                list.Add(("weight_hh" + suffix, [gateRows, StateSize]));
                if (Bias)
                {
                    list.Add(("bias_ih" + suffix, [gateRows]));
                    list.Add(("bias_hh" + suffix, [gateRows]));
                }
                if (ProjSize > 0)
                    list.Add(("weight_hr" + suffix, [ProjSize, HiddenSize]));
            }
        }
        return list;
    }

    /// <summary>
    /// New parameters for this shape, every value from U(-1/sqrt(hidden_size), +1/sqrt(hidden_size)) as in
    /// PyTorch, drawn from <paramref name="seed"/>.
    /// </summary>
    public ParameterSet CreateParameters(int seed)
    {
        var parameters = new ParameterSet(ParameterLayout());
        parameters.InitUniform(seed, 1f / MathF.Sqrt(HiddenSize));
        return parameters;
    }

    /// <summary>
    /// New parameters for this shape holding <paramref name="weightBits"/>: the bit pattern of every float32 of every parameter,
    /// back to back in <c>named_parameters()</c> order, row-major (the exact contents of the parameter buffer). Generated modules
    /// with <c>[Weights]</c> call this with the data the generator baked into the assembly.
    /// </summary>
    /// <exception cref="ArgumentException">The count is not the parameters' total length.</exception>
    public ParameterSet CreateParameters(ReadOnlySpan<uint> weightBits)
    {
        var parameters = new ParameterSet(ParameterLayout());
        if (weightBits.Length != parameters.TotalLength)
            throw new ArgumentException($"Baked weights hold {weightBits.Length} values; this shape has {parameters.TotalLength}.", nameof(weightBits));
        // Bit patterns to floats: the same on any byte order (the data is stored as uint constants).
        System.Runtime.InteropServices.MemoryMarshal.Cast<uint, float>(weightBits).CopyTo(parameters.AsSpan());
        return parameters;
    }
}

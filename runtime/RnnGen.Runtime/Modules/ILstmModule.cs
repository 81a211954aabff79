using System;

namespace RnnGen;

/// <summary>
/// A sequence module with <c>torch.nn.LSTM</c>'s forward and backward: what every generated <c>[Lstm]</c> class
/// and <see cref="Dynamic.Lstm"/> implement.
/// </summary>
public interface ILstmModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the cell state c (and of h, unless <see cref="ProjSize"/> is set).</summary>
    int HiddenSize { get; }

    /// <summary>PyTorch's <c>proj_size</c>: 0, or the features of h (and of the output) after the projection <c>weight_hr</c>.</summary>
    int ProjSize { get; }

    /// <summary>Stacked layers.</summary>
    int NumLayers { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    int NumDirections { get; }

    /// <summary>Whether input and output are (batch, seq, feature).</summary>
    bool BatchFirst { get; }

    /// <summary>PyTorch's <c>dropout</c> between layers, applied by training forwards only.</summary>
    double Dropout { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c> (gate rows i, f, g, o; weight_hr last in each layer and direction).</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, laid out like <see cref="Parameters"/>; they accumulate like <c>.grad</c>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/>.</summary>
    void ZeroGrad();

    /// <summary>Restarts the dropout masks' random sequence from <paramref name="seed"/>.</summary>
    void SeedDropout(int seed);

    /// <summary>
    /// Runs the module over a sequence, with <see cref="IRnnModule.Forward"/>'s layouts, plus the cell states
    /// <paramref name="cN"/> and <paramref name="c0"/> (layers·D, batch, hidden); empty initial states mean zeros,
    /// and each may be the same memory as its final state. With a projection, output, h0 and hN have
    /// <see cref="ProjSize"/> features where they would have <see cref="HiddenSize"/>, as in PyTorch.
    /// </summary>
    void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, bool training = false);

    /// <summary>Backpropagation through time over the last training forward, as <see cref="IRnnModule.Backward"/>, with the cell states' gradients.</summary>
    void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, ReadOnlySpan<float> gradCn, Span<float> gradInput, Span<float> gradH0, Span<float> gradC0);
}

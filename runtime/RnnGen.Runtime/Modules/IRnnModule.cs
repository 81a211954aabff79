using System;

namespace RnnGen;

/// <summary>
/// A sequence module with <c>torch.nn.RNN</c>'s (and <c>torch.nn.GRU</c>'s) forward and backward: what every
/// generated <c>[Rnn]</c> and <c>[Gru]</c> class, <see cref="Dynamic.Rnn"/> and <see cref="Dynamic.Gru"/> implement.
/// </summary>
public interface IRnnModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the hidden state.</summary>
    int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    int NumLayers { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    int NumDirections { get; }

    /// <summary>Whether input and output are (batch, seq, feature).</summary>
    bool BatchFirst { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c>.</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, with the same names, order and shapes as <see cref="Parameters"/>; they accumulate like <c>.grad</c>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>PyTorch's <c>dropout</c> between layers, applied by training forwards only.</summary>
    double Dropout { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/> (PyTorch's <c>zero_grad()</c>).</summary>
    void ZeroGrad();

    /// <summary>Restarts the dropout masks' random sequence from <paramref name="seed"/>.</summary>
    void SeedDropout(int seed);

    /// <summary>
    /// Runs the module over a sequence. <paramref name="input"/>: (seq, batch, input), or (batch, seq, input)
    /// when batch-first. <paramref name="output"/>: (seq, batch, D·hidden), or batch-first likewise, with
    /// the directions side by side. <paramref name="hN"/> and <paramref name="h0"/>: (layers·D, batch,
    /// hidden), never batch-first; an empty <paramref name="h0"/> means zeros, and <paramref name="h0"/> may
    /// be the same memory as <paramref name="hN"/>. With <paramref name="training"/>, the call also records what
    /// <see cref="Backward"/> needs and drops out the inputs of layers above the first with probability
    /// <see cref="Dropout"/>. Allocates nothing once the workspace has grown to the call.
    /// </summary>
    /// <exception cref="ArgumentException">A length, seqLen or batch is wrong, or buffers overlap; nothing was written.</exception>
    void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0 = default, bool training = false);

    /// <summary>
    /// Backpropagation through time over the last training forward: adds every parameter's gradient into
    /// <see cref="Gradients"/> and writes the gradients at the input and at h0, in the forward's layouts.
    /// Empty <paramref name="gradOutput"/> / <paramref name="gradHn"/> mean zeros; empty
    /// <paramref name="gradInput"/> / <paramref name="gradH0"/> mean "not needed" and skip that work. The
    /// recording is kept, so Backward may run again on it (like <c>retain_graph=True</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No training forward preceded, a later Forward had another seqLen or batch, or the parameters changed since.</exception>
    /// <exception cref="ArgumentException">A length is wrong or buffers overlap; nothing was written.</exception>
    void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0);
}

using System;

namespace RnnGen;

/// <summary>
/// A cell with <c>torch.nn.RNNCell</c>'s (and <c>torch.nn.GRUCell</c>'s) forward and backward: what every generated
/// <c>[RnnCell]</c> and <c>[GruCell]</c> class, <see cref="Dynamic.RnnCell"/> and <see cref="Dynamic.GruCell"/> implement.
/// </summary>
public interface IRnnCellModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the hidden state.</summary>
    int HiddenSize { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c>.</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, with the same names, order and shapes as <see cref="Parameters"/>; they accumulate like <c>.grad</c>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/> (PyTorch's <c>zero_grad()</c>).</summary>
    void ZeroGrad();

    /// <summary>
    /// One step: <paramref name="input"/> (batch, input), <paramref name="hx"/> and <paramref name="hNext"/>
    /// (batch, hidden). An empty <paramref name="hx"/> means zeros; <paramref name="hx"/> may be the same
    /// memory as <paramref name="hNext"/>. With <paramref name="training"/>, the call also records what
    /// <see cref="Backward"/> needs. Allocates nothing once the workspace has grown to the call.
    /// </summary>
    /// <exception cref="ArgumentException">A length or batch is wrong, or buffers overlap; nothing was written.</exception>
    void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training = false);

    /// <summary>
    /// Backward through the last training forward: adds every parameter's gradient into <see cref="Gradients"/>
    /// and writes the gradients at the input and at hx. Empty <paramref name="gradHNext"/> means zeros; empty
    /// <paramref name="gradInput"/> / <paramref name="gradHx"/> mean "not needed".
    /// </summary>
    /// <exception cref="InvalidOperationException">No training forward preceded, a later Forward had another batch, or the parameters changed since.</exception>
    void Backward(ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx);
}

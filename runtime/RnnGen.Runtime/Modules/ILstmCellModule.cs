using System;

namespace RnnGen;

/// <summary>A cell with <c>torch.nn.LSTMCell</c>'s forward and backward.</summary>
public interface ILstmCellModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the hidden and cell states.</summary>
    int HiddenSize { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c>.</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, laid out like <see cref="Parameters"/>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/>.</summary>
    void ZeroGrad();

    /// <summary>
    /// One step: <paramref name="input"/> (batch, input); <paramref name="hx"/>, <paramref name="cx"/>,
    /// <paramref name="hNext"/>, <paramref name="cNext"/> (batch, hidden). Empty hx / cx mean zeros, and each may be
    /// the same memory as its next state.
    /// </summary>
    void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, ReadOnlySpan<float> cx, Span<float> hNext, Span<float> cNext, bool training = false);

    /// <summary>Backward through the last training forward.</summary>
    void Backward(ReadOnlySpan<float> gradHNext, ReadOnlySpan<float> gradCNext, Span<float> gradInput, Span<float> gradHx, Span<float> gradCx);
}

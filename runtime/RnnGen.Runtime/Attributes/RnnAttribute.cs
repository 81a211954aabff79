using System;

namespace RnnGen;

/// <summary>
/// Generates a multi-layer Elman RNN with PyTorch's <c>torch.nn.RNN</c> semantics, sized at compile time: the
/// members <c>InputSize</c>, <c>HiddenSize</c>, <c>NumLayers</c>, <c>NumDirections</c>, <c>Parameters</c>,
/// <c>Forward</c>, <c>Backward</c> and the kernels.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnAttribute : SequenceModuleAttribute
{
    /// <summary>Declares an RNN with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public RnnAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>PyTorch's <c>nonlinearity</c> (default <see cref="RnnGen.Nonlinearity.Tanh"/>).</summary>
    public Nonlinearity Nonlinearity { get; set; } = Nonlinearity.Tanh;
}

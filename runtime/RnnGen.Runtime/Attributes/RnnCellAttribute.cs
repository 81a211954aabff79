using System;

namespace RnnGen;

/// <summary>Generates an Elman RNN cell with PyTorch's <c>torch.nn.RNNCell</c> semantics, sized at compile time.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnCellAttribute : RecurrentModuleAttribute
{
    /// <summary>Declares a cell with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public RnnCellAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>PyTorch's <c>nonlinearity</c> (default <see cref="RnnGen.Nonlinearity.Tanh"/>).</summary>
    public Nonlinearity Nonlinearity { get; set; } = Nonlinearity.Tanh;
}

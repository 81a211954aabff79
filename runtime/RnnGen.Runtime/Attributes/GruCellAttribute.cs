using System;

namespace RnnGen;

/// <summary>Generates a GRU cell with PyTorch's <c>torch.nn.GRUCell</c> semantics, sized at compile time.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GruCellAttribute : RecurrentModuleAttribute
{
    /// <summary>Declares a cell with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public GruCellAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }
}

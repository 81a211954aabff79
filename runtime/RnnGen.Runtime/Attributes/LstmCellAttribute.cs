using System;

namespace RnnGen;

/// <summary>Generates an LSTM cell with PyTorch's <c>torch.nn.LSTMCell</c> semantics, sized at compile time.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LstmCellAttribute : RecurrentModuleAttribute
{
    /// <summary>Declares a cell with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public LstmCellAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }
}

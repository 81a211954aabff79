using System;

namespace RnnGen;

/// <summary>
/// Generates a multi-layer GRU with PyTorch's <c>torch.nn.GRU</c> semantics (gate rows r, z, n; b_hn inside the
/// reset product), sized at compile time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GruAttribute : SequenceModuleAttribute
{
    /// <summary>Declares a GRU with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public GruAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }
}

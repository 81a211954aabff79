using System;

namespace RnnGen;

/// <summary>
/// Generates a multi-layer LSTM with PyTorch's <c>torch.nn.LSTM</c> semantics (gate rows i, f, g, o), sized at
/// compile time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LstmAttribute : SequenceModuleAttribute
{
    /// <summary>Declares an LSTM with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public LstmAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>
    /// PyTorch's <c>proj_size</c>: 0 (the default) for none, or the features h is projected to by <c>weight_hr_l{k}</c>
    /// (h = W_hr (o ⊙ tanh c)); output, h0 and hN then have ProjSize features and c keeps hiddenSize. Must be below
    /// hiddenSize (RNNG0013).
    /// </summary>
    public int ProjSize { get; set; }
}

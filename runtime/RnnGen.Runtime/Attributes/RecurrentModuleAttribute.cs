using System;

namespace RnnGen;

/// <summary>
/// The arguments every RnnGen module takes, as PyTorch names them. Apply one of the derived attributes
/// (<see cref="RnnAttribute"/>, <see cref="LstmAttribute"/>, <see cref="GruAttribute"/> and their cells) to a
/// non-generic <c>partial class</c>; the RnnGen generator emits the module's kernels and members.
/// </summary>
public abstract class RecurrentModuleAttribute : Attribute
{
    private protected RecurrentModuleAttribute(int inputSize, int hiddenSize)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
    }

    /// <summary>PyTorch's <c>input_size</c>.</summary>
    public int InputSize { get; }

    /// <summary>PyTorch's <c>hidden_size</c>.</summary>
    public int HiddenSize { get; }

    /// <summary>PyTorch's <c>bias</c> (default true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>
    /// Whether the module can train (default true). <c>Training = false</c> declares an inference-only module: the
    /// generator emits no backward kernels and packs no backward-only weights (a smaller file and a smaller packed
    /// buffer), and the class has no <c>Backward</c>, <c>Gradients</c>, <c>ZeroGrad</c>, <c>SeedDropout</c> or
    /// <c>training</c> parameter on <c>Forward</c>, so calling them directly is a compile error. Through the module
    /// interface they throw <see cref="NotSupportedException"/> naming this property. Forward computes bit for bit what
    /// the training module's inference forward computes.
    /// </summary>
    public bool Training { get; set; } = true;
}

using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.RNN</c> with sizes chosen at run time: the same module as a generated <c>[Rnn]</c> class, on
/// the runtime's generic scalar kernels. Use it when the sizes are only known at run time; prefer a
/// generated class when they are known at compile time.
/// </summary>
public sealed class Rnn : SequenceModuleBase, IRnnModule
{
    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation and the dropout masks; null draws a seed.</param>
    public Rnn(int inputSize, int hiddenSize, int numLayers = 1, Nonlinearity nonlinearity = Nonlinearity.Tanh,
        bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false, int? seed = null)
        : base(new RnnShape(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst), dropout, seed)
    {
        if (!Enum.IsDefined(nonlinearity))
            throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "nonlinearity must be Tanh or Relu.");
        Nonlinearity = nonlinearity;
    }

    /// <summary>PyTorch's <c>nonlinearity</c>.</summary>
    public Nonlinearity Nonlinearity { get; }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0 = default, bool training = false)
    {
        // The checks do not depend on the non-linearity.
        RnnDriver.ValidateForward<ElmanGates<TanhActivation>>(Shape, input, seqLen, batch, output, hN, h0);
        using var inUse = Workspace.Enter();
        if (Nonlinearity == Nonlinearity.Tanh)
            Run<TanhActivation>(input, seqLen, batch, output, hN, h0, training);
        else
            Run<ReluActivation>(input, seqLen, batch, output, hN, h0, training);
        Workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0)
    {
        using var inUse = Workspace.Enter();
        if (Nonlinearity == Nonlinearity.Tanh)
            Back<TanhActivation>(gradOutput, gradHn, gradInput, gradH0);
        else
            Back<ReluActivation>(gradOutput, gradHn, gradInput, gradH0);
        Workspace.LastPath = KernelPath.Scalar;
    }

    private void Run<TActivation>(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0, bool training)
        where TActivation : struct, IActivation
    {
        var kernels = new GenericKernels<ElmanStep<TActivation>>(Shape, Parameters);
        if (training)
            RnnDriver.ForwardTraining<GenericKernels<ElmanStep<TActivation>>, ElmanGates<TActivation>>(ref kernels, Shape, Workspace, Parameters.Version, input, seqLen, batch, output, hN, h0, Dropout, DropoutSource);
        else
            RnnDriver.Forward<GenericKernels<ElmanStep<TActivation>>, ElmanGates<TActivation>>(ref kernels, Shape, Workspace, input, seqLen, batch, output, hN, h0);
    }

    private void Back<TActivation>(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0)
        where TActivation : struct, IActivation
    {
        var kernels = new GenericKernels<ElmanStep<TActivation>>(Shape, Parameters);
        RnnDriver.Backward<GenericKernels<ElmanStep<TActivation>>, ElmanGates<TActivation>>(ref kernels, Shape, Workspace, Gradients, Parameters.Version, gradOutput, gradHn, gradInput, gradH0);
    }
}

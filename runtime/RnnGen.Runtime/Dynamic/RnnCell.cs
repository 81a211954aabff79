using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.RNNCell</c> with sizes chosen at run time, on the runtime's generic scalar kernels.
/// </summary>
public sealed class RnnCell : ModuleBase, IRnnCellModule
{
    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public RnnCell(int inputSize, int hiddenSize, bool bias = true, Nonlinearity nonlinearity = Nonlinearity.Tanh, int? seed = null)
        : base(new RnnShape(inputSize, hiddenSize, bias: bias, isCell: true), seed)
    {
        if (!Enum.IsDefined(nonlinearity))
            throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "nonlinearity must be Tanh or Relu.");
        Nonlinearity = nonlinearity;
    }

    /// <summary>PyTorch's <c>nonlinearity</c>.</summary>
    public Nonlinearity Nonlinearity { get; }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training = false)
    {
        // The checks do not depend on the non-linearity.
        RnnDriver.ValidateCell<ElmanGates<TanhActivation>>(Shape, input, batch, hx, hNext);
        using var inUse = Workspace.Enter();
        if (Nonlinearity == Nonlinearity.Tanh)
            Run<TanhActivation>(input, batch, hx, hNext, training);
        else
            Run<ReluActivation>(input, batch, hx, hNext, training);
        Workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx)
    {
        using var inUse = Workspace.Enter();
        if (Nonlinearity == Nonlinearity.Tanh)
            Back<TanhActivation>(gradHNext, gradInput, gradHx);
        else
            Back<ReluActivation>(gradHNext, gradInput, gradHx);
        Workspace.LastPath = KernelPath.Scalar;
    }

    private void Run<TActivation>(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training)
        where TActivation : struct, IActivation
    {
        var kernels = new GenericKernels<ElmanStep<TActivation>>(Shape, Parameters);
        if (training)
            RnnDriver.CellForwardTraining<GenericKernels<ElmanStep<TActivation>>, ElmanGates<TActivation>>(ref kernels, Shape, Workspace, Parameters.Version, input, batch, hx, hNext);
        else
            RnnDriver.CellForward<GenericKernels<ElmanStep<TActivation>>, ElmanGates<TActivation>>(ref kernels, Shape, Workspace, input, batch, hx, hNext);
    }

    private void Back<TActivation>(ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx)
        where TActivation : struct, IActivation
    {
        var kernels = new GenericKernels<ElmanStep<TActivation>>(Shape, Parameters);
        RnnDriver.CellBackward<GenericKernels<ElmanStep<TActivation>>, ElmanGates<TActivation>>(ref kernels, Shape, Workspace, Gradients, Parameters.Version, gradHNext, gradInput, gradHx);
    }
}

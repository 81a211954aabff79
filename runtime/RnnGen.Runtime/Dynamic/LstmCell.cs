using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

/// <summary><c>torch.nn.LSTMCell</c> with sizes chosen at run time, on the runtime's generic scalar kernels.</summary>
public sealed class LstmCell : ModuleBase, ILstmCellModule
{
    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public LstmCell(int inputSize, int hiddenSize, bool bias = true, int? seed = null)
        : base(new RnnShape(inputSize, hiddenSize, bias: bias, isCell: true, gateCount: 4), seed)
    {
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, ReadOnlySpan<float> cx, Span<float> hNext, Span<float> cNext, bool training = false)
    {
        RnnDriver.ValidateCell<LstmGates>(Shape, input, batch, hx, hNext, cx, cNext);
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<LstmStep>(Shape, Parameters);
        if (training)
            RnnDriver.CellForwardTraining<GenericKernels<LstmStep>, LstmGates>(ref kernels, Shape, Workspace, Parameters.Version, input, batch, hx, hNext, cx, cNext);
        else
            RnnDriver.CellForward<GenericKernels<LstmStep>, LstmGates>(ref kernels, Shape, Workspace, input, batch, hx, hNext, cx, cNext);
        Workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradHNext, ReadOnlySpan<float> gradCNext, Span<float> gradInput, Span<float> gradHx, Span<float> gradCx)
    {
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<LstmStep>(Shape, Parameters);
        RnnDriver.CellBackward<GenericKernels<LstmStep>, LstmGates>(ref kernels, Shape, Workspace, Gradients, Parameters.Version, gradHNext, gradInput, gradHx, gradCNext, gradCx);
        Workspace.LastPath = KernelPath.Scalar;
    }
}

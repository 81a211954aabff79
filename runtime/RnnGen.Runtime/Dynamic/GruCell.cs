using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

/// <summary><c>torch.nn.GRUCell</c> with sizes chosen at run time, on the runtime's generic scalar kernels.</summary>
public sealed class GruCell : ModuleBase, IRnnCellModule
{
    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public GruCell(int inputSize, int hiddenSize, bool bias = true, int? seed = null)
        : base(new RnnShape(inputSize, hiddenSize, bias: bias, isCell: true, gateCount: 3), seed)
    {
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training = false)
    {
        RnnDriver.ValidateCell<GruGates>(Shape, input, batch, hx, hNext);
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<GruStep>(Shape, Parameters);
        if (training)
            RnnDriver.CellForwardTraining<GenericKernels<GruStep>, GruGates>(ref kernels, Shape, Workspace, Parameters.Version, input, batch, hx, hNext);
        else
            RnnDriver.CellForward<GenericKernels<GruStep>, GruGates>(ref kernels, Shape, Workspace, input, batch, hx, hNext);
        Workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx)
    {
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<GruStep>(Shape, Parameters);
        RnnDriver.CellBackward<GenericKernels<GruStep>, GruGates>(ref kernels, Shape, Workspace, Gradients, Parameters.Version, gradHNext, gradInput, gradHx);
        Workspace.LastPath = KernelPath.Scalar;
    }
}

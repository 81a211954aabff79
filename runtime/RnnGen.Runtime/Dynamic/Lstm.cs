using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.LSTM</c> with sizes chosen at run time: the same module as a generated <c>[Lstm]</c> class, on
/// the runtime's generic scalar kernels.
/// </summary>
public sealed class Lstm : SequenceModuleBase, ILstmModule
{
    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="projSize">PyTorch's <c>proj_size</c>: 0, or the size of h after <c>weight_hr</c> (below hiddenSize).</param>
    /// <param name="seed">Seeds the initialisation and the dropout masks; null draws a seed.</param>
    public Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false, int projSize = 0, int? seed = null)
        : base(new RnnShape(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst, gateCount: 4, projSize: projSize), dropout, seed)
    {
    }

    /// <inheritdoc/>
    public int ProjSize => Shape.ProjSize;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, bool training = false)
    {
        RnnDriver.ValidateForward<LstmGates>(Shape, input, seqLen, batch, output, hN, h0, cN, c0);
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<LstmStep>(Shape, Parameters);
        if (training)
            RnnDriver.ForwardTraining<GenericKernels<LstmStep>, LstmGates>(ref kernels, Shape, Workspace, Parameters.Version, input, seqLen, batch, output, hN, h0, Dropout, DropoutSource, cN, c0);
        else
            RnnDriver.Forward<GenericKernels<LstmStep>, LstmGates>(ref kernels, Shape, Workspace, input, seqLen, batch, output, hN, h0, cN, c0);
        Workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, ReadOnlySpan<float> gradCn, Span<float> gradInput, Span<float> gradH0, Span<float> gradC0)
    {
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<LstmStep>(Shape, Parameters);
        RnnDriver.Backward<GenericKernels<LstmStep>, LstmGates>(ref kernels, Shape, Workspace, Gradients, Parameters.Version, gradOutput, gradHn, gradInput, gradH0, gradCn, gradC0);
        Workspace.LastPath = KernelPath.Scalar;
    }
}

using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.GRU</c> with sizes chosen at run time: the same module as a generated <c>[Gru]</c> class, on
/// the runtime's generic scalar kernels. Its calls are <see cref="IRnnModule"/>'s.
/// </summary>
public sealed class Gru : SequenceModuleBase, IRnnModule
{
    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation and the dropout masks; null draws a seed.</param>
    public Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false, int? seed = null)
        : base(new RnnShape(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst, gateCount: 3), dropout, seed)
    {
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0 = default, bool training = false)
    {
        RnnDriver.ValidateForward<GruGates>(Shape, input, seqLen, batch, output, hN, h0);
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<GruStep>(Shape, Parameters);
        if (training)
            RnnDriver.ForwardTraining<GenericKernels<GruStep>, GruGates>(ref kernels, Shape, Workspace, Parameters.Version, input, seqLen, batch, output, hN, h0, Dropout, DropoutSource);
        else
            RnnDriver.Forward<GenericKernels<GruStep>, GruGates>(ref kernels, Shape, Workspace, input, seqLen, batch, output, hN, h0);
        Workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0)
    {
        using var inUse = Workspace.Enter();
        var kernels = new GenericKernels<GruStep>(Shape, Parameters);
        RnnDriver.Backward<GenericKernels<GruStep>, GruGates>(ref kernels, Shape, Workspace, Gradients, Parameters.Version, gradOutput, gradHn, gradInput, gradH0);
        Workspace.LastPath = KernelPath.Scalar;
    }
}

using System;
using RnnGen.Kernels;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.LSTM</c> with sizes chosen at run time: the same module as a generated <c>[Lstm]</c> class, on
/// the runtime's generic scalar kernels.
/// </summary>
public sealed class Lstm : ILstmModule
{
    private readonly RnnShape _shape;
    private readonly RnnWorkspace _workspace = new();
    private readonly DropoutGenerator _dropout;

    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation and the dropout masks; null draws a seed.</param>
    public Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false, int? seed = null)
    {
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        _shape = new RnnShape(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst, gateCount: 4);
        Dropout = dropout;
        int s = seed ?? Random.Shared.Next();
        Parameters = _shape.CreateParameters(s);
        Gradients = new ParameterSet(_shape.ParameterLayout());
        _dropout = new DropoutGenerator(s);
    }

    /// <inheritdoc/>
    public int InputSize => _shape.InputSize;

    /// <inheritdoc/>
    public int HiddenSize => _shape.HiddenSize;

    /// <inheritdoc/>
    public int NumLayers => _shape.NumLayers;

    /// <inheritdoc/>
    public int NumDirections => _shape.NumDirections;

    /// <inheritdoc/>
    public bool BatchFirst => _shape.BatchFirst;

    /// <inheritdoc/>
    public double Dropout { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters { get; }

    /// <inheritdoc/>
    public ParameterSet Gradients { get; }

    /// <inheritdoc/>
    public KernelPath LastKernelPath => _workspace.LastPath;

    /// <inheritdoc/>
    public void ZeroGrad() => Gradients.AsSpan().Clear();

    /// <inheritdoc/>
    public void SeedDropout(int seed) => _dropout.Reseed(seed);

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, bool training = false)
    {
        var kernels = new GenericLstmKernels(_shape, Parameters);
        if (training)
            RnnDriver.ForwardTraining<GenericLstmKernels, LstmGates>(ref kernels, _shape, _workspace, Parameters.Version, input, seqLen, batch, output, hN, h0, Dropout, _dropout, cN, c0);
        else
            RnnDriver.Forward<GenericLstmKernels, LstmGates>(ref kernels, _shape, _workspace, input, seqLen, batch, output, hN, h0, cN, c0);
        _workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, ReadOnlySpan<float> gradCn, Span<float> gradInput, Span<float> gradH0, Span<float> gradC0)
    {
        var kernels = new GenericLstmKernels(_shape, Parameters);
        RnnDriver.Backward<GenericLstmKernels, LstmGates>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradOutput, gradHn, gradInput, gradH0, gradCn, gradC0);
        _workspace.LastPath = KernelPath.Scalar;
    }
}

/// <summary><c>torch.nn.LSTMCell</c> with sizes chosen at run time, on the runtime's generic scalar kernels.</summary>
public sealed class LstmCell : ILstmCellModule
{
    private readonly RnnShape _shape;
    private readonly RnnWorkspace _workspace = new();

    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public LstmCell(int inputSize, int hiddenSize, bool bias = true, int? seed = null)
    {
        _shape = new RnnShape(inputSize, hiddenSize, bias: bias, isCell: true, gateCount: 4);
        Parameters = _shape.CreateParameters(seed ?? Random.Shared.Next());
        Gradients = new ParameterSet(_shape.ParameterLayout());
    }

    /// <inheritdoc/>
    public int InputSize => _shape.InputSize;

    /// <inheritdoc/>
    public int HiddenSize => _shape.HiddenSize;

    /// <inheritdoc/>
    public ParameterSet Parameters { get; }

    /// <inheritdoc/>
    public ParameterSet Gradients { get; }

    /// <inheritdoc/>
    public KernelPath LastKernelPath => _workspace.LastPath;

    /// <inheritdoc/>
    public void ZeroGrad() => Gradients.AsSpan().Clear();

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, ReadOnlySpan<float> cx, Span<float> hNext, Span<float> cNext, bool training = false)
    {
        var kernels = new GenericLstmKernels(_shape, Parameters);
        if (training)
            RnnDriver.CellForwardTraining<GenericLstmKernels, LstmGates>(ref kernels, _shape, _workspace, Parameters.Version, input, batch, hx, hNext, cx, cNext);
        else
            RnnDriver.CellForward<GenericLstmKernels, LstmGates>(ref kernels, _shape, _workspace, input, batch, hx, hNext, cx, cNext);
        _workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradHNext, ReadOnlySpan<float> gradCNext, Span<float> gradInput, Span<float> gradHx, Span<float> gradCx)
    {
        var kernels = new GenericLstmKernels(_shape, Parameters);
        RnnDriver.CellBackward<GenericLstmKernels, LstmGates>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradHNext, gradInput, gradHx, gradCNext, gradCx);
        _workspace.LastPath = KernelPath.Scalar;
    }
}

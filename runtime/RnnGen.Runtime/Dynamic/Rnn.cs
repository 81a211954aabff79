using System;
using RnnGen.Kernels;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.RNN</c> with sizes chosen at run time: the same module as a generated <c>[Rnn]</c> class, on
/// the runtime's generic scalar kernels. Use it when the sizes are only known at run time; prefer a
/// generated class when they are known at compile time.
/// </summary>
public sealed class Rnn : IRnnModule
{
    private readonly RnnShape _shape;
    private readonly RnnWorkspace _workspace = new();

    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public Rnn(int inputSize, int hiddenSize, int numLayers = 1, Nonlinearity nonlinearity = Nonlinearity.Tanh,
        bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false, int? seed = null)
    {
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        if (!Enum.IsDefined(nonlinearity))
            throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "nonlinearity must be Tanh or Relu.");
        _shape = new RnnShape(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst);
        Nonlinearity = nonlinearity;
        Dropout = dropout;
        Parameters = _shape.CreateParameters(seed ?? System.Random.Shared.Next());
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

    /// <summary>PyTorch's <c>nonlinearity</c>.</summary>
    public Nonlinearity Nonlinearity { get; }

    /// <summary>PyTorch's <c>dropout</c> between layers (training only; inference ignores it).</summary>
    public double Dropout { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters { get; }

    /// <inheritdoc/>
    public KernelPath LastKernelPath => _workspace.LastPath;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0 = default)
    {
        _workspace.LastPath = KernelPath.Scalar;
        if (Nonlinearity == Nonlinearity.Tanh)
        {
            var kernels = new GenericRnnKernels<TanhActivation>(_shape, Parameters);
            RnnDriver.Forward(ref kernels, _shape, _workspace, input, seqLen, batch, output, hN, h0);
        }
        else
        {
            var kernels = new GenericRnnKernels<ReluActivation>(_shape, Parameters);
            RnnDriver.Forward(ref kernels, _shape, _workspace, input, seqLen, batch, output, hN, h0);
        }
    }
}

/// <summary>
/// <c>torch.nn.RNNCell</c> with sizes chosen at run time, on the runtime's generic scalar kernels.
/// </summary>
public sealed class RnnCell : IRnnCellModule
{
    private readonly RnnShape _shape;
    private readonly RnnWorkspace _workspace = new();

    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public RnnCell(int inputSize, int hiddenSize, bool bias = true, Nonlinearity nonlinearity = Nonlinearity.Tanh, int? seed = null)
    {
        if (!Enum.IsDefined(nonlinearity))
            throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "nonlinearity must be Tanh or Relu.");
        _shape = new RnnShape(inputSize, hiddenSize, bias: bias, isCell: true);
        Nonlinearity = nonlinearity;
        Parameters = _shape.CreateParameters(seed ?? System.Random.Shared.Next());
    }

    /// <inheritdoc/>
    public int InputSize => _shape.InputSize;

    /// <inheritdoc/>
    public int HiddenSize => _shape.HiddenSize;

    /// <summary>PyTorch's <c>nonlinearity</c>.</summary>
    public Nonlinearity Nonlinearity { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters { get; }

    /// <inheritdoc/>
    public KernelPath LastKernelPath => _workspace.LastPath;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext)
    {
        _workspace.LastPath = KernelPath.Scalar;
        if (Nonlinearity == Nonlinearity.Tanh)
        {
            var kernels = new GenericRnnKernels<TanhActivation>(_shape, Parameters);
            RnnDriver.CellForward(ref kernels, _shape, _workspace, input, batch, hx, hNext);
        }
        else
        {
            var kernels = new GenericRnnKernels<ReluActivation>(_shape, Parameters);
            RnnDriver.CellForward(ref kernels, _shape, _workspace, input, batch, hx, hNext);
        }
    }
}

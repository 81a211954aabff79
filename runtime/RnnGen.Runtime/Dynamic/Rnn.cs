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
        int s = seed ?? System.Random.Shared.Next();
        Parameters = _shape.CreateParameters(s);
        Gradients = new ParameterSet(_shape.ParameterLayout());
        _dropout = new DropoutGenerator(s);
    }

    private readonly DropoutGenerator _dropout;

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
    public void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0 = default, bool training = false)
    {
        if (Nonlinearity == Nonlinearity.Tanh)
            Run<TanhActivation>(input, seqLen, batch, output, hN, h0, training);
        else
            Run<ReluActivation>(input, seqLen, batch, output, hN, h0, training);
        _workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0)
    {
        if (Nonlinearity == Nonlinearity.Tanh)
        {
            var kernels = new GenericRnnKernels<TanhActivation>(_shape, Parameters);
            RnnDriver.Backward<GenericRnnKernels<TanhActivation>, ElmanGates<TanhActivation>>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradOutput, gradHn, gradInput, gradH0);
        }
        else
        {
            var kernels = new GenericRnnKernels<ReluActivation>(_shape, Parameters);
            RnnDriver.Backward<GenericRnnKernels<ReluActivation>, ElmanGates<ReluActivation>>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradOutput, gradHn, gradInput, gradH0);
        }
        _workspace.LastPath = KernelPath.Scalar;
    }

    private void Run<TActivation>(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0, bool training)
        where TActivation : struct, IActivation
    {
        var kernels = new GenericRnnKernels<TActivation>(_shape, Parameters);
        if (training)
            RnnDriver.ForwardTraining<GenericRnnKernels<TActivation>, ElmanGates<TActivation>>(ref kernels, _shape, _workspace, Parameters.Version, input, seqLen, batch, output, hN, h0, Dropout, _dropout);
        else
            RnnDriver.Forward<GenericRnnKernels<TActivation>, ElmanGates<TActivation>>(ref kernels, _shape, _workspace, input, seqLen, batch, output, hN, h0);
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
        Gradients = new ParameterSet(_shape.ParameterLayout());
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
    public ParameterSet Gradients { get; }

    /// <inheritdoc/>
    public KernelPath LastKernelPath => _workspace.LastPath;

    /// <inheritdoc/>
    public void ZeroGrad() => Gradients.AsSpan().Clear();

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training = false)
    {
        if (Nonlinearity == Nonlinearity.Tanh)
            Run<TanhActivation>(input, batch, hx, hNext, training);
        else
            Run<ReluActivation>(input, batch, hx, hNext, training);
        _workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx)
    {
        if (Nonlinearity == Nonlinearity.Tanh)
        {
            var kernels = new GenericRnnKernels<TanhActivation>(_shape, Parameters);
            RnnDriver.CellBackward<GenericRnnKernels<TanhActivation>, ElmanGates<TanhActivation>>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradHNext, gradInput, gradHx);
        }
        else
        {
            var kernels = new GenericRnnKernels<ReluActivation>(_shape, Parameters);
            RnnDriver.CellBackward<GenericRnnKernels<ReluActivation>, ElmanGates<ReluActivation>>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradHNext, gradInput, gradHx);
        }
        _workspace.LastPath = KernelPath.Scalar;
    }

    private void Run<TActivation>(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training)
        where TActivation : struct, IActivation
    {
        var kernels = new GenericRnnKernels<TActivation>(_shape, Parameters);
        if (training)
            RnnDriver.CellForwardTraining<GenericRnnKernels<TActivation>, ElmanGates<TActivation>>(ref kernels, _shape, _workspace, Parameters.Version, input, batch, hx, hNext);
        else
            RnnDriver.CellForward<GenericRnnKernels<TActivation>, ElmanGates<TActivation>>(ref kernels, _shape, _workspace, input, batch, hx, hNext);
    }
}

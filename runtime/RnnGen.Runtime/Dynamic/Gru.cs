using System;
using RnnGen.Kernels;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.GRU</c> with sizes chosen at run time: the same module as a generated <c>[Gru]</c> class, on
/// the runtime's generic scalar kernels. Its calls are <see cref="IRnnModule"/>'s.
/// </summary>
public sealed class Gru : IRnnModule
{
    private readonly RnnShape _shape;
    private readonly RnnWorkspace _workspace = new();
    private readonly DropoutGenerator _dropout;

    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation and the dropout masks; null draws a seed.</param>
    public Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false, int? seed = null)
    {
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        _shape = new RnnShape(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst, gateCount: 3);
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
    public void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0 = default, bool training = false)
    {
        var kernels = new GenericGruKernels(_shape, Parameters);
        if (training)
            RnnDriver.ForwardTraining<GenericGruKernels, GruGates>(ref kernels, _shape, _workspace, Parameters.Version, input, seqLen, batch, output, hN, h0, Dropout, _dropout);
        else
            RnnDriver.Forward<GenericGruKernels, GruGates>(ref kernels, _shape, _workspace, input, seqLen, batch, output, hN, h0);
        _workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0)
    {
        var kernels = new GenericGruKernels(_shape, Parameters);
        RnnDriver.Backward<GenericGruKernels, GruGates>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradOutput, gradHn, gradInput, gradH0);
        _workspace.LastPath = KernelPath.Scalar;
    }
}

/// <summary><c>torch.nn.GRUCell</c> with sizes chosen at run time, on the runtime's generic scalar kernels.</summary>
public sealed class GruCell : IRnnCellModule
{
    private readonly RnnShape _shape;
    private readonly RnnWorkspace _workspace = new();

    /// <summary>PyTorch's constructor arguments and defaults; parameters from U(-1/√hidden, 1/√hidden).</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public GruCell(int inputSize, int hiddenSize, bool bias = true, int? seed = null)
    {
        _shape = new RnnShape(inputSize, hiddenSize, bias: bias, isCell: true, gateCount: 3);
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
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training = false)
    {
        var kernels = new GenericGruKernels(_shape, Parameters);
        if (training)
            RnnDriver.CellForwardTraining<GenericGruKernels, GruGates>(ref kernels, _shape, _workspace, Parameters.Version, input, batch, hx, hNext);
        else
            RnnDriver.CellForward<GenericGruKernels, GruGates>(ref kernels, _shape, _workspace, input, batch, hx, hNext);
        _workspace.LastPath = KernelPath.Scalar;
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx)
    {
        var kernels = new GenericGruKernels(_shape, Parameters);
        RnnDriver.CellBackward<GenericGruKernels, GruGates>(ref kernels, _shape, _workspace, Gradients, Parameters.Version, gradHNext, gradInput, gradHx);
        _workspace.LastPath = KernelPath.Scalar;
    }
}

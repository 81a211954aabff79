using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

/// <summary>What every run-time-sized module holds: its shape, parameters, gradients and workspace.</summary>
public abstract class ModuleBase
{
    private protected ModuleBase(in RnnShape shape, int? seed)
    {
        Shape = shape;
        Seed = seed ?? Random.Shared.Next();
        Parameters = shape.CreateParameters(Seed);
        Gradients = new ParameterSet(shape.ParameterLayout());
    }

    private protected RnnShape Shape { get; }

    private protected int Seed { get; }

    private protected RnnWorkspace Workspace { get; } = new();

    /// <summary>Features per input row.</summary>
    public int InputSize => Shape.InputSize;

    /// <summary>Features of the hidden state.</summary>
    public int HiddenSize => Shape.HiddenSize;

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c>.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The gradients, laid out like <see cref="Parameters"/>; they accumulate like <c>.grad</c>.</summary>
    public ParameterSet Gradients { get; }

    /// <summary>The kernel path the last call ran on (always <see cref="KernelPath.Scalar"/>: these are the generic kernels).</summary>
    public KernelPath LastKernelPath => Workspace.LastPath;

    /// <summary>Clears <see cref="Gradients"/>.</summary>
    public void ZeroGrad() => Gradients.AsSpan().Clear();
}

/// <summary>What every run-time-sized sequence module adds: layers, directions, layout and dropout.</summary>
public abstract class SequenceModuleBase : ModuleBase
{
    private readonly DropoutGenerator _dropout;

    private protected SequenceModuleBase(in RnnShape shape, double dropout, int? seed)
        : base(shape, seed)
    {
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        Dropout = dropout;
        _dropout = new DropoutGenerator(Seed);
    }

    private protected DropoutGenerator DropoutSource => _dropout;

    /// <summary>Stacked layers.</summary>
    public int NumLayers => Shape.NumLayers;

    /// <summary>1, or 2 when bidirectional.</summary>
    public int NumDirections => Shape.NumDirections;

    /// <summary>Whether input and output are (batch, seq, feature).</summary>
    public bool BatchFirst => Shape.BatchFirst;

    /// <summary>PyTorch's <c>dropout</c> between layers, applied by training forwards only.</summary>
    public double Dropout { get; }

    /// <summary>Restarts the dropout masks' random sequence from <paramref name="seed"/>.</summary>
    public void SeedDropout(int seed) => _dropout.Reseed(seed);
}

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

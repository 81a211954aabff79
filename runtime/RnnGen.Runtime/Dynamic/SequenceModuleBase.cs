using System;
using RnnGen.__Internals;

namespace RnnGen.Dynamic;

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

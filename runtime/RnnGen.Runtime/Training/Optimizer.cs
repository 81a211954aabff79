using System;
using System.Collections.Generic;

namespace RnnGen.Training;

/// <summary>The parameter groups an optimizer updates, each a <see cref="ParameterSet"/> and its gradients.</summary>
public abstract class Optimizer : IOptimizer
{
    private readonly (ParameterSet Parameters, ParameterSet Gradients)[] _groups;

    /// <summary>Checks that every gradient set has the layout of its parameter set.</summary>
    protected Optimizer(IReadOnlyList<(ParameterSet Parameters, ParameterSet Gradients)> groups, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0)
            throw new ArgumentException("An optimizer needs at least one parameter set.", nameof(groups));
        if (!(learningRate >= 0))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be non-negative.");
        _groups = new (ParameterSet, ParameterSet)[groups.Count];
        for (int i = 0; i < groups.Count; i++)
        {
            (ParameterSet p, ParameterSet g) = groups[i];
            ArgumentNullException.ThrowIfNull(p, nameof(groups));
            ArgumentNullException.ThrowIfNull(g, nameof(groups));
            if (p.TotalLength != g.TotalLength || !AreEqual(p.Names, g.Names))
                throw new ArgumentException($"Group {i}: the gradients must have the parameters' names and shapes.", nameof(groups));
            _groups[i] = (p, g);
        }
        LearningRate = learningRate;
        foreach ((ParameterSet p, _) in _groups)
            TotalLength += p.TotalLength;
    }

    /// <inheritdoc/>
    public float LearningRate { get; set; }

    /// <summary>The number of floats over all groups: the length of per-value state such as momentum.</summary>
    protected int TotalLength { get; }

    /// <inheritdoc/>
    public void Step()
    {
        int offset = 0;
        foreach ((ParameterSet p, ParameterSet g) in _groups)
        {
            Update(p.AsSpan(), g.AsReadOnlySpan(), offset);
            offset += p.TotalLength;
        }
        OnStepped();
    }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach ((_, ParameterSet g) in _groups)
            g.AsSpan().Clear();
    }

    /// <summary>Updates one group's values; <paramref name="stateOffset"/> is where its per-value state starts.</summary>
    protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int stateOffset);

    /// <summary>Called after every group was updated (for step counters).</summary>
    protected virtual void OnStepped()
    {
    }

    private static bool AreEqual(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count != b.Count)
            return false;
        for (int i = 0; i < a.Count; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
}

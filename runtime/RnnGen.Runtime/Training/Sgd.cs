using System;
using System.Collections.Generic;

namespace RnnGen.Training;

/// <summary>
/// <c>torch.optim.SGD</c>: with weight decay g ← g + λp; with momentum b ← g on the first step, then
/// b ← μb + (1 − τ)g, and g ← g + μb (Nesterov) or g ← b; then p ← p − lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[]? _momentumBuffer;
    private bool _started;

    /// <summary>SGD over one module's parameters.</summary>
    public Sgd(ParameterSet parameters, ParameterSet gradients, float lr, float momentum = 0, float dampening = 0, float weightDecay = 0, bool nesterov = false)
        : this(new[] { (parameters, gradients) }, lr, momentum, dampening, weightDecay, nesterov)
    {
    }

    /// <summary>SGD over several parameter sets (for example an RNN and its output layer).</summary>
    public Sgd(IReadOnlyList<(ParameterSet Parameters, ParameterSet Gradients)> groups, float lr, float momentum = 0, float dampening = 0, float weightDecay = 0, bool nesterov = false)
        : base(groups, lr)
    {
        if (!(momentum >= 0))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be non-negative.");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be non-negative.");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum above 0 and zero dampening (as in PyTorch).", nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _momentumBuffer = momentum != 0 ? new float[TotalLength] : null;
    }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>τ.</summary>
    public float Dampening { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether the update uses Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int stateOffset)
    {
        float lr = LearningRate;
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i];
            if (WeightDecay != 0)
                g += WeightDecay * parameters[i];
            if (_momentumBuffer is not null)
            {
                ref float b = ref _momentumBuffer[stateOffset + i];
                b = _started ? Momentum * b + (1 - Dampening) * g : g;
                g = Nesterov ? g + Momentum * b : b;
            }
            parameters[i] -= lr * g;
        }
    }

    /// <inheritdoc/>
    protected override void OnStepped() => _started = true;
}

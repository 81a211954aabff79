using System;
using System.Collections.Generic;

namespace RnnGen.Training;

/// <summary>
/// <c>torch.optim.Adam</c>: with weight decay g ← g + λp; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
/// (AMSGrad: v̂ ← max(v̂, v)); p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[] _m, _v;
    private readonly float[]? _vMax;
    private int _step;

    /// <summary>Adam over one module's parameters.</summary>
    public Adam(ParameterSet parameters, ParameterSet gradients, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0, bool amsgrad = false)
        : this(new[] { (parameters, gradients) }, lr, beta1, beta2, eps, weightDecay, amsgrad)
    {
    }

    /// <summary>Adam over several parameter sets (for example an RNN and its output layer).</summary>
    public Adam(IReadOnlyList<(ParameterSet Parameters, ParameterSet Gradients)> groups, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0, bool amsgrad = false)
        : base(groups, lr)
    {
        if (!(beta1 >= 0 && beta1 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(eps >= 0))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be non-negative.");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be non-negative.");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        AmsGrad = amsgrad;
        _m = new float[TotalLength];
        _v = new float[TotalLength];
        _vMax = amsgrad ? new float[TotalLength] : null;
    }

    /// <summary>β₁.</summary>
    public float Beta1 { get; }

    /// <summary>β₂.</summary>
    public float Beta2 { get; }

    /// <summary>ε.</summary>
    public float Eps { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether the AMSGrad variant is used.</summary>
    public bool AmsGrad { get; }

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int stateOffset)
    {
        // PyTorch computes the bias corrections in double precision from the step count.
        int step = _step + 1;
        double correction1 = 1 - Math.Pow(Beta1, step);
        float stepSize = (float)(LearningRate / correction1);
        float correction2Sqrt = (float)Math.Sqrt(1 - Math.Pow(Beta2, step));
        float oneMinusBeta1 = 1 - Beta1, oneMinusBeta2 = 1 - Beta2;
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i];
            if (WeightDecay != 0)
                g += WeightDecay * parameters[i];
            ref float m = ref _m[stateOffset + i];
            ref float v = ref _v[stateOffset + i];
            m += oneMinusBeta1 * (g - m); // torch.lerp(m, g, 1 - β₁)
            v = v * Beta2 + oneMinusBeta2 * g * g;
            float second = v;
            if (_vMax is not null)
            {
                ref float vMax = ref _vMax[stateOffset + i];
                vMax = MathF.Max(vMax, v);
                second = vMax;
            }
            float denominator = MathF.Sqrt(second) / correction2Sqrt + Eps;
            parameters[i] -= stepSize * (m / denominator);
        }
    }

    /// <inheritdoc/>
    protected override void OnStepped() => _step++;
}

using System;
using System.Collections.Generic;

namespace RnnGen.Training;

/// <summary>Updates parameters from their gradients, as <c>torch.optim</c> optimizers do.</summary>
public interface IOptimizer
{
    /// <summary>One update of every parameter from its current gradient (PyTorch's <c>optimizer.step()</c>).</summary>
    void Step();

    /// <summary>Clears every gradient (PyTorch's <c>optimizer.zero_grad()</c>).</summary>
    void ZeroGrad();

    /// <summary>The learning rate of the next step.</summary>
    float LearningRate { get; set; }
}

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

/// <summary>Training helpers with PyTorch's definitions.</summary>
public static class TrainingFunctions
{
    /// <summary>
    /// <c>torch.nn.utils.clip_grad_norm_</c>: the norm of all gradients together (p = 2 or ∞); when it exceeds
    /// <paramref name="maxNorm"/>, every gradient is scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    /// </summary>
    public static float ClipGradNorm(IReadOnlyList<ParameterSet> gradients, float maxNorm, float normType = 2f)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        if (!(maxNorm >= 0))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be non-negative.");
        if (normType != 2f && !float.IsPositiveInfinity(normType))
            throw new ArgumentOutOfRangeException(nameof(normType), normType, "normType must be 2 or +∞.");
        // Indexed loops: enumerating an IReadOnlyList would allocate an enumerator per call.
        double total = 0;
        for (int s = 0; s < gradients.Count; s++)
        {
            foreach (float g in gradients[s].AsReadOnlySpan())
                total = float.IsPositiveInfinity(normType) ? Math.Max(total, Math.Abs(g)) : total + (double)g * g;
        }
        float norm = float.IsPositiveInfinity(normType) ? (float)total : (float)Math.Sqrt(total);
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient < 1f)
        {
            for (int s = 0; s < gradients.Count; s++)
            {
                Span<float> values = gradients[s].AsSpan();
                for (int i = 0; i < values.Length; i++)
                    values[i] *= coefficient;
            }
        }
        return norm;
    }

    /// <summary>
    /// <c>torch.nn.functional.mse_loss</c> (mean reduction): returns mean((prediction − target)²) and, when
    /// <paramref name="gradient"/> is not empty, writes ∂loss/∂prediction = 2(prediction − target)/n into it.
    /// </summary>
    public static float MseLoss(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient = default)
    {
        if (prediction.Length != target.Length || prediction.Length == 0)
            throw new ArgumentException($"prediction and target must have the same, non-zero length; got {prediction.Length} and {target.Length}.", nameof(target));
        if (gradient.Length != 0 && gradient.Length != prediction.Length)
            throw new ArgumentException($"gradient must be empty or hold {prediction.Length} floats; got {gradient.Length}.", nameof(gradient));
        double sum = 0;
        float scale = 2f / prediction.Length;
        for (int i = 0; i < prediction.Length; i++)
        {
            float d = prediction[i] - target[i];
            sum += (double)d * d;
            if (gradient.Length != 0)
                gradient[i] = scale * d;
        }
        return (float)(sum / prediction.Length);
    }
}

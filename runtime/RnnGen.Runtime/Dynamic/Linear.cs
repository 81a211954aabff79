using System;

namespace RnnGen.Dynamic;

/// <summary>
/// <c>torch.nn.Linear</c>: y = x · Wᵀ + b, with parameters <c>weight</c> (out, in) and <c>bias</c> (out), both
/// initialised from U(−1/√in, 1/√in) as PyTorch does. Typically the head on top of a recurrent module.
/// </summary>
public sealed class Linear
{
    private float[] _input = Array.Empty<float>();
    private int _batch;

    /// <summary>A layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>.</summary>
    /// <param name="seed">Seeds the initialisation; null draws a seed.</param>
    public Linear(int inFeatures, int outFeatures, bool bias = true, int? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        HasBias = bias;
        var layout = bias
            ? new (string, int[])[] { ("weight", [outFeatures, inFeatures]), ("bias", [outFeatures]) }
            : new (string, int[])[] { ("weight", [outFeatures, inFeatures]) };
        Parameters = new ParameterSet(layout);
        Parameters.InitUniform(seed ?? Random.Shared.Next(), 1f / MathF.Sqrt(inFeatures));
        Gradients = new ParameterSet(layout);
    }

    /// <summary>PyTorch's <c>in_features</c>.</summary>
    public int InFeatures { get; }

    /// <summary>PyTorch's <c>out_features</c>.</summary>
    public int OutFeatures { get; }

    /// <summary>Whether the layer has a bias.</summary>
    public bool HasBias { get; }

    /// <summary><c>weight</c> and <c>bias</c>.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>Their gradients, accumulated like <c>.grad</c>.</summary>
    public ParameterSet Gradients { get; }

    /// <summary>Clears <see cref="Gradients"/>.</summary>
    public void ZeroGrad() => Gradients.AsSpan().Clear();

    /// <summary>y (batch, out) = x (batch, in) · Wᵀ + b; with <paramref name="training"/>, keeps x for <see cref="Backward"/>.</summary>
    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> output, bool training = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (input.Length != batch * InFeatures)
            throw new ArgumentException($"input must hold batch·inFeatures ({batch}·{InFeatures}) = {batch * InFeatures} floats; got {input.Length}.", nameof(input));
        if (output.Length != batch * OutFeatures)
            throw new ArgumentException($"output must hold batch·outFeatures ({batch}·{OutFeatures}) = {batch * OutFeatures} floats; got {output.Length}.", nameof(output));
        ReadOnlySpan<float> w = Parameters.GetReadOnly("weight");
        ReadOnlySpan<float> b = HasBias ? Parameters.GetReadOnly("bias") : default;
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * InFeatures, InFeatures);
            for (int o = 0; o < OutFeatures; o++)
            {
                float sum = HasBias ? b[o] : 0f;
                ReadOnlySpan<float> row = w.Slice(o * InFeatures, InFeatures);
                for (int i = 0; i < InFeatures; i++)
                    sum += row[i] * x[i];
                output[r * OutFeatures + o] = sum;
            }
        }
        if (training)
        {
            if (_input.Length < input.Length)
                _input = new float[input.Length];
            input.CopyTo(_input);
            _batch = batch;
        }
    }

    /// <summary>Adds ∂loss/∂W and ∂loss/∂b into <see cref="Gradients"/> and writes ∂loss/∂x (empty: not needed).</summary>
    /// <exception cref="InvalidOperationException">No training forward preceded.</exception>
    public void Backward(ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        if (_batch == 0)
            throw new InvalidOperationException("Backward needs a preceding Forward(..., training: true).");
        if (gradOutput.Length != _batch * OutFeatures)
            throw new ArgumentException($"gradOutput must hold batch·outFeatures ({_batch}·{OutFeatures}) floats; got {gradOutput.Length}.", nameof(gradOutput));
        if (gradInput.Length != 0 && gradInput.Length != _batch * InFeatures)
            throw new ArgumentException($"gradInput must be empty or hold batch·inFeatures ({_batch}·{InFeatures}) floats; got {gradInput.Length}.", nameof(gradInput));
        ReadOnlySpan<float> w = Parameters.GetReadOnly("weight");
        Span<float> all = Gradients.AsSpan();
        Span<float> dw = all.Slice(0, OutFeatures * InFeatures);
        Span<float> db = HasBias ? all.Slice(OutFeatures * InFeatures, OutFeatures) : default;
        gradInput.Clear();
        for (int r = 0; r < _batch; r++)
        {
            ReadOnlySpan<float> x = _input.AsSpan(r * InFeatures, InFeatures);
            for (int o = 0; o < OutFeatures; o++)
            {
                float g = gradOutput[r * OutFeatures + o];
                if (HasBias)
                    db[o] += g;
                Span<float> dwRow = dw.Slice(o * InFeatures, InFeatures);
                for (int i = 0; i < InFeatures; i++)
                    dwRow[i] += g * x[i];
                if (gradInput.Length != 0)
                {
                    ReadOnlySpan<float> row = w.Slice(o * InFeatures, InFeatures);
                    Span<float> dx = gradInput.Slice(r * InFeatures, InFeatures);
                    for (int i = 0; i < InFeatures; i++)
                        dx[i] += g * row[i];
                }
            }
        }
    }
}

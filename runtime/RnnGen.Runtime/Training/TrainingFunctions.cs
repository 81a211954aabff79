using System;
using System.Collections.Generic;

namespace RnnGen.Training;

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

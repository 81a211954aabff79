using System;

namespace RnnGen;

/// <summary>Allocating conveniences in the style of PyTorch's <c>out, h_n = rnn(x, h0)</c>.</summary>
public static class ModuleExtensions
{
    /// <summary>Runs <paramref name="module"/> and returns new arrays for the output and the final state.</summary>
    public static (float[] Output, float[] HN) Forward(this IRnnModule module, float[] input, int seqLen, int batch, float[]? h0 = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        if (seqLen < 1 || batch < 1)
            throw new ArgumentOutOfRangeException(seqLen < 1 ? nameof(seqLen) : nameof(batch), "seqLen and batch must be at least 1.");
        var output = new float[checked(seqLen * batch * module.NumDirections * module.HiddenSize)];
        var hN = new float[checked(module.NumLayers * module.NumDirections * batch * module.HiddenSize)];
        module.Forward(input, seqLen, batch, output, hN, h0);
        return (output, hN);
    }

    /// <summary>Runs <paramref name="module"/> and returns new arrays for the output and the final states.</summary>
    public static (float[] Output, float[] HN, float[] CN) Forward(this ILstmModule module, float[] input, int seqLen, int batch, float[]? h0 = null, float[]? c0 = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        if (seqLen < 1 || batch < 1)
            throw new ArgumentOutOfRangeException(seqLen < 1 ? nameof(seqLen) : nameof(batch), "seqLen and batch must be at least 1.");
        int stateSize = module.ProjSize > 0 ? module.ProjSize : module.HiddenSize;
        var output = new float[checked(seqLen * batch * module.NumDirections * stateSize)];
        var hN = new float[checked(module.NumLayers * module.NumDirections * batch * stateSize)];
        var cN = new float[checked(module.NumLayers * module.NumDirections * batch * module.HiddenSize)];
        module.Forward(input, seqLen, batch, output, hN, cN, h0, c0);
        return (output, hN, cN);
    }

    /// <summary>Runs <paramref name="cell"/> and returns the new states as new arrays.</summary>
    public static (float[] HNext, float[] CNext) Forward(this ILstmCellModule cell, float[] input, int batch, float[]? hx = null, float[]? cx = null)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var hNext = new float[checked(batch * cell.HiddenSize)];
        var cNext = new float[hNext.Length];
        cell.Forward(input, batch, hx, cx, hNext, cNext);
        return (hNext, cNext);
    }

    /// <summary>Runs <paramref name="cell"/> and returns the new state as a new array.</summary>
    public static float[] Forward(this IRnnCellModule cell, float[] input, int batch, float[]? hx = null)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var hNext = new float[checked(batch * cell.HiddenSize)];
        cell.Forward(input, batch, hx, hNext);
        return hNext;
    }
}

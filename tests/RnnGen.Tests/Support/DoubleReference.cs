using System;
using System.Collections.Generic;

namespace RnnGen.Tests.Support;

/// <summary>
/// An independent, deliberately plain double-precision Elman RNN (forward only) written from PyTorch's
/// documented equations, for finite-difference gradients: loss = Σ output·gradOutput + Σ hN·gradHn, with the
/// given dropout masks (one row of D·H factors per time-major input row of every layer above the first).
/// </summary>
internal sealed class DoubleReference
{
    private readonly RnnConfig _c;
    private readonly Dictionary<string, int> _offsets = new();

    public DoubleReference(RnnConfig config, ParameterSet layout)
    {
        _c = config;
        int offset = 0;
        foreach (string name in layout.Names)
        {
            _offsets[name] = offset;
            offset += layout.GetReadOnly(name).Length;
        }
    }

    public double Loss(double[] p, double[] input, int seqLen, int batch, double[]? h0, float[] gradOutput, float[]? gradHn, IReadOnlyList<float[]> masks)
    {
        int H = _c.HiddenSize, D = _c.Directions, L = _c.NumLayers, T = seqLen, B = batch;
        // Layer input per (t, b), time-major.
        var x = new double[T * B][];
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
            {
                int row = _c.BatchFirst ? b * T + t : t * B + b;
                x[t * B + b] = input.AsSpan(row * _c.InputSize, _c.InputSize).ToArray();
            }
        double loss = 0;
        for (int l = 0; l < L; l++)
        {
            if (l > 0)
                for (int r = 0; r < T * B; r++)
                    for (int i = 0; i < x[r].Length; i++)
                        x[r][i] *= masks[l - 1][r * D * H + i];
            var y = new double[T * B][];
            for (int r = 0; r < T * B; r++)
                y[r] = new double[D * H];
            for (int d = 0; d < D; d++)
            {
                string s = _c.IsCell ? "" : $"_l{l}" + (d == 1 ? "_reverse" : "");
                int k = x[0].Length;
                int wih = _offsets["weight_ih" + s], whh = _offsets["weight_hh" + s];
                int bih = _c.Bias ? _offsets["bias_ih" + s] : -1, bhh = _c.Bias ? _offsets["bias_hh" + s] : -1;
                var h = new double[B][];
                for (int b = 0; b < B; b++)
                {
                    h[b] = new double[H];
                    if (h0 is not null)
                        for (int j = 0; j < H; j++)
                            h[b][j] = h0[((l * D + d) * B + b) * H + j];
                }
                for (int step = 0; step < T; step++)
                {
                    int t = d == 0 ? step : T - 1 - step;
                    var next = new double[B][];
                    for (int b = 0; b < B; b++)
                    {
                        next[b] = new double[H];
                        for (int j = 0; j < H; j++)
                        {
                            double a = _c.Bias ? p[bih + j] + p[bhh + j] : 0;
                            for (int i = 0; i < k; i++)
                                a += p[wih + j * k + i] * x[t * B + b][i];
                            for (int i = 0; i < H; i++)
                                a += p[whh + j * H + i] * h[b][i];
                            next[b][j] = _c.Nonlinearity == Nonlinearity.Tanh ? Math.Tanh(a) : Math.Max(a, 0);
                            y[t * B + b][d * H + j] = next[b][j];
                        }
                    }
                    h = next;
                }
                if (gradHn is not null)
                    for (int b = 0; b < B; b++)
                        for (int j = 0; j < H; j++)
                            loss += h[b][j] * gradHn[((l * D + d) * B + b) * H + j];
            }
            x = y;
        }
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
            {
                int row = _c.BatchFirst ? b * T + t : t * B + b;
                for (int i = 0; i < D * H; i++)
                    loss += x[t * B + b][i] * gradOutput[row * D * H + i];
            }
        return loss;
    }
}

using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.Kernels;

/// <summary>
/// Runs an Elman RNN (or cell) over PyTorch's layouts with any <see cref="IRnnKernels"/>: checks the
/// arguments, hoists the input projection of every time step out of the recurrence, walks the layers,
/// directions and time steps, and writes the output and final states. Shape-agnostic; the kernels it is
/// given hold the shape's arithmetic.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class RnnDriver
{
    /// <summary>
    /// <c>torch.nn.RNN.forward</c>: <paramref name="input"/> (seq, batch, input) or (batch, seq, input) with
    /// <see cref="RnnShape.BatchFirst"/>; <paramref name="output"/> likewise with D·hidden features, the
    /// directions side by side; <paramref name="hN"/> and <paramref name="h0"/> (layers·D, batch, hidden),
    /// index layer·D + direction; an empty <paramref name="h0"/> means zeros. <paramref name="h0"/> may be
    /// the same memory as <paramref name="hN"/> (state carried in place); nothing else may overlap.
    /// Everything is checked before anything is written.
    /// </summary>
    public static void Forward<TKernels>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0)
        where TKernels : struct, IRnnKernels
    {
        ValidateForward(shape, input, seqLen, batch, output, hN, h0);
        workspace.Tape.Observe(seqLen, batch);
        int hidden = shape.HiddenSize, directions = shape.NumDirections, layers = shape.NumLayers;

        int preStride = kernels.PreStride;
        int stepRows = seqLen * batch;
        ref float pre = ref workspace.Pre(Check.Product("workspace", directions, stepRows, preStride));
        ref float zeros = ref workspace.Zeros(hidden);
        ref float outStart = ref MemoryMarshal.GetReference(output);
        int outWidth = shape.OutputSize;
        // In PyTorch's layouts, the rows of one time step are batch rows apart; consecutive steps are one step apart.
        nint outRowStride = shape.BatchFirst ? (nint)seqLen * outWidth : outWidth;
        nint outStepStride = shape.BatchFirst ? outWidth : (nint)batch * outWidth;

        for (int layer = 0; layer < layers; layer++)
        {
            // Project every direction before any recurrence writes: from layer 1 on, the source is `output`.
            int inWidth = shape.LayerInputSize(layer);
            ref float source = ref layer == 0 ? ref MemoryMarshal.GetReference(input) : ref outStart;
            for (int d = 0; d < directions; d++)
            {
                ref float preD = ref Unsafe.Add(ref pre, (nint)d * stepRows * preStride);
                if (!shape.BatchFirst)
                {
                    kernels.Project(layer, d, ref source, inWidth, stepRows, ref preD);
                }
                else
                {
                    for (int t = 0; t < seqLen; t++)
                        kernels.Project(layer, d, ref Unsafe.Add(ref source, (nint)t * inWidth), (nint)seqLen * inWidth, batch, ref Unsafe.Add(ref preD, (nint)t * batch * preStride));
                }
            }

            for (int d = 0; d < directions; d++)
            {
                ref float preD = ref Unsafe.Add(ref pre, (nint)d * stepRows * preStride);
                int state = layer * directions + d;
                for (int s = 0; s < seqLen; s++)
                {
                    int t = d == 0 ? s : seqLen - 1 - s; // the reverse direction reads the sequence backwards
                    ref float hOut = ref Unsafe.Add(ref outStart, t * outStepStride + d * hidden);
                    ref float pStep = ref Unsafe.Add(ref preD, (nint)t * batch * preStride);
                    if (s > 0)
                    {
                        int previous = d == 0 ? t - 1 : t + 1;
                        kernels.Step(layer, d, ref Unsafe.Add(ref outStart, previous * outStepStride + d * hidden), outRowStride, ref pStep, batch, ref hOut, outRowStride);
                    }
                    else if (h0.IsEmpty)
                    {
                        kernels.Step(layer, d, ref zeros, 0, ref pStep, batch, ref hOut, outRowStride);
                    }
                    else
                    {
                        ref float h0Start = ref MemoryMarshal.GetReference(h0);
                        kernels.Step(layer, d, ref Unsafe.Add(ref h0Start, (nint)state * batch * hidden), hidden, ref pStep, batch, ref hOut, outRowStride);
                    }
                }

                // hN is the state after the last step: t = seqLen - 1 forwards, t = 0 in reverse.
                int last = d == 0 ? seqLen - 1 : 0;
                for (int b = 0; b < batch; b++)
                {
                    output.Slice((int)(last * outStepStride + b * outRowStride) + d * hidden, hidden)
                        .CopyTo(hN.Slice((state * batch + b) * hidden, hidden));
                }
            }
        }
    }

    /// <summary>Checks a sequence call's arguments; throws before anything is written.</summary>
    private static void ValidateForward(in RnnShape shape, ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0)
    {
        int inputSize = shape.InputSize, hidden = shape.HiddenSize, directions = shape.NumDirections, layers = shape.NumLayers;
        Check.Positive(seqLen, nameof(seqLen));
        Check.Positive(batch, nameof(batch));
        int inputLength = Check.Product(nameof(input), seqLen, batch, inputSize);
        int outputLength = Check.Product(nameof(output), seqLen, batch, directions, hidden);
        int stateLength = Check.Product(nameof(hN), layers, directions, batch, hidden);
        if (input.Length != inputLength)
            Check.ThrowLength(nameof(input), input.Length, inputLength, $"{Rows(shape, seqLen, batch)}·inputSize {inputSize}");
        if (output.Length != outputLength)
            Check.ThrowLength(nameof(output), output.Length, outputLength, $"{Rows(shape, seqLen, batch)}·directions·hiddenSize {directions}·{hidden}");
        if (hN.Length != stateLength)
            Check.ThrowLength(nameof(hN), hN.Length, stateLength, $"numLayers·directions·batch·hiddenSize ({layers}·{directions}·{batch}·{hidden})");
        if (h0.Length != 0 && h0.Length != stateLength)
            Check.ThrowLength(nameof(h0), h0.Length, stateLength, $"numLayers·directions·batch·hiddenSize ({layers}·{directions}·{batch}·{hidden})", optional: true);
        Check.NoOverlap(output, nameof(output), input, nameof(input));
        Check.NoOverlap(output, nameof(output), hN, nameof(hN));
        Check.NoOverlap(output, nameof(output), h0, nameof(h0));
        Check.NoOverlap(hN, nameof(hN), input, nameof(input));
        if (hN.Overlaps(h0) && !(hN.Length == h0.Length && Unsafe.AreSame(ref MemoryMarshal.GetReference(hN), ref MemoryMarshal.GetReference(h0))))
            throw new ArgumentException("hN must be either the same memory as h0 or not overlap it.", nameof(hN));

    }

    /// <summary>Checks a cell call's arguments; throws before anything is written.</summary>
    private static void ValidateCell(in RnnShape shape, ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext)
    {
        int hidden = shape.HiddenSize;
        Check.Positive(batch, nameof(batch));
        int inputLength = Check.Product(nameof(input), batch, shape.InputSize);
        int stateLength = Check.Product(nameof(hNext), batch, hidden);
        if (input.Length != inputLength)
            Check.ThrowLength(nameof(input), input.Length, inputLength, $"batch·inputSize ({batch}·{shape.InputSize})");
        if (hx.Length != 0 && hx.Length != stateLength)
            Check.ThrowLength(nameof(hx), hx.Length, stateLength, $"batch·hiddenSize ({batch}·{hidden})", optional: true);
        if (hNext.Length != stateLength)
            Check.ThrowLength(nameof(hNext), hNext.Length, stateLength, $"batch·hiddenSize ({batch}·{hidden})");
        Check.NoOverlap(hNext, nameof(hNext), input, nameof(input));

    }

    private static string Rows(in RnnShape shape, int seqLen, int batch) =>
        shape.BatchFirst ? $"batch·seqLen ({batch}·{seqLen})" : $"seqLen·batch ({seqLen}·{batch})";

    /// <summary>
    /// <c>torch.nn.RNNCell.forward</c>: <paramref name="input"/> (batch, input), <paramref name="hx"/> and
    /// <paramref name="hNext"/> (batch, hidden); an empty <paramref name="hx"/> means zeros.
    /// <paramref name="hx"/> may be the same memory as <paramref name="hNext"/> (state updated in place).
    /// </summary>
    public static void CellForward<TKernels>(ref TKernels kernels, in RnnShape shape, RnnWorkspace workspace,
        ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext)
        where TKernels : struct, IRnnKernels
    {
        ValidateCell(shape, input, batch, hx, hNext);
        workspace.Tape.Observe(1, batch);
        int hidden = shape.HiddenSize, stateLength = batch * hidden;
        ref float pre = ref workspace.Pre(Check.Product("workspace", batch, kernels.PreStride));
        kernels.Project(0, 0, ref MemoryMarshal.GetReference(input), shape.InputSize, batch, ref pre);
        if (hx.IsEmpty)
        {
            kernels.Step(0, 0, ref workspace.Zeros(hidden), 0, ref pre, batch, ref MemoryMarshal.GetReference(hNext), hidden);
        }
        else if (hx.Overlaps(hNext))
        {
            // A kernel reads the whole previous state while it writes the new one: go through scratch.
            ref float scratch = ref workspace.Scratch(stateLength);
            kernels.Step(0, 0, ref MemoryMarshal.GetReference(hx), hidden, ref pre, batch, ref scratch, hidden);
            MemoryMarshal.CreateReadOnlySpan(ref scratch, stateLength).CopyTo(hNext);
        }
        else
        {
            kernels.Step(0, 0, ref MemoryMarshal.GetReference(hx), hidden, ref pre, batch, ref MemoryMarshal.GetReference(hNext), hidden);
        }
    }
}

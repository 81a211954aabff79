using System;
using System.ComponentModel;

namespace RnnGen.__Internals;

/// <summary>
/// What distinguishes one kind of recurrent cell in the shape-agnostic driver: how many gates it has,
/// whether it carries a cell state, and its backward step (the kernels carry its forward step).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGateMath
{
    /// <summary>Gates per hidden unit.</summary>
    static abstract int Gates { get; }

    /// <summary>Whether the cell carries a state c besides h (the LSTM).</summary>
    static abstract bool HasCell { get; }

    /// <summary>Vectors of units a training step records per row (gate activations and the like; 0: none).</summary>
    static abstract int TapeSlots { get; }

    /// <summary>
    /// Whether the gradient at the input-side pre-activations differs from the hidden side's (the GRU, whose n
    /// gate multiplies the hidden product by r), and h' depends on h directly (z ⊙ h).
    /// </summary>
    static abstract bool SplitsGradients { get; }

    /// <summary>
    /// Back through one step for one row: from the gradient at h (<paramref name="gradOutput"/> from the
    /// output plus <paramref name="gradRecurrent"/> from the next step) and, with a cell state, at c
    /// (<paramref name="gradCell"/>, replaced by the gradient at the previous c), writes the gradient at the
    /// hidden-side pre-activations into <paramref name="da"/> (in <paramref name="layout"/>; padding left as it
    /// is) and, when <see cref="SplitsGradients"/>, the input side's into <paramref name="daInput"/> and the
    /// direct gradient at the previous h into <paramref name="gradDirect"/>. <paramref name="tape"/> is the
    /// step's record, laid out as <paramref name="layout"/> lays out <see cref="TapeSlots"/> gates. Spans of units hold at
    /// least the hidden size; <paramref name="da"/> and <paramref name="daInput"/> a whole row of the layout.
    /// </summary>
    static abstract void Backward(in GateLayout layout, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradRecurrent, Span<float> gradCell,
        ReadOnlySpan<float> tape, ReadOnlySpan<float> h, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> cPrev,
        Span<float> da, Span<float> daInput, Span<float> gradDirect);
}

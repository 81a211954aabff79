using System.ComponentModel;

namespace RnnGen.__Internals;

/// <summary>The scratch buffers of a module, one per purpose.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum WorkspaceSlot
{
    /// <summary>Pre-activations of the current layer.</summary>
    Pre,

    /// <summary>General scratch (a cell's in-place step).</summary>
    Scratch,

    /// <summary>A row of zeros: the default initial state.</summary>
    Zeros,

    /// <summary>The training tape: layer inputs, states and dropout masks.</summary>
    Tape,

    /// <summary>Backward: gradients at the pre-activations, per direction.</summary>
    GradPre,

    /// <summary>Backward: gradients at a layer's output, per direction.</summary>
    GradOutput,

    /// <summary>Backward: gradient at a layer's input.</summary>
    GradInput,

    /// <summary>Backward: gradient at the previous state.</summary>
    GradState,

    /// <summary>Backward: one weight gradient before it is added to the module's gradients.</summary>
    GradWeight,

    /// <summary>An LSTM's cell state during inference.</summary>
    Cell,

    /// <summary>Backward: gradient at the previous cell state.</summary>
    GradCell,

    /// <summary>Backward: a GRU's input-side pre-activation gradients.</summary>
    GradPreInput,

    /// <summary>Backward: a GRU's direct gradient at the previous state.</summary>
    GradDirect,

    /// <summary>A projecting LSTM's m = o ⊙ tanh(c) before the projection (inference), or its gradient (backward).</summary>
    Unprojected,
}

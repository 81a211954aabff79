using System.ComponentModel;

namespace RnnGen.__Internals;

/// <summary>
/// One sequence forward call as the driver's steps see it: the caller's buffers (pinned for the call) and the
/// workspace's, with the layout's strides. A plain struct of pointers, so that the parts of a call split over threads
/// (<see cref="SequenceJob{TKernels}"/>) can carry it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
internal unsafe struct SequenceFrame
{
    /// <summary>The caller's input, output, final and initial states; null where the caller passed an empty span.</summary>
    public float* Input, Output, HN, H0, CN, C0;

    /// <summary>The workspace's pre-activations, a row of zeros, padded cell rows and unprojected LSTM outputs (null when unused).</summary>
    public float* Pre, Zeros, Cells, Unprojected;

    public int SeqLen, Batch;

    /// <summary>Between rows of one time step, and between time steps, in the output (and in the input, scaled by its width).</summary>
    public nint OutRowStride, OutStepStride;

    /// <summary>Whether the cell state runs in cN itself (unpadded rows); whether there is a cell state; whether h is projected.</summary>
    public bool CellsInPlace, HasCell, Projects;
}

/// <summary>One cell call as the driver's step sees it (see <see cref="SequenceFrame"/>).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
internal unsafe struct CellFrame
{
    /// <summary>The caller's buffers; null where the caller passed an empty span.</summary>
    public float* Input, HX, HNext, CX, CNext;

    /// <summary>The workspace's pre-activations, a row of zeros, padded cell rows and the new state's scratch (null when unused).</summary>
    public float* Pre, Zeros, Cells, Scratch;

    public int Batch;

    /// <summary>Whether there is a cell state; whether it runs in cNext itself; whether h goes through scratch (hx overlaps hNext).</summary>
    public bool HasCell, CellsInPlace, ThroughScratch;
}

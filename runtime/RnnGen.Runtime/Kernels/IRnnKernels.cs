using System.ComponentModel;

namespace RnnGen.Kernels;

/// <summary>
/// The two operations an Elman RNN layer is made of, as a generated struct (or the generic kernels)
/// implements them for one shape. <see cref="RnnDriver"/> calls them through a generic struct parameter,
/// so the JIT binds each call directly to the shape's code.
/// </summary>
/// <remarks>
/// Rows are addressed as a first element plus a row stride in floats (a stride of 0 repeats one row), so
/// the driver reads and writes PyTorch's layouts in place: time-major or batch-first, directions
/// interleaved in the output.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IRnnKernels
{
    /// <summary>Floats per row of the pre-activation buffer (the hidden size, padded to the kernel's vectors).</summary>
    int PreStride { get; }

    /// <summary>
    /// The input projection, which has no time dependency: for r &lt; rows,
    /// <c>pre[r] = x[r] · W_ih(layer, direction)ᵀ + b_ih + b_hh</c>, with row r of x at <c>r · xStride</c> and of
    /// pre at <c>r · PreStride</c>.
    /// </summary>
    void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre);

    /// <summary>
    /// One recurrent step: for r &lt; rows, <c>h[r] = act(pre[r] + hPrev[r] · W_hh(layer, direction)ᵀ)</c>, writing
    /// exactly hidden-size floats per row. <paramref name="h"/> must not overlap <paramref name="hPrev"/>.
    /// </summary>
    void Step(int layer, int direction, ref float hPrev, nint hPrevStride, ref float pre, int rows, ref float h, nint hStride);

    /// <summary>Floats per row of <paramref name="layer"/>'s input as the training tape and the backward pass store it (padded like <see cref="PreStride"/>).</summary>
    int InputStride(int layer);

    /// <summary>
    /// Back through one recurrent step: for r &lt; rows, <c>dh[r] = da[r] · W_hh(layer, direction)</c>, with rows of
    /// <see cref="PreStride"/> floats in both (the padding of <paramref name="da"/> is zero; that of dh is written).
    /// </summary>
    void BackStep(int layer, int direction, ref float da, int rows, ref float dh);

    /// <summary>
    /// Back through the input projection: for r &lt; rows, <c>dx[r] += da[r] · W_ih(layer, direction)</c>; rows of
    /// <see cref="PreStride"/> and <see cref="InputStride"/> floats.
    /// </summary>
    void BackProject(int layer, int direction, ref float da, int rows, ref float dx);

    /// <summary>
    /// A weight gradient: for every hidden unit j, <c>dw[j] += Σ_r da[r][j] · x[r]</c> over <paramref name="rows"/>
    /// rows. For W_ih (<paramref name="recurrent"/> false) x and dw rows hold <see cref="InputStride"/> floats;
    /// for W_hh, <see cref="PreStride"/>. <paramref name="da"/> rows hold <see cref="PreStride"/> floats.
    /// </summary>
    void WeightGrad(int layer, int direction, bool recurrent, ref float da, ref float x, int rows, ref float dw);
}

using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.Kernels;

/// <summary>
/// Scalar kernels for any <see cref="RnnShape"/>, reading the parameters in PyTorch's layout directly (no
/// packing, so never stale). They run where no SIMD path applies, they back the run-time-sized modules in
/// <see cref="RnnGen.Dynamic"/>, and they are the reference the generated kernels are tested against.
/// </summary>
/// <typeparam name="TActivation">The non-linearity.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct GenericRnnKernels<TActivation> : IRnnKernels
    where TActivation : struct, IActivation
{
    private readonly RnnShape _shape;
    private readonly ParameterSet _parameters;

    /// <summary>Kernels for <paramref name="shape"/> over <paramref name="parameters"/> (laid out as the shape says).</summary>
    public GenericRnnKernels(in RnnShape shape, ParameterSet parameters)
    {
        _shape = shape;
        _parameters = parameters;
    }

    /// <inheritdoc/>
    public int PreStride => _shape.HiddenSize;

    /// <inheritdoc/>
    public void Project(int layer, int direction, ref float x, nint xStride, int rows, ref float pre)
    {
        int block = _shape.BlockIndex(layer, direction);
        int hidden = _shape.HiddenSize, cols = _shape.LayerInputSize(layer);
        float[] p = _parameters.Data;
        int w = _parameters.OffsetOf(block);
        int bih = _shape.Bias ? _parameters.OffsetOf(block + 2) : -1;
        int bhh = _shape.Bias ? _parameters.OffsetOf(block + 3) : -1;
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref x, r * xStride);
            for (int j = 0; j < hidden; j++)
            {
                float sum = bih >= 0 ? p[bih + j] + p[bhh + j] : 0f;
                int row = w + j * cols;
                for (int k = 0; k < cols; k++)
                    sum += p[row + k] * Unsafe.Add(ref xr, k);
                Unsafe.Add(ref pre, r * hidden + j) = sum;
            }
        }
    }

    /// <inheritdoc/>
    public void Step(int layer, int direction, ref float hPrev, nint hPrevStride, ref float pre, int rows, ref float h, nint hStride)
    {
        int hidden = _shape.HiddenSize;
        float[] p = _parameters.Data;
        int w = _parameters.OffsetOf(_shape.BlockIndex(layer, direction) + 1);
        for (int r = 0; r < rows; r++)
        {
            ref float hr = ref Unsafe.Add(ref hPrev, r * hPrevStride);
            for (int j = 0; j < hidden; j++)
            {
                float sum = Unsafe.Add(ref pre, r * hidden + j);
                int row = w + j * hidden;
                for (int k = 0; k < hidden; k++)
                    sum += p[row + k] * Unsafe.Add(ref hr, k);
                Unsafe.Add(ref h, r * hStride + j) = TActivation.Invoke(sum);
            }
        }
    }

    /// <inheritdoc/>
    public int InputStride(int layer) => _shape.LayerInputSize(layer);

    /// <inheritdoc/>
    public void BackStep(int layer, int direction, ref float da, int rows, ref float dh)
    {
        int hidden = _shape.HiddenSize;
        float[] p = _parameters.Data;
        int w = _parameters.OffsetOf(_shape.BlockIndex(layer, direction) + 1);
        for (int r = 0; r < rows; r++)
        {
            ref float dar = ref Unsafe.Add(ref da, r * hidden);
            ref float dhr = ref Unsafe.Add(ref dh, r * hidden);
            for (int k = 0; k < hidden; k++)
                Unsafe.Add(ref dhr, k) = 0f;
            for (int j = 0; j < hidden; j++)
            {
                float g = Unsafe.Add(ref dar, j);
                int row = w + j * hidden;
                for (int k = 0; k < hidden; k++)
                    Unsafe.Add(ref dhr, k) += g * p[row + k];
            }
        }
    }

    /// <inheritdoc/>
    public void BackProject(int layer, int direction, ref float da, int rows, ref float dx)
    {
        int hidden = _shape.HiddenSize, cols = _shape.LayerInputSize(layer);
        float[] p = _parameters.Data;
        int w = _parameters.OffsetOf(_shape.BlockIndex(layer, direction));
        for (int r = 0; r < rows; r++)
        {
            ref float dar = ref Unsafe.Add(ref da, r * hidden);
            ref float dxr = ref Unsafe.Add(ref dx, r * cols);
            for (int j = 0; j < hidden; j++)
            {
                float g = Unsafe.Add(ref dar, j);
                int row = w + j * cols;
                for (int k = 0; k < cols; k++)
                    Unsafe.Add(ref dxr, k) += g * p[row + k];
            }
        }
    }

    /// <inheritdoc/>
    public void WeightGrad(int layer, int direction, bool recurrent, ref float da, ref float x, int rows, ref float dw)
    {
        int hidden = _shape.HiddenSize, cols = recurrent ? hidden : _shape.LayerInputSize(layer);
        for (int j = 0; j < hidden; j++)
        {
            ref float dwj = ref Unsafe.Add(ref dw, j * cols);
            for (int r = 0; r < rows; r++)
            {
                float g = Unsafe.Add(ref da, r * hidden + j);
                ref float xr = ref Unsafe.Add(ref x, r * cols);
                for (int k = 0; k < cols; k++)
                    Unsafe.Add(ref dwj, k) += g * Unsafe.Add(ref xr, k);
            }
        }
    }
}

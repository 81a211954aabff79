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
}

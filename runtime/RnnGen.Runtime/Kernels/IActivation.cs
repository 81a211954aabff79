using System.ComponentModel;
using System.Runtime.Intrinsics;

namespace RnnGen.__Internals;

/// <summary>
/// An element-wise activation written once for every width (TensorPrimitives' unary-operator pattern):
/// the scalar form serves the generic kernels, the vector forms the generated ones.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IActivation
{
    /// <summary>The activation of one value.</summary>
    static abstract float Invoke(float x);

    /// <summary>The activation of 4 lanes.</summary>
    static abstract Vector128<float> Invoke(Vector128<float> x);

    /// <summary>The activation of 8 lanes.</summary>
    static abstract Vector256<float> Invoke(Vector256<float> x);

    /// <summary>The activation of 16 lanes.</summary>
    static abstract Vector512<float> Invoke(Vector512<float> x);

    /// <summary>The derivative at the input whose activation is <paramref name="y"/> (what the backward pass keeps).</summary>
    static abstract float DerivativeFromOutput(float y);
}

using System.ComponentModel;

namespace RnnGen.__Internals;

/// <summary>The step of one cell kind in the generic kernels (the products are the same for every kind).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGenericStep
{
    /// <summary>Gates per hidden unit.</summary>
    static abstract int Gates { get; }

    /// <summary>The first gate whose bias_hh stays out of the input projection (a GRU's n: 2), else int.MaxValue.</summary>
    static abstract int HiddenBiasFromGate { get; }

    /// <summary>One recurrent step, with <see cref="IRnnKernels.Step"/>'s contract, on PyTorch-layout parameters.</summary>
    static abstract void Step(in RnnShape shape, ParameterSet parameters, int layer, int direction, StridedRows hPrev, ref float pre, int rows,
        StridedRows h, StridedRows cPrev, StridedRows c, ref float gates);
}

using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RnnGen.__Internals;

/// <summary>
/// Compiles a generated module's streaming forward path under the JIT while the module is constructed, so that its
/// first <c>Forward</c> (on an audio thread, say) runs code that is already compiled. A generated constructor calls
/// it last. The first instance of each module type runs the forward calls a stream makes (batch 1: one step, a cell's
/// also with its state in place, and for a sequence module also a block of eight steps) on zeros, into arrays of its own; later instances and
/// NativeAOT (nothing to compile) skip it. The module's parameters, state and random sequences are not touched.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Warmup
{
    private static readonly HashSet<Type> s_warmed = new();

    // One step (the per-step path), and a block of eight: the block kernel where the shape has one (projecting its own
    // input where that is narrow), else the input projection's row blocks of four (AVX-512) or two.
    private static readonly int[] SequenceLengths = { 1, 8 };

    /// <summary>Warms an <c>RNNCell</c> or <c>GRUCell</c> module.</summary>
    public static void Run(IRnnCellModule module)
    {
        if (!FirstOfType(module))
            return;
        var h = new float[module.HiddenSize];
        // From the default state, then with the state carried in place (hx = hNext), as a stream calls.
        module.Forward(new float[module.InputSize], 1, default, h);
        module.Forward(new float[module.InputSize], 1, h, h);
    }

    /// <summary>Warms an <c>LSTMCell</c> module.</summary>
    public static void Run(ILstmCellModule module)
    {
        if (!FirstOfType(module))
            return;
        float[] h = new float[module.HiddenSize], c = new float[module.HiddenSize];
        module.Forward(new float[module.InputSize], 1, default, default, h, c);
        module.Forward(new float[module.InputSize], 1, h, c, h, c);
    }

    /// <summary>Warms an <c>RNN</c> or <c>GRU</c> module.</summary>
    public static void Run(IRnnModule module)
    {
        if (!FirstOfType(module))
            return;
        int state = module.NumLayers * module.NumDirections * module.HiddenSize, output = module.NumDirections * module.HiddenSize;
        foreach (int seqLen in SequenceLengths)
            module.Forward(new float[seqLen * module.InputSize], seqLen, 1, new float[seqLen * output], new float[state]);
    }

    /// <summary>Warms an <c>LSTM</c> module.</summary>
    public static void Run(ILstmModule module)
    {
        if (!FirstOfType(module))
            return;
        int outputSize = module.ProjSize > 0 ? module.ProjSize : module.HiddenSize;
        int layers = module.NumLayers * module.NumDirections;
        foreach (int seqLen in SequenceLengths)
            module.Forward(new float[seqLen * module.InputSize], seqLen, 1, new float[seqLen * module.NumDirections * outputSize],
                new float[layers * outputSize], new float[layers * module.HiddenSize]);
    }

    /// <summary>Whether this is the first instance of its type to warm (and the JIT has anything to compile).</summary>
    private static bool FirstOfType(object module)
    {
        if (!RuntimeFeature.IsDynamicCodeSupported)
            return false;
        lock (s_warmed)
            return s_warmed.Add(module.GetType());
    }
}

using System;
using System.Diagnostics.CodeAnalysis;

namespace RnnGen;

/// <summary>
/// A running LSTM stream: <c>out, (h, c) = lstm(block, (h, c))</c> block after block, with the state kept here.
/// The module holds the weights and this object holds one stream's h and c for every layer, so one module serves
/// any number of streams (voices, channels): <c>new LstmStream(lstm)</c> per voice.
/// </summary>
/// <remarks>
/// <para>
/// Each <see cref="Process"/> is one <see cref="ILstmModule.Forward"/> call with seqLen = the block's length,
/// batch 1, h0/c0 = the state and hN/cN = the same memory, so a signal streamed in blocks of any sizes gives
/// the numbers one Forward over the whole signal gives (the recurrence is the same sequence of calls; see the
/// README's "Real-time use" for where the results are bit-identical).
/// </para>
/// <para>
/// Allocates nothing once the module's workspace has grown to the largest block it has run (make one call with
/// your block size before the stream starts). Streams over one module share its workspace: call them from one
/// thread at a time (a call entering a module that is running throws <see cref="InvalidOperationException"/>),
/// or give each thread a module of its own.
/// </para>
/// </remarks>
public sealed class LstmStream
{
    private readonly float[] _h;
    private readonly float[] _c;
    private readonly int _inputSize;
    private readonly int _outputSize;

    /// <summary>A stream over <paramref name="module"/>, starting from zeros (as PyTorch's default h0 and c0).</summary>
    /// <param name="module">A generated <c>[Lstm]</c> class or <see cref="Dynamic.Lstm"/>, unidirectional; batch-first or not (at batch 1 the layouts agree).</param>
    /// <exception cref="ArgumentException">The module is bidirectional: its reverse direction would need the future of the signal.</exception>
    public LstmStream(ILstmModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module.NumDirections != 1)
            throw new ArgumentException("A stream runs forward in time, and a bidirectional module's reverse direction needs the end of the signal first; stream a module with Bidirectional = false.", nameof(module));
        Module = module;
        _inputSize = module.InputSize;
        _outputSize = module.ProjSize > 0 ? module.ProjSize : module.HiddenSize;
        _h = new float[checked(module.NumLayers * _outputSize)];
        _c = new float[checked(module.NumLayers * module.HiddenSize)];
    }

    /// <summary>The module whose weights this stream runs.</summary>
    public ILstmModule Module { get; }

    /// <summary>Features per time step of the input (the module's <see cref="ILstmModule.InputSize"/>).</summary>
    public int InputSize => _inputSize;

    /// <summary>Features per time step of the output: <see cref="ILstmModule.ProjSize"/> when set, else <see cref="ILstmModule.HiddenSize"/>.</summary>
    public int OutputSize => _outputSize;

    /// <summary>The hidden state h, (layers, 1, <see cref="OutputSize"/>): PyTorch's h_n after the last block. A view: it changes with the stream.</summary>
    public ReadOnlySpan<float> H => _h;

    /// <summary>The cell state c, (layers, 1, hidden): PyTorch's c_n after the last block. A view: it changes with the stream.</summary>
    public ReadOnlySpan<float> C => _c;

    /// <summary>
    /// Runs one block: <paramref name="input"/> holds T time steps of <see cref="InputSize"/> features (T ≥ 1, any T
    /// from call to call), <paramref name="output"/> receives T steps of <see cref="OutputSize"/> features, and the
    /// state moves on by T steps.
    /// </summary>
    /// <exception cref="ArgumentException">A length is wrong, or input and output overlap; nothing was written and the state is unchanged.</exception>
    /// <exception cref="InvalidOperationException">Another call is running in the same module.</exception>
    public void Process(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length == 0 || input.Length % _inputSize != 0)
            ThrowInputLength(input.Length, _inputSize);
        int steps = input.Length / _inputSize;
        if (output.Length != (long)steps * _outputSize)
            ThrowOutputLength(output.Length, steps, _outputSize);
        Module.Forward(input, steps, 1, output, _h, _c, _h, _c);
    }

    /// <summary>Sets h and c to zeros, the state a new stream starts from.</summary>
    public void Reset()
    {
        Array.Clear(_h);
        Array.Clear(_c);
    }

    /// <summary>Sets the state to <paramref name="h0"/> (layers, 1, <see cref="OutputSize"/>) and <paramref name="c0"/> (layers, 1, hidden), as PyTorch's <c>(h_0, c_0)</c>.</summary>
    /// <exception cref="ArgumentException">A length is wrong; the state is unchanged.</exception>
    public void Reset(ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        if (h0.Length != _h.Length)
            ThrowStateLength(nameof(h0), h0.Length, _h.Length, "layers·outputSize");
        if (c0.Length != _c.Length)
            ThrowStateLength(nameof(c0), c0.Length, _c.Length, "layers·hiddenSize");
        h0.CopyTo(_h);
        c0.CopyTo(_c);
    }

    [DoesNotReturn]
    internal static void ThrowInputLength(int length, int inputSize) =>
        throw new ArgumentException($"input must hold T ≥ 1 time steps of inputSize = {inputSize} features (a positive multiple of {inputSize} floats); got {length}.", "input");

    [DoesNotReturn]
    internal static void ThrowOutputLength(int length, int steps, int outputSize) =>
        throw new ArgumentException($"output must hold T·outputSize ({steps}·{outputSize}) = {(long)steps * outputSize} floats for an input of {steps} time steps; got {length}.", "output");

    [DoesNotReturn]
    internal static void ThrowStateLength(string name, int length, int expected, string layout) =>
        throw new ArgumentException($"{name} must hold {layout} = {expected} floats; got {length}.", name);
}

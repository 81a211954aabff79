using System;

namespace RnnGen;

/// <summary>
/// A running RNN or GRU stream: <c>out, h = rnn(block, h)</c> block after block, with h kept here, so one module
/// serves any number of streams. The same contract as <see cref="LstmStream"/>, without a cell state.
/// </summary>
/// <remarks>
/// Each <see cref="Process"/> is one <see cref="IRnnModule.Forward"/> call with seqLen = the block's length, batch 1
/// and h0 = hN = the state. Allocates nothing once the module's workspace has grown to the largest block. Streams
/// over one module share its workspace: one thread at a time.
/// </remarks>
public sealed class RnnStream
{
    private readonly float[] _h;
    private readonly int _inputSize;
    private readonly int _outputSize;

    /// <summary>A stream over <paramref name="module"/>, starting from zeros.</summary>
    /// <param name="module">A generated <c>[Rnn]</c> or <c>[Gru]</c> class, <see cref="Dynamic.Rnn"/> or <see cref="Dynamic.Gru"/>, unidirectional.</param>
    /// <exception cref="ArgumentException">The module is bidirectional: its reverse direction would need the future of the signal.</exception>
    public RnnStream(IRnnModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module.NumDirections != 1)
            throw new ArgumentException("A stream runs forward in time, and a bidirectional module's reverse direction needs the end of the signal first; stream a module with Bidirectional = false.", nameof(module));
        Module = module;
        _inputSize = module.InputSize;
        _outputSize = module.HiddenSize;
        _h = new float[checked(module.NumLayers * _outputSize)];
    }

    /// <summary>The module whose weights this stream runs.</summary>
    public IRnnModule Module { get; }

    /// <summary>Features per time step of the input.</summary>
    public int InputSize => _inputSize;

    /// <summary>Features per time step of the output (the module's hidden size).</summary>
    public int OutputSize => _outputSize;

    /// <summary>The hidden state h, (layers, 1, hidden): PyTorch's h_n after the last block. A view: it changes with the stream.</summary>
    public ReadOnlySpan<float> H => _h;

    /// <summary>
    /// Runs one block: <paramref name="input"/> holds T ≥ 1 time steps of <see cref="InputSize"/> features,
    /// <paramref name="output"/> receives T steps of <see cref="OutputSize"/> features, and the state moves on by T steps.
    /// </summary>
    /// <exception cref="ArgumentException">A length is wrong, or input and output overlap; nothing was written and the state is unchanged.</exception>
    /// <exception cref="InvalidOperationException">Another call is running in the same module.</exception>
    public void Process(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length == 0 || input.Length % _inputSize != 0)
            LstmStream.ThrowInputLength(input.Length, _inputSize);
        int steps = input.Length / _inputSize;
        if (output.Length != (long)steps * _outputSize)
            LstmStream.ThrowOutputLength(output.Length, steps, _outputSize);
        Module.Forward(input, steps, 1, output, _h, _h);
    }

    /// <summary>Sets h to zeros, the state a new stream starts from.</summary>
    public void Reset() => Array.Clear(_h);

    /// <summary>Sets h to <paramref name="h0"/> (layers, 1, hidden), as PyTorch's <c>h_0</c>.</summary>
    /// <exception cref="ArgumentException">The length is wrong; the state is unchanged.</exception>
    public void Reset(ReadOnlySpan<float> h0)
    {
        if (h0.Length != _h.Length)
            LstmStream.ThrowStateLength(nameof(h0), h0.Length, _h.Length, "layers·hiddenSize");
        h0.CopyTo(_h);
    }
}

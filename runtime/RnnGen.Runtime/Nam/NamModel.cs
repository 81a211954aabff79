using System;
using System.Collections.Generic;
using System.IO;

namespace RnnGen;

/// <summary>
/// A Neural Amp Modeler LSTM model, ready to play: samples in, samples out, block after block, from the file's
/// initial state. <c>var amp = NamModel.Load("model.nam", new MyLstm())</c> with <c>[Lstm(1, 16)] partial class
/// MyLstm</c> for the generated kernels, or <c>NamModel.Load("model.nam")</c> when the sizes are only known at run
/// time (<see cref="Dynamic.Lstm"/>, the generic kernels).
/// </summary>
/// <remarks>
/// <see cref="Process"/> runs the LSTM over the block with an <see cref="LstmStream"/> (one module call per block),
/// then the <c>Linear(hidden, 1)</c> head on every step, as NeuralAmpModelerCore's <c>nam::lstm::LSTM</c> does
/// sample by sample. It allocates nothing once it has run a block as long as the longest it will run (make that
/// call before the stream starts, as the README's "Real-time use" says).
/// </remarks>
public sealed class NamModel
{
    private readonly float[] _h0;
    private readonly float[] _c0;
    private readonly int _inputSize;
    private readonly int _hiddenSize;
    private float[] _hidden = Array.Empty<float>();

    /// <summary>
    /// Loads <paramref name="file"/> into <paramref name="lstm"/> (or, when null, into a new
    /// <see cref="Dynamic.Lstm"/> of the file's sizes) and a new <see cref="Dynamic.Linear"/> head, and starts from
    /// the file's initial state.
    /// </summary>
    /// <param name="lstm">A generated class declared with <see cref="NamFile.Declaration"/> (such as <c>[Lstm(1, 16)]</c>), a <see cref="Dynamic.Lstm"/>, or null.</param>
    /// <exception cref="InvalidDataException">The file's shape is not the module's (the message says what to declare); the module is unchanged.</exception>
    public NamModel(NamFile file, ILstmModule? lstm = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        var head = new Dynamic.Linear(file.HiddenSize, 1, seed: 0);
        lstm ??= new Dynamic.Lstm(file.InputSize, file.HiddenSize, file.NumLayers, seed: 0);
        file.LoadInto(lstm, head);
        Lstm = lstm;
        Head = head;
        Stream = new LstmStream(lstm);
        SampleRate = file.SampleRate;
        Metadata = file.Metadata;
        Version = file.Version;
        _inputSize = file.InputSize;
        _hiddenSize = file.HiddenSize;
        _h0 = file.InitialH.ToArray();
        _c0 = file.InitialC.ToArray();
        Stream.Reset(_h0, _c0);
    }

    /// <summary>Reads the <c>.nam</c> file at <paramref name="path"/> and loads it as <see cref="NamModel(NamFile, ILstmModule)"/> does.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a NAM LSTM model RnnGen reads, or its shape is not the module's; the module is unchanged.</exception>
    public static NamModel Load(string path, ILstmModule? lstm = null) => new(NamFile.Read(path), lstm);

    /// <summary>The LSTM that holds the model's weights.</summary>
    public ILstmModule Lstm { get; }

    /// <summary>The head, <c>Linear(hidden, 1)</c>.</summary>
    public Dynamic.Linear Head { get; }

    /// <summary>The LSTM's running state (h and c after the last block).</summary>
    public LstmStream Stream { get; }

    /// <summary>The sample rate the model was trained at, in Hz, or null when the file does not say.</summary>
    public double? SampleRate { get; }

    /// <summary>The file's simple metadata (<c>name</c>, <c>modeled_by</c>, <c>gear_make</c>, ...); see <see cref="NamFile.Metadata"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The file's version.</summary>
    public string Version { get; }

    /// <summary>
    /// Runs one block: <paramref name="input"/> holds T ≥ 1 samples (T × input_size values when the model takes more
    /// than one feature per sample), <paramref name="output"/> receives T samples. <paramref name="output"/> may be the
    /// same memory as <paramref name="input"/> (in-place processing).
    /// </summary>
    /// <exception cref="ArgumentException">A length is wrong; nothing was written and the state is unchanged.</exception>
    public void Process(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length == 0 || input.Length % _inputSize != 0)
            LstmStream.ThrowInputLength(input.Length, _inputSize);
        int steps = input.Length / _inputSize;
        if (output.Length != steps)
            LstmStream.ThrowOutputLength(output.Length, steps, 1);
        int hiddenLength = checked(steps * _hiddenSize);
        if (_hidden.Length < hiddenLength)
            _hidden = new float[hiddenLength];
        Span<float> hidden = _hidden.AsSpan(0, hiddenLength);
        Stream.Process(input, hidden); // reads all of input before the head writes output
        Head.Forward(hidden, steps, output);
    }

    /// <summary>Returns to the file's initial state, as a freshly loaded model.</summary>
    public void Reset() => Stream.Reset(_h0, _c0);
}

using System;

namespace RnnGen;

/// <summary>The non-linearity of an Elman RNN, PyTorch's <c>nonlinearity</c> argument.</summary>
public enum Nonlinearity
{
    /// <summary><c>h' = tanh(W_ih x + b_ih + W_hh h + b_hh)</c> (PyTorch's default).</summary>
    Tanh = 0,

    /// <summary><c>h' = relu(W_ih x + b_ih + W_hh h + b_hh)</c>.</summary>
    Relu = 1,
}

/// <summary>
/// The arguments every RnnGen module takes, as PyTorch names them. Apply one of the derived attributes
/// (<see cref="RnnAttribute"/>, <see cref="LstmAttribute"/>, <see cref="GruAttribute"/> and their cells) to a
/// non-generic <c>partial class</c>; the RnnGen generator emits the module's kernels and members.
/// </summary>
public abstract class RecurrentModuleAttribute : Attribute
{
    private protected RecurrentModuleAttribute(int inputSize, int hiddenSize)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
    }

    /// <summary>PyTorch's <c>input_size</c>.</summary>
    public int InputSize { get; }

    /// <summary>PyTorch's <c>hidden_size</c>.</summary>
    public int HiddenSize { get; }

    /// <summary>PyTorch's <c>bias</c> (default true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>
    /// Whether the module can train (default true). <c>Training = false</c> declares an inference-only module: the
    /// generator emits no backward kernels and packs no backward-only weights (a smaller file and a smaller packed
    /// buffer), and the class has no <c>Backward</c>, <c>Gradients</c>, <c>ZeroGrad</c>, <c>SeedDropout</c> or
    /// <c>training</c> parameter on <c>Forward</c>, so calling them directly is a compile error. Through the module
    /// interface they throw <see cref="NotSupportedException"/> naming this property. Forward computes bit for bit what
    /// the training module's inference forward computes.
    /// </summary>
    public bool Training { get; set; } = true;
}

/// <summary>The arguments a sequence module (RNN, LSTM, GRU) adds to a cell's, with PyTorch's defaults.</summary>
public abstract class SequenceModuleAttribute : RecurrentModuleAttribute
{
    private protected SequenceModuleAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>PyTorch's <c>num_layers</c> (default 1).</summary>
    public int NumLayers { get; set; } = 1;

    /// <summary>PyTorch's <c>batch_first</c> (default false): input and output are (batch, seq, feature).</summary>
    public bool BatchFirst { get; set; }

    /// <summary>PyTorch's <c>dropout</c> between layers (default 0); applies in training only.</summary>
    public double Dropout { get; set; }

    /// <summary>PyTorch's <c>bidirectional</c> (default false).</summary>
    public bool Bidirectional { get; set; }
}

/// <summary>
/// Generates a multi-layer Elman RNN with PyTorch's <c>torch.nn.RNN</c> semantics, sized at compile time: the
/// members <c>InputSize</c>, <c>HiddenSize</c>, <c>NumLayers</c>, <c>NumDirections</c>, <c>Parameters</c>,
/// <c>Forward</c>, <c>Backward</c> and the kernels.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnAttribute : SequenceModuleAttribute
{
    /// <summary>Declares an RNN with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public RnnAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>PyTorch's <c>nonlinearity</c> (default <see cref="RnnGen.Nonlinearity.Tanh"/>).</summary>
    public Nonlinearity Nonlinearity { get; set; } = Nonlinearity.Tanh;
}

/// <summary>Generates an Elman RNN cell with PyTorch's <c>torch.nn.RNNCell</c> semantics, sized at compile time.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnCellAttribute : RecurrentModuleAttribute
{
    /// <summary>Declares a cell with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public RnnCellAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>PyTorch's <c>nonlinearity</c> (default <see cref="RnnGen.Nonlinearity.Tanh"/>).</summary>
    public Nonlinearity Nonlinearity { get; set; } = Nonlinearity.Tanh;
}

/// <summary>
/// Generates a multi-layer LSTM with PyTorch's <c>torch.nn.LSTM</c> semantics (gate rows i, f, g, o), sized at
/// compile time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LstmAttribute : SequenceModuleAttribute
{
    /// <summary>Declares an LSTM with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public LstmAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>
    /// PyTorch's <c>proj_size</c>: 0 (the default) for none, or the features h is projected to by <c>weight_hr_l{k}</c>
    /// (h = W_hr (o ⊙ tanh c)); output, h0 and hN then have ProjSize features and c keeps hiddenSize. Must be below
    /// hiddenSize (RNNG0013).
    /// </summary>
    public int ProjSize { get; set; }
}

/// <summary>Generates an LSTM cell with PyTorch's <c>torch.nn.LSTMCell</c> semantics, sized at compile time.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LstmCellAttribute : RecurrentModuleAttribute
{
    /// <summary>Declares a cell with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public LstmCellAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }
}

/// <summary>
/// Generates a multi-layer GRU with PyTorch's <c>torch.nn.GRU</c> semantics (gate rows r, z, n; b_hn inside the
/// reset product), sized at compile time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GruAttribute : SequenceModuleAttribute
{
    /// <summary>Declares a GRU with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public GruAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }
}

/// <summary>Generates a GRU cell with PyTorch's <c>torch.nn.GRUCell</c> semantics, sized at compile time.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GruCellAttribute : RecurrentModuleAttribute
{
    /// <summary>Declares a cell with <paramref name="inputSize"/> input features and <paramref name="hiddenSize"/> hidden features.</summary>
    public GruCellAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }
}

/// <summary>
/// Bakes trained weights into a module at compile time: <c>new Amp()</c> then starts with the parameters of a
/// safetensors file (PyTorch's <c>save_file(model.state_dict(), ...)</c>), with no file I/O at run time (it works
/// under NativeAOT and in single-file apps). The generator checks the file against the declared shape as
/// <c>load_state_dict(strict=True)</c> does, and a file that does not fit is a compile error (RNNG0014 to RNNG0019).
/// </summary>
/// <remarks>
/// <para>
/// The file must be one of the project's <c>AdditionalFiles</c> (<c>&lt;AdditionalFiles Include="amp.safetensors" /&gt;</c>).
/// <see cref="File"/> names it by its path relative to the project directory, or by its file name (or a path suffix)
/// when that matches exactly one of the additional files.
/// </para>
/// <para>
/// A module with weights has a parameterless constructor only (dropout, if any, draws a random seed; reseed it with
/// <c>SeedDropout</c>); its <c>Parameters</c> stay writable, so it can be fine-tuned.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// [Lstm(1, 32, NumLayers = 2), Weights("amp.safetensors", Prefix = "lstm.")]
/// public partial class Amp;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WeightsAttribute : Attribute
{
    /// <summary>Bakes the weights of <paramref name="file"/>, an <c>AdditionalFiles</c> item in safetensors format.</summary>
    /// <param name="file">The path relative to the project directory, or the file name.</param>
    public WeightsAttribute(string file) => File = file;

    /// <summary>The safetensors file, relative to the project directory or by name.</summary>
    public string File { get; }

    /// <summary>
    /// The module's attribute path in the saved model, with its dot: <c>"lstm."</c> for <c>model.lstm</c>; empty (the
    /// default) for a state_dict saved from the module itself. As in <c>SafetensorsFile.LoadInto</c>, every key under the
    /// prefix must be a parameter of the module.
    /// </summary>
    public string Prefix { get; set; } = "";
}

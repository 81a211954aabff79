using System;

namespace RnnGen;

/// <summary>
/// A sequence module with <c>torch.nn.RNN</c>'s (and <c>torch.nn.GRU</c>'s) forward and backward: what every
/// generated <c>[Rnn]</c> and <c>[Gru]</c> class, <see cref="Dynamic.Rnn"/> and <see cref="Dynamic.Gru"/> implement.
/// </summary>
public interface IRnnModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the hidden state.</summary>
    int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    int NumLayers { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    int NumDirections { get; }

    /// <summary>Whether input and output are (batch, seq, feature).</summary>
    bool BatchFirst { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c>.</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, with the same names, order and shapes as <see cref="Parameters"/>; they accumulate like <c>.grad</c>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>PyTorch's <c>dropout</c> between layers, applied by training forwards only.</summary>
    double Dropout { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/> (PyTorch's <c>zero_grad()</c>).</summary>
    void ZeroGrad();

    /// <summary>Restarts the dropout masks' random sequence from <paramref name="seed"/>.</summary>
    void SeedDropout(int seed);

    /// <summary>
    /// Runs the module over a sequence. <paramref name="input"/>: (seq, batch, input), or (batch, seq, input)
    /// when batch-first. <paramref name="output"/>: (seq, batch, D·hidden), or batch-first likewise, with
    /// the directions side by side. <paramref name="hN"/> and <paramref name="h0"/>: (layers·D, batch,
    /// hidden), never batch-first; an empty <paramref name="h0"/> means zeros, and <paramref name="h0"/> may
    /// be the same memory as <paramref name="hN"/>. With <paramref name="training"/>, the call also records what
    /// <see cref="Backward"/> needs and drops out the inputs of layers above the first with probability
    /// <see cref="Dropout"/>. Allocates nothing once the workspace has grown to the call.
    /// </summary>
    /// <exception cref="ArgumentException">A length, seqLen or batch is wrong, or buffers overlap; nothing was written.</exception>
    void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, ReadOnlySpan<float> h0 = default, bool training = false);

    /// <summary>
    /// Backpropagation through time over the last training forward: adds every parameter's gradient into
    /// <see cref="Gradients"/> and writes the gradients at the input and at h0, in the forward's layouts.
    /// Empty <paramref name="gradOutput"/> / <paramref name="gradHn"/> mean zeros; empty
    /// <paramref name="gradInput"/> / <paramref name="gradH0"/> mean "not needed" and skip that work. The
    /// recording is kept, so Backward may run again on it (like <c>retain_graph=True</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No training forward preceded, a later Forward had another seqLen or batch, or the parameters changed since.</exception>
    /// <exception cref="ArgumentException">A length is wrong or buffers overlap; nothing was written.</exception>
    void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, Span<float> gradInput, Span<float> gradH0);
}

/// <summary>
/// A cell with <c>torch.nn.RNNCell</c>'s (and <c>torch.nn.GRUCell</c>'s) forward and backward: what every generated
/// <c>[RnnCell]</c> and <c>[GruCell]</c> class, <see cref="Dynamic.RnnCell"/> and <see cref="Dynamic.GruCell"/> implement.
/// </summary>
public interface IRnnCellModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the hidden state.</summary>
    int HiddenSize { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c>.</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, with the same names, order and shapes as <see cref="Parameters"/>; they accumulate like <c>.grad</c>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/> (PyTorch's <c>zero_grad()</c>).</summary>
    void ZeroGrad();

    /// <summary>
    /// One step: <paramref name="input"/> (batch, input), <paramref name="hx"/> and <paramref name="hNext"/>
    /// (batch, hidden). An empty <paramref name="hx"/> means zeros; <paramref name="hx"/> may be the same
    /// memory as <paramref name="hNext"/>. With <paramref name="training"/>, the call also records what
    /// <see cref="Backward"/> needs. Allocates nothing once the workspace has grown to the call.
    /// </summary>
    /// <exception cref="ArgumentException">A length or batch is wrong, or buffers overlap; nothing was written.</exception>
    void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, Span<float> hNext, bool training = false);

    /// <summary>
    /// Backward through the last training forward: adds every parameter's gradient into <see cref="Gradients"/>
    /// and writes the gradients at the input and at hx. Empty <paramref name="gradHNext"/> means zeros; empty
    /// <paramref name="gradInput"/> / <paramref name="gradHx"/> mean "not needed".
    /// </summary>
    /// <exception cref="InvalidOperationException">No training forward preceded, a later Forward had another batch, or the parameters changed since.</exception>
    void Backward(ReadOnlySpan<float> gradHNext, Span<float> gradInput, Span<float> gradHx);
}

/// <summary>
/// A sequence module with <c>torch.nn.LSTM</c>'s forward and backward: what every generated <c>[Lstm]</c> class
/// and <see cref="Dynamic.Lstm"/> implement.
/// </summary>
public interface ILstmModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the cell state c (and of h, unless <see cref="ProjSize"/> is set).</summary>
    int HiddenSize { get; }

    /// <summary>PyTorch's <c>proj_size</c>: 0, or the features of h (and of the output) after the projection <c>weight_hr</c>.</summary>
    int ProjSize { get; }

    /// <summary>Stacked layers.</summary>
    int NumLayers { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    int NumDirections { get; }

    /// <summary>Whether input and output are (batch, seq, feature).</summary>
    bool BatchFirst { get; }

    /// <summary>PyTorch's <c>dropout</c> between layers, applied by training forwards only.</summary>
    double Dropout { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c> (gate rows i, f, g, o; weight_hr last in each layer and direction).</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, laid out like <see cref="Parameters"/>; they accumulate like <c>.grad</c>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/>.</summary>
    void ZeroGrad();

    /// <summary>Restarts the dropout masks' random sequence from <paramref name="seed"/>.</summary>
    void SeedDropout(int seed);

    /// <summary>
    /// Runs the module over a sequence, with <see cref="IRnnModule.Forward"/>'s layouts, plus the cell states
    /// <paramref name="cN"/> and <paramref name="c0"/> (layers·D, batch, hidden); empty initial states mean zeros,
    /// and each may be the same memory as its final state. With a projection, output, h0 and hN have
    /// <see cref="ProjSize"/> features where they would have <see cref="HiddenSize"/>, as in PyTorch.
    /// </summary>
    void Forward(ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, bool training = false);

    /// <summary>Backpropagation through time over the last training forward, as <see cref="IRnnModule.Backward"/>, with the cell states' gradients.</summary>
    void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHn, ReadOnlySpan<float> gradCn, Span<float> gradInput, Span<float> gradH0, Span<float> gradC0);
}

/// <summary>A cell with <c>torch.nn.LSTMCell</c>'s forward and backward.</summary>
public interface ILstmCellModule
{
    /// <summary>Features per input row.</summary>
    int InputSize { get; }

    /// <summary>Features of the hidden and cell states.</summary>
    int HiddenSize { get; }

    /// <summary>The parameters, named, ordered and shaped as PyTorch's <c>named_parameters()</c>.</summary>
    ParameterSet Parameters { get; }

    /// <summary>The gradients, laid out like <see cref="Parameters"/>.</summary>
    ParameterSet Gradients { get; }

    /// <summary>The kernel path the last call ran on.</summary>
    KernelPath LastKernelPath { get; }

    /// <summary>Clears <see cref="Gradients"/>.</summary>
    void ZeroGrad();

    /// <summary>
    /// One step: <paramref name="input"/> (batch, input); <paramref name="hx"/>, <paramref name="cx"/>,
    /// <paramref name="hNext"/>, <paramref name="cNext"/> (batch, hidden). Empty hx / cx mean zeros, and each may be
    /// the same memory as its next state.
    /// </summary>
    void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> hx, ReadOnlySpan<float> cx, Span<float> hNext, Span<float> cNext, bool training = false);

    /// <summary>Backward through the last training forward.</summary>
    void Backward(ReadOnlySpan<float> gradHNext, ReadOnlySpan<float> gradCNext, Span<float> gradInput, Span<float> gradHx, Span<float> gradCx);
}

/// <summary>Allocating conveniences in the style of PyTorch's <c>out, h_n = rnn(x, h0)</c>.</summary>
public static class ModuleExtensions
{
    /// <summary>Runs <paramref name="module"/> and returns new arrays for the output and the final state.</summary>
    public static (float[] Output, float[] HN) Forward(this IRnnModule module, float[] input, int seqLen, int batch, float[]? h0 = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        if (seqLen < 1 || batch < 1)
            throw new ArgumentOutOfRangeException(seqLen < 1 ? nameof(seqLen) : nameof(batch), "seqLen and batch must be at least 1.");
        var output = new float[checked(seqLen * batch * module.NumDirections * module.HiddenSize)];
        var hN = new float[checked(module.NumLayers * module.NumDirections * batch * module.HiddenSize)];
        module.Forward(input, seqLen, batch, output, hN, h0);
        return (output, hN);
    }

    /// <summary>Runs <paramref name="module"/> and returns new arrays for the output and the final states.</summary>
    public static (float[] Output, float[] HN, float[] CN) Forward(this ILstmModule module, float[] input, int seqLen, int batch, float[]? h0 = null, float[]? c0 = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        if (seqLen < 1 || batch < 1)
            throw new ArgumentOutOfRangeException(seqLen < 1 ? nameof(seqLen) : nameof(batch), "seqLen and batch must be at least 1.");
        int stateSize = module.ProjSize > 0 ? module.ProjSize : module.HiddenSize;
        var output = new float[checked(seqLen * batch * module.NumDirections * stateSize)];
        var hN = new float[checked(module.NumLayers * module.NumDirections * batch * stateSize)];
        var cN = new float[checked(module.NumLayers * module.NumDirections * batch * module.HiddenSize)];
        module.Forward(input, seqLen, batch, output, hN, cN, h0, c0);
        return (output, hN, cN);
    }

    /// <summary>Runs <paramref name="cell"/> and returns the new states as new arrays.</summary>
    public static (float[] HNext, float[] CNext) Forward(this ILstmCellModule cell, float[] input, int batch, float[]? hx = null, float[]? cx = null)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var hNext = new float[checked(batch * cell.HiddenSize)];
        var cNext = new float[hNext.Length];
        cell.Forward(input, batch, hx, cx, hNext, cNext);
        return (hNext, cNext);
    }

    /// <summary>Runs <paramref name="cell"/> and returns the new state as a new array.</summary>
    public static float[] Forward(this IRnnCellModule cell, float[] input, int batch, float[]? hx = null)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var hNext = new float[checked(batch * cell.HiddenSize)];
        cell.Forward(input, batch, hx, hNext);
        return hNext;
    }
}

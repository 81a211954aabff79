using System;
using System.Linq;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Tests.Support;

/// <summary>
/// PyTorch 2.10 (libtorch through TorchSharp), single-threaded, as the oracle: builds the same module,
/// loads our parameters into it by name, and runs it.
/// </summary>
internal static class Torch
{
    private static readonly object s_gate = new();
    private static bool s_initialized;

    private static void Initialize()
    {
        lock (s_gate)
        {
            if (s_initialized)
                return;
            torch.set_num_threads(1);
            s_initialized = true;
        }
    }

    public static (float[] Output, float[] HN) RnnForward(RnnConfig c, ParameterSet parameters, float[] input, int seqLen, int batch, float[]? h0)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        using var rnn = Sequence(c);
        rnn.eval();
        Load(rnn, parameters);
        long[] inputShape = c.BatchFirst ? new long[] { batch, seqLen, c.InputSize } : new long[] { seqLen, batch, c.InputSize };
        using (torch.no_grad())
        {
            Tensor? h = h0 is null ? null : torch.tensor(h0, new long[] { c.NumLayers * c.Directions, batch, c.HiddenSize });
            var (output, hN) = Run(rnn, torch.tensor(input, inputShape), h);
            return (ToArray(output), ToArray(hN));
        }
    }

    public static float[] CellForward(RnnConfig c, ParameterSet parameters, float[] input, int batch, float[]? hx)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        using var cell = Cell(c);
        Load(cell, parameters);
        using (torch.no_grad())
        {
            Tensor? h = hx is null ? null : torch.tensor(hx, new long[] { batch, c.HiddenSize });
            return ToArray(RunCell(cell, torch.tensor(input, new long[] { batch, c.InputSize }), h, batch, c.HiddenSize));
        }
    }

    /// <summary>What PyTorch's autograd gives for loss = Σ output·gradOutput + Σ hN·gradHn.</summary>
    public sealed record Gradients(float[] Output, float[] HN, System.Collections.Generic.Dictionary<string, float[]> Parameters, float[] Input, float[]? H0);

    public static Gradients RnnBackward(RnnConfig c, ParameterSet parameters, float[] input, int seqLen, int batch, float[]? h0, float[] gradOutput, float[]? gradHn)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        using var rnn = Sequence(c);
        Load(rnn, parameters);
        long[] inputShape = c.BatchFirst ? new long[] { batch, seqLen, c.InputSize } : new long[] { seqLen, batch, c.InputSize };
        long[] stateShape = { c.NumLayers * c.Directions, batch, c.HiddenSize };
        Tensor x = torch.tensor(input, inputShape, requires_grad: true);
        Tensor? h = h0 is null ? null : torch.tensor(h0, stateShape, requires_grad: true);
        var (output, hN) = Run(rnn, x, h);
        Tensor loss = (output * torch.tensor(gradOutput, output.shape)).sum();
        if (gradHn is not null)
            loss = loss + (hN * torch.tensor(gradHn, stateShape)).sum();
        loss.backward();
        var grads = rnn.named_parameters().ToDictionary(p => p.name, p => ToArray(p.parameter.grad!));
        return new Gradients(ToArray(output), ToArray(hN), grads, ToArray(x.grad!), h is null ? null : ToArray(h.grad!));
    }

    public static Gradients CellBackward(RnnConfig c, ParameterSet parameters, float[] input, int batch, float[]? hx, float[] gradHNext)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        using var cell = Cell(c);
        Load(cell, parameters);
        Tensor x = torch.tensor(input, new long[] { batch, c.InputSize }, requires_grad: true);
        Tensor? h = hx is null ? null : torch.tensor(hx, new long[] { batch, c.HiddenSize }, requires_grad: true);
        Tensor next = RunCell(cell, x, h, batch, c.HiddenSize);
        (next * torch.tensor(gradHNext, next.shape)).sum().backward();
        var grads = cell.named_parameters().ToDictionary(p => p.name, p => ToArray(p.parameter.grad!));
        return new Gradients(ToArray(next), ToArray(next), grads, ToArray(x.grad!), h is null ? null : ToArray(h.grad!));
    }

    /// <summary>
    /// torch.nn.LSTM for <paramref name="c"/>: the module itself, or, with a projection (which TorchSharp 0.107's
    /// nn.LSTM lacks), <see cref="LstmByOperations"/>.
    /// </summary>
    public static Gradients LstmBackward(RnnConfig c, ParameterSet parameters, float[] input, int seqLen, int batch, float[]? h0, float[]? c0,
        float[] gradOutput, float[]? gradHn, float[]? gradCn, out float[] cN, out float[]? gradC0) =>
        c.ProjSize > 0
            ? LstmByOperations(c, parameters, input, seqLen, batch, h0, c0, gradOutput, gradHn, gradCn, out cN, out gradC0)
            : LstmModule(c, parameters, input, seqLen, batch, h0, c0, gradOutput, gradHn, gradCn, out cN, out gradC0);

    /// <summary>
    /// torch.nn.LSTM's documented equations, proj_size included, written as PyTorch tensor operations under
    /// autograd: per layer and direction, gates = x_t W_ihᵀ + b_ih + h W_hhᵀ + b_hh split into i, f, g, o;
    /// c = σ(f) c + σ(i) tanh(g); h = σ(o) tanh(c), then h = h W_hrᵀ when projecting; a layer's output is its
    /// directions concatenated. Same loss and results as <see cref="LstmBackward"/>. Without a projection it is
    /// checked against nn.LSTM itself (LstmParityTests), which is what makes it an oracle for the projection.
    /// </summary>
    public static Gradients LstmByOperations(RnnConfig c, ParameterSet parameters, float[] input, int seqLen, int batch, float[]? h0, float[]? c0,
        float[] gradOutput, float[]? gradHn, float[]? gradCn, out float[] cN, out float[]? gradC0)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        int layers = c.NumLayers, directions = c.Directions;
        var p = parameters.Names.ToDictionary(name => name, name =>
            torch.tensor(parameters.GetReadOnly(name).ToArray(), parameters.GetShape(name).ToArray().Select(d => (long)d).ToArray(), requires_grad: true));
        long[] inputShape = c.BatchFirst ? new long[] { batch, seqLen, c.InputSize } : new long[] { seqLen, batch, c.InputSize };
        long[] stateShape = { layers * directions, batch, c.StateSize }, cellShape = { layers * directions, batch, c.HiddenSize };
        Tensor x = torch.tensor(input, inputShape, requires_grad: true);
        Tensor? h = h0 is null ? null : torch.tensor(h0, stateShape, requires_grad: true);
        Tensor? cc = c0 is null ? null : torch.tensor(c0, cellShape, requires_grad: true);

        Tensor layerInput = c.BatchFirst ? x.transpose(0, 1) : x; // (seq, batch, features)
        var finalH = new Tensor[layers * directions];
        var finalC = new Tensor[layers * directions];
        for (int layer = 0; layer < layers; layer++)
        {
            var outputs = new Tensor[directions];
            for (int d = 0; d < directions; d++)
            {
                string suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                int index = layer * directions + d;
                Tensor ht = h is null ? torch.zeros(batch, c.StateSize) : h[index];
                Tensor ct = cc is null ? torch.zeros(batch, c.HiddenSize) : cc[index];
                var steps = new Tensor[seqLen];
                for (int s = 0; s < seqLen; s++)
                {
                    int t = d == 0 ? s : seqLen - 1 - s;
                    Tensor gates = layerInput[t].matmul(p["weight_ih" + suffix].t()) + ht.matmul(p["weight_hh" + suffix].t());
                    if (c.Bias)
                        gates = gates + p["bias_ih" + suffix] + p["bias_hh" + suffix];
                    Tensor[] chunks = gates.chunk(4, 1);
                    ct = torch.sigmoid(chunks[1]) * ct + torch.sigmoid(chunks[0]) * torch.tanh(chunks[2]);
                    ht = torch.sigmoid(chunks[3]) * torch.tanh(ct);
                    if (c.ProjSize > 0)
                        ht = ht.matmul(p["weight_hr" + suffix].t());
                    steps[t] = ht;
                }
                outputs[d] = torch.stack(steps, 0);
                finalH[index] = ht;
                finalC[index] = ct;
            }
            layerInput = torch.cat(outputs, 2);
        }
        Tensor output = c.BatchFirst ? layerInput.transpose(0, 1) : layerInput;
        Tensor hN = torch.stack(finalH, 0), cNt = torch.stack(finalC, 0);
        Tensor loss = (output * torch.tensor(gradOutput, output.shape)).sum();
        if (gradHn is not null)
            loss = loss + (hN * torch.tensor(gradHn, stateShape)).sum();
        if (gradCn is not null)
            loss = loss + (cNt * torch.tensor(gradCn, cellShape)).sum();
        loss.backward();
        var grads = p.ToDictionary(kv => kv.Key, kv => ToArray(kv.Value.grad!));
        cN = ToArray(cNt);
        gradC0 = cc is null ? null : ToArray(cc.grad!);
        return new Gradients(ToArray(output), ToArray(hN), grads, ToArray(x.grad!), h is null ? null : ToArray(h.grad!));
    }

    /// <summary>torch.nn.LSTM itself (no projection).</summary>
    public static Gradients LstmModule(RnnConfig c, ParameterSet parameters, float[] input, int seqLen, int batch, float[]? h0, float[]? c0,
        float[] gradOutput, float[]? gradHn, float[]? gradCn, out float[] cN, out float[]? gradC0)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        using var lstm = nn.LSTM(c.InputSize, c.HiddenSize, c.NumLayers, c.Bias, c.BatchFirst, 0.0, c.Bidirectional);
        Load(lstm, parameters);
        long[] inputShape = c.BatchFirst ? new long[] { batch, seqLen, c.InputSize } : new long[] { seqLen, batch, c.InputSize };
        long[] stateShape = { c.NumLayers * c.Directions, batch, c.HiddenSize };
        Tensor x = torch.tensor(input, inputShape, requires_grad: true);
        Tensor? h = h0 is null ? null : torch.tensor(h0, stateShape, requires_grad: true);
        Tensor? cc = c0 is null ? null : torch.tensor(c0, stateShape, requires_grad: true);
        var state = h is null ? ((Tensor, Tensor)?)null : (h, cc ?? torch.zeros(stateShape));
        var (output, hN, cNt) = lstm.forward(x, state);
        Tensor loss = (output * torch.tensor(gradOutput, output.shape)).sum();
        if (gradHn is not null)
            loss = loss + (hN * torch.tensor(gradHn, stateShape)).sum();
        if (gradCn is not null)
            loss = loss + (cNt * torch.tensor(gradCn, stateShape)).sum();
        loss.backward();
        var grads = lstm.named_parameters().ToDictionary(p => p.name, p => ToArray(p.parameter.grad!));
        cN = ToArray(cNt);
        gradC0 = cc is null ? null : ToArray(cc.grad!);
        return new Gradients(ToArray(output), ToArray(hN), grads, ToArray(x.grad!), h is null ? null : ToArray(h.grad!));
    }

    public static Gradients LstmCellBackward(RnnConfig c, ParameterSet parameters, float[] input, int batch, float[]? hx, float[]? cx,
        float[] gradHNext, float[] gradCNext, out float[] cNext, out float[]? gradCx)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        using var cell = nn.LSTMCell(c.InputSize, c.HiddenSize, c.Bias);
        Load(cell, parameters);
        long[] stateShape = { batch, c.HiddenSize };
        Tensor x = torch.tensor(input, new long[] { batch, c.InputSize }, requires_grad: true);
        Tensor? h = hx is null ? null : torch.tensor(hx, stateShape, requires_grad: true);
        Tensor? cc = cx is null ? null : torch.tensor(cx, stateShape, requires_grad: true);
        // TorchSharp's LSTMCell mis-sizes its default state for batch 1, so zeros are passed explicitly.
        var (hn, cn) = cell.forward(x, (h ?? torch.zeros(stateShape), cc ?? torch.zeros(stateShape)));
        ((hn * torch.tensor(gradHNext, stateShape)).sum() + (cn * torch.tensor(gradCNext, stateShape)).sum()).backward();
        var grads = cell.named_parameters().ToDictionary(p => p.name, p => ToArray(p.parameter.grad!));
        cNext = ToArray(cn);
        gradCx = cc is null ? null : ToArray(cc.grad!);
        return new Gradients(ToArray(hn), ToArray(hn), grads, ToArray(x.grad!), h is null ? null : ToArray(h.grad!));
    }

    /// <summary>PyTorch's parameter names and shapes, in <c>named_parameters()</c> order.</summary>
    public static (string Name, long[] Shape)[] ParameterLayout(RnnConfig c)
    {
        Initialize();
        using var scope = torch.NewDisposeScope();
        using nn.Module module = c.IsGru ? (c.IsCell ? Cell(c) : Sequence(c)) : (c.IsLstm, c.IsCell) switch
        {
            (false, true) => nn.RNNCell(c.InputSize, c.HiddenSize, Activation(c), c.Bias),
            (false, false) => nn.RNN(c.InputSize, c.HiddenSize, c.NumLayers, Activation(c), c.Bias, c.BatchFirst, c.Dropout, c.Bidirectional),
            (true, true) => nn.LSTMCell(c.InputSize, c.HiddenSize, c.Bias),
            (true, false) => nn.LSTM(c.InputSize, c.HiddenSize, c.NumLayers, c.Bias, c.BatchFirst, c.Dropout, c.Bidirectional),
        };
        return module.named_parameters().Select(p => (p.name, p.parameter.shape)).ToArray();
    }

    /// <summary>Copies every parameter by name; the names, order and shapes must agree with ours.</summary>
    private static void Load(nn.Module module, ParameterSet parameters)
    {
        var named = module.named_parameters().ToArray();
        Assert.That(named.Select(p => p.name), Is.EqualTo(parameters.Names), "parameter names and order differ from PyTorch's");
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in named)
            {
                Assert.That(parameters.GetShape(name).ToArray().Select(d => (long)d), Is.EqualTo(parameter.shape), $"shape of {name}");
                parameter.copy_(torch.tensor(parameters.GetReadOnly(name).ToArray(), parameter.shape));
            }
        }
    }

    /// <summary>torch.nn.RNN or torch.nn.GRU (same calls).</summary>
    private static nn.Module Sequence(RnnConfig c) => c.IsGru
        ? nn.GRU(c.InputSize, c.HiddenSize, c.NumLayers, c.Bias, c.BatchFirst, 0.0, c.Bidirectional)
        : nn.RNN(c.InputSize, c.HiddenSize, c.NumLayers, Activation(c), c.Bias, c.BatchFirst, 0.0, c.Bidirectional);

    private static (Tensor Output, Tensor HN) Run(nn.Module module, Tensor x, Tensor? h) => module switch
    {
        TorchSharp.Modules.GRU gru => gru.forward(x, h),
        TorchSharp.Modules.RNN rnn => rnn.forward(x, h),
        _ => throw new ArgumentException("not a sequence module"),
    };

    private static nn.Module Cell(RnnConfig c) => c.IsGru
        ? nn.GRUCell(c.InputSize, c.HiddenSize, c.Bias)
        : nn.RNNCell(c.InputSize, c.HiddenSize, Activation(c), c.Bias);

    /// <summary>TorchSharp's GRUCell mis-sizes its default state for batch 1, so zeros are passed explicitly.</summary>
    private static Tensor RunCell(nn.Module module, Tensor x, Tensor? h, int batch, int hidden) => module switch
    {
        TorchSharp.Modules.GRUCell gru => gru.forward(x, h ?? torch.zeros(batch, hidden)),
        TorchSharp.Modules.RNNCell rnn => rnn.forward(x, h),
        _ => throw new ArgumentException("not a cell"),
    };

    private static nn.NonLinearities Activation(RnnConfig c) =>
        c.Nonlinearity == Nonlinearity.Relu ? nn.NonLinearities.ReLU : nn.NonLinearities.Tanh;

    private static float[] ToArray(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}

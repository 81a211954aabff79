using System;
using RnnGen.__Internals;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace RnnGen.Bench.Peers;

/// <summary>
/// ONNX Runtime 1.31 as a peer: an RNN / LSTM / GRU model built in code (one node per layer; layers joined by
/// Transpose + Reshape) from the same PyTorch-layout parameters, run single-threaded with pre-bound input and
/// output buffers. ONNX's gate orders differ from PyTorch's (LSTM i, o, f, c; GRU z, r, h) and its GRU takes
/// <c>linear_before_reset = 1</c> to be PyTorch's.
/// </summary>
public sealed class OnnxPeer : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly string[] _inputNames, _outputNames;
    private readonly OrtValue[] _inputs, _outputs;
    private readonly bool _streaming;

    /// <summary>The input buffers, in <see cref="Inputs"/> order (X, then the initial states if any).</summary>
    public float[][] Inputs { get; }

    /// <summary>The output buffers (Y, or Y_h and Y_c for a streaming step).</summary>
    public float[][] Outputs { get; }

    /// <param name="op">"RNN", "LSTM" or "GRU".</param>
    /// <param name="streaming">One step with the state carried in: inputs X, initial_h (and initial_c); outputs Y_h (and Y_c).
    /// Otherwise inputs X with zero initial state, output Y as (seq, batch, directions·hidden).</param>
    /// <param name="threads">ONNX Runtime's IntraOpNumThreads.</param>
    public OnnxPeer(string op, RnnShape shape, ParameterSet parameters, int seqLen, int batch, bool streaming, int threads = 1)
    {
        byte[] model = Build(op, shape, parameters, seqLen, batch, streaming, out var inputs, out var outputs);
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(model, options);
        _streaming = streaming;
        _inputNames = inputs.Select(i => i.Name).ToArray();
        _outputNames = outputs.Select(o => o.Name).ToArray();
        Inputs = inputs.Select(i => new float[i.Shape.Aggregate(1L, (a, b) => a * b)]).ToArray();
        Outputs = outputs.Select(o => new float[o.Shape.Aggregate(1L, (a, b) => a * b)]).ToArray();
        _inputs = inputs.Select((i, n) => OrtValue.CreateTensorValueFromMemory(Inputs[n], i.Shape)).ToArray();
        _outputs = outputs.Select((o, n) => OrtValue.CreateTensorValueFromMemory(Outputs[n], o.Shape)).ToArray();
    }

    /// <summary>Runs the model on <see cref="Inputs"/> into <see cref="Outputs"/>.</summary>
    public void Run() => _session.Run(_run, _inputNames, _inputs, _outputNames, _outputs);

    /// <summary>A streaming step: runs, then carries the final states (Y_h, Y_c) into the initial-state inputs for the next step.</summary>
    public void Step()
    {
        if (!_streaming)
            throw new InvalidOperationException("Step carries state: build the peer with streaming: true.");
        Run();
        for (int i = 0; i < Outputs.Length; i++)
            Outputs[i].CopyTo(Inputs[i + 1], 0);
    }

    public void Dispose()
    {
        foreach (OrtValue v in _inputs.Concat(_outputs))
            v.Dispose();
        _run.Dispose();
        _session.Dispose();
    }

    private static byte[] Build(string op, RnnShape shape, ParameterSet parameters, int seqLen, int batch, bool streaming,
        out List<(string Name, long[] Shape)> inputs, out List<(string Name, long[] Shape)> outputs)
    {
        int hidden = shape.HiddenSize, directions = shape.NumDirections, gates = shape.GateCount;
        // ONNX row blocks, as indices of PyTorch's gate blocks.
        int[] order = op switch { "LSTM" => new[] { 0, 3, 1, 2 }, "GRU" => new[] { 1, 0, 2 }, _ => new[] { 0 } };
        var graph = new GraphProto { Name = op.ToLowerInvariant() };
        inputs = new List<(string, long[])> { ("X", new long[] { seqLen, batch, shape.InputSize }) };
        outputs = new List<(string, long[])>();
        long[] state = { directions, batch, hidden };
        if (streaming)
        {
            if (shape.NumLayers != 1)
                throw new ArgumentException("A streaming step is one layer.", nameof(shape));
            inputs.Add(("initial_h", state));
            if (op == "LSTM")
                inputs.Add(("initial_c", state));
            outputs.Add(("Y_h", state));
            if (op == "LSTM")
                outputs.Add(("Y_c", state));
        }
        else
        {
            outputs.Add(("Y", new long[] { seqLen, batch, directions * hidden }));
        }

        string layerInput = "X";
        for (int layer = 0; layer < shape.NumLayers; layer++)
        {
            int cols = shape.LayerInputSize(layer);
            var w = new List<float>();
            var r = new List<float>();
            var b = new List<float>();
            for (int d = 0; d < directions; d++)
            {
                string suffix = shape.IsCell ? "" : $"_l{layer}" + (d == 1 ? "_reverse" : "");
                w.AddRange(Reorder(parameters.GetReadOnly("weight_ih" + suffix), order, hidden, cols));
                r.AddRange(Reorder(parameters.GetReadOnly("weight_hh" + suffix), order, hidden, hidden));
                if (shape.Bias)
                {
                    b.AddRange(Reorder(parameters.GetReadOnly("bias_ih" + suffix), order, hidden, 1));
                    b.AddRange(Reorder(parameters.GetReadOnly("bias_hh" + suffix), order, hidden, 1));
                }
                else
                {
                    b.AddRange(new float[2 * gates * hidden]);
                }
            }
            graph.Initializer.Add(Tensor($"W{layer}", w, directions, gates * hidden, cols));
            graph.Initializer.Add(Tensor($"R{layer}", r, directions, gates * hidden, hidden));
            graph.Initializer.Add(Tensor($"B{layer}", b, directions, 2 * gates * hidden));

            var node = new NodeProto { OpType = op, Name = $"{op}{layer}" };
            node.Input.Add(layerInput);
            node.Input.Add($"W{layer}");
            node.Input.Add($"R{layer}");
            node.Input.Add($"B{layer}");
            if (streaming)
            {
                node.Input.Add(""); // sequence_lens
                node.Input.Add("initial_h");
                if (op == "LSTM")
                    node.Input.Add("initial_c");
                node.Output.Add("");
                node.Output.Add("Y_h");
                if (op == "LSTM")
                    node.Output.Add("Y_c");
            }
            else
            {
                node.Output.Add($"Y{layer}");
            }
            node.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeProto.Types.AttributeType.Int, I = hidden });
            if (directions == 2)
                node.Attribute.Add(new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("bidirectional") });
            if (op == "GRU")
                node.Attribute.Add(new AttributeProto { Name = "linear_before_reset", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            graph.Node.Add(node);

            if (!streaming)
            {
                // Y is (seq, directions, batch, hidden); the next layer and the caller want (seq, batch, directions·hidden).
                var transpose = new NodeProto { OpType = "Transpose", Name = $"Transpose{layer}" };
                transpose.Input.Add($"Y{layer}");
                transpose.Output.Add($"T{layer}");
                var perm = new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints };
                perm.Ints.Add(new long[] { 0, 2, 1, 3 });
                transpose.Attribute.Add(perm);
                graph.Node.Add(transpose);
                var shapeTensor = new TensorProto { Name = $"S{layer}", DataType = (int)TensorProto.Types.DataType.Int64 };
                shapeTensor.Dims.Add(3);
                shapeTensor.Int64Data.Add(new long[] { seqLen, batch, directions * hidden });
                graph.Initializer.Add(shapeTensor);
                var reshape = new NodeProto { OpType = "Reshape", Name = $"Reshape{layer}" };
                reshape.Input.Add($"T{layer}");
                reshape.Input.Add($"S{layer}");
                string next = layer == shape.NumLayers - 1 ? "Y" : $"X{layer + 1}";
                reshape.Output.Add(next);
                graph.Node.Add(reshape);
                layerInput = next;
            }
        }
        foreach (var (name, dims) in inputs)
            graph.Input.Add(Value(name, dims));
        foreach (var (name, dims) in outputs)
            graph.Output.Add(Value(name, dims));

        var model = new ModelProto { IrVersion = 8, ProducerName = "RnnGen.Bench", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }

    /// <summary>A (gates·hidden, cols) PyTorch matrix with its gate blocks in <paramref name="order"/>.</summary>
    private static IEnumerable<float> Reorder(ReadOnlySpan<float> source, int[] order, int hidden, int cols)
    {
        var result = new float[source.Length];
        for (int g = 0; g < order.Length; g++)
            source.Slice(order[g] * hidden * cols, hidden * cols).CopyTo(result.AsSpan(g * hidden * cols));
        return result;
    }

    private static TensorProto Tensor(string name, List<float> data, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);
        tensor.FloatData.Add(data);
        return tensor;
    }

    private static ValueInfoProto Value(string name, long[] dims)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        foreach (long d in dims)
            tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}

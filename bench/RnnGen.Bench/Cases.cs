using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using RnnGen.__Internals;
using RnnGen.Bench.Peers;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Bench;

/// <summary>
/// What every case tells the comparison table: its name and its arithmetic (FLOPs per call, counting a
/// multiply-add as two and the products only: 2·rows·gates·hidden·(inputs + hidden) per layer and direction;
/// a forward plus backward counts three times the forward).
/// </summary>
public abstract class CaseBase
{
    public abstract string CaseName { get; }

    public abstract double Flops { get; }

    protected static double ForwardFlops(RnnShape shape, int seqLen, int batch)
    {
        double total = 0;
        for (int layer = 0; layer < shape.NumLayers; layer++)
            total += shape.NumDirections * 2.0 * seqLen * batch * shape.GateCount * shape.HiddenSize * (shape.LayerInputSize(layer) + shape.StateSize);
        return total;
    }

    /// <summary>
    /// Runs the baseline, then each peer, each from the state <paramref name="reset"/> leaves, and fails the setup
    /// unless every peer's result matches the baseline's: the suite compares the same computation.
    /// </summary>
    protected static void CrossCheck(Action reset, Action baseline, Func<float[]> result, params (string Name, Action Run, Func<float[]> Result)[] peers)
    {
        reset();
        baseline();
        float[] expected = (float[])result().Clone();
        foreach (var (name, run, peerResult) in peers)
        {
            reset();
            run();
            AssertClose(peerResult(), expected, name);
        }
        reset();
    }

    /// <summary>Fails when two results differ by more than 1e-4 · max(1, |expected|).</summary>
    protected static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what)
    {
        if (actual.Length != expected.Length)
            throw new InvalidOperationException($"{what}: {actual.Length} values, expected {expected.Length}.");
        for (int i = 0; i < actual.Length; i++)
            if (!(MathF.Abs(actual[i] - expected[i]) <= 1e-4f * MathF.Max(1f, MathF.Abs(expected[i]))))
                throw new InvalidOperationException($"{what}: element {i} is {actual[i]}, expected {expected[i]}.");
    }

    protected static float[] Uniform(int seed, int length)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = 2f * random.NextSingle() - 1f;
        return values;
    }
}

/// <summary>
/// One LSTM step, batch 1, state carried between calls (an amp model runs this 48,000 times a second), through
/// the cell module and through the sequence module with seq 1. Peers: the generic fallback, PyTorch
/// (LSTMCell / nn.LSTM under no_grad), ONNX Runtime (an LSTM node with initial_h / initial_c).
/// </summary>
[BenchmarkCategory("Streaming")]
public class StreamingLstm : CaseBase
{
    /// <summary>LstmCell: the amp-model loop; Lstm: the same step through the sequence module, as code that keeps nn.LSTM does.</summary>
    [Params("LstmCell", "Lstm")]
    public string Module { get; set; } = "LstmCell";

    /// <summary>12 and 16: Neural Amp Modeler's LSTM presets; 24 and 32: other common amp-model sizes.</summary>
    [Params(12, 16, 24, 32)]
    public int Hidden { get; set; } = 32;

    public override string CaseName => $"{Module}(1→{Hidden}) step";

    public override double Flops => ForwardFlops(new RnnShape(1, Hidden, gateCount: 4), 1, 1);

    private readonly float[] _x = { 0.25f };
    private float[] _h = null!, _c = null!, _output = null!;
    private ILstmCellModule? _cell;
    private ILstmModule? _sequence;
    private ILstmCellModule? _genericCell;
    private ILstmModule? _genericSequence;
    private nn.Module _torch = null!;
    private Tensor _tx = null!, _th = null!, _tc = null!;
    private OnnxPeer _onnx = null!;
    private RtNeuralPeer? _rtneural;

    [GlobalSetup]
    public void Setup()
    {
        TorchPeer.SingleThreaded();
        _h = new float[Hidden];
        _c = new float[Hidden];
        _output = new float[Hidden];
        ParameterSet parameters;
        bool cell = Module == "LstmCell";
        if (cell)
        {
            _cell = Hidden switch { 12 => new LstmCell12(1), 16 => new LstmCell16(1), 24 => new LstmCell24(1), _ => new LstmCell32(1) };
            _genericCell = new Dynamic.LstmCell(1, Hidden, seed: 0);
            _genericCell.Parameters.CopyFrom(_cell.Parameters);
            parameters = _cell.Parameters;
            _torch = TorchPeer.Load(nn.LSTMCell(1, Hidden), parameters);
            _tx = torch.tensor(_x, new long[] { 1, 1 });
            _th = torch.zeros(1, Hidden);
            _tc = torch.zeros(1, Hidden);
        }
        else
        {
            _sequence = Hidden switch { 12 => new Lstm12(1), 16 => new Lstm16(1), 24 => new Lstm24(1), _ => new Lstm32(1) };
            _genericSequence = new Dynamic.Lstm(1, Hidden, seed: 0);
            _genericSequence.Parameters.CopyFrom(_sequence.Parameters);
            parameters = _sequence.Parameters;
            _torch = TorchPeer.Load(nn.LSTM(1, Hidden), parameters);
            _tx = torch.tensor(_x, new long[] { 1, 1, 1 });
            _th = torch.zeros(1, 1, Hidden);
            _tc = torch.zeros(1, 1, Hidden);
        }
        var shape = cell ? new RnnShape(1, Hidden, isCell: true, gateCount: 4) : new RnnShape(1, Hidden, gateCount: 4);
        _onnx = new OnnxPeer("LSTM", shape, parameters, 1, 1, streaming: true);
        _onnx.Inputs[0][0] = _x[0];

        string layer = cell ? "" : "_l0";
        if (RtNeuralPeer.Available)
            _rtneural = new RtNeuralPeer($"cell{Hidden}", Hidden, 4, parameters.GetReadOnly("weight_ih" + layer), parameters.GetReadOnly("weight_hh" + layer),
                parameters.GetReadOnly("bias_ih" + layer), parameters.GetReadOnly("bias_hh" + layer));

        // Every peer's first step from zero state must agree.
        var peers = new List<(string, Action, Func<float[]>)>
        {
            ("generic fallback", () => Generic(), () => _h),
            ("PyTorch", () => PyTorch(), () => TorchPeer.ToArray(_th)),
            ("ONNX Runtime", () => OnnxRuntime(), () => _onnx.Inputs[1]),
        };
        if (_rtneural is not null)
            peers.Add(("RTNeural", () => RtNeural(), () => _rtneural.Hidden()));
        CrossCheck(Reset, () => RnnGen(), () => _h, peers.ToArray());
    }

    private void Reset()
    {
        Array.Clear(_h);
        Array.Clear(_c);
        _th.zero_();
        _tc.zero_();
        Array.Clear(_onnx.Inputs[1]);
        Array.Clear(_onnx.Inputs[2]);
        _rtneural?.Reset();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _onnx.Dispose();
        _rtneural?.Dispose();
    }

    /// <summary>RTNeural's LSTMLayerT, one forward call (where RNNGEN_RTNEURAL names the built probe).</summary>
    [Benchmark(Description = "RTNeural")]
    public float RtNeural() => _rtneural!.Run(_x);

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public float RnnGen() => Step(_cell, _sequence);

    [Benchmark(Description = "generic fallback")]
    public float Generic() => Step(_genericCell, _genericSequence);

    /// <summary>One step with the state carried in place, through whichever module is set.</summary>
    private float Step(ILstmCellModule? cell, ILstmModule? sequence)
    {
        if (cell is not null)
            cell.Forward(_x, 1, _h, _c, _h, _c);
        else
            sequence!.Forward(_x, 1, 1, _output, _h, _c, _h, _c);
        return _h[0];
    }

    [Benchmark(Description = "PyTorch")]
    public float PyTorch()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (_torch is TorchSharp.Modules.LSTMCell cell)
        {
            var (h, c) = cell.forward(_tx, (_th, _tc));
            _th.copy_(h);
            _tc.copy_(c);
        }
        else
        {
            var (_, h, c) = ((TorchSharp.Modules.LSTM)_torch).forward(_tx, (_th, _tc));
            _th.copy_(h);
            _tc.copy_(c);
        }
        return 0f;
    }

    [Benchmark(Description = "ONNX Runtime")]
    public float OnnxRuntime()
    {
        _onnx.Step();
        return _onnx.Inputs[1][0];
    }
}

/// <summary>
/// One GRU or Elman step, batch 1, input 1, hidden 32, state carried: the other cells an amp or control loop
/// runs per sample. Peers: generic fallback, PyTorch GRUCell / RNNCell, ONNX Runtime GRU / RNN node.
/// </summary>
[BenchmarkCategory("Streaming")]
public class StreamingCell : CaseBase
{
    /// <summary>The two other cell kinds, at the most common amp-model size.</summary>
    [Params("GruCell", "RnnCell")]
    public string Module { get; set; } = "GruCell";

    public override string CaseName => $"{Module}(1→32) step";

    public override double Flops => ForwardFlops(new RnnShape(1, 32, gateCount: Module == "GruCell" ? 3 : 1), 1, 1);

    private readonly float[] _x = { 0.25f };
    private readonly float[] _h = new float[32];
    private IRnnCellModule _cell = null!, _generic = null!;
    private nn.Module _torch = null!;
    private Tensor _tx = null!, _th = null!;
    private OnnxPeer _onnx = null!;

    [GlobalSetup]
    public void Setup()
    {
        TorchPeer.SingleThreaded();
        bool gru = Module == "GruCell";
        _cell = gru ? new GruCell32(1) : new RnnCell32(1);
        _generic = gru ? new Dynamic.GruCell(1, 32, seed: 0) : new Dynamic.RnnCell(1, 32, seed: 0);
        _generic.Parameters.CopyFrom(_cell.Parameters);
        _torch = gru ? TorchPeer.Load(nn.GRUCell(1, 32), _cell.Parameters) : TorchPeer.Load(nn.RNNCell(1, 32), _cell.Parameters);
        _tx = torch.tensor(_x, new long[] { 1, 1 });
        _th = torch.zeros(1, 32);
        _onnx = new OnnxPeer(gru ? "GRU" : "RNN", new RnnShape(1, 32, isCell: true, gateCount: gru ? 3 : 1), _cell.Parameters, 1, 1, streaming: true);
        _onnx.Inputs[0][0] = _x[0];

        CrossCheck(Reset, () => RnnGen(), () => _h,
            ("generic fallback", () => Generic(), () => _h),
            ("PyTorch", () => PyTorch(), () => TorchPeer.ToArray(_th)),
            ("ONNX Runtime", () => OnnxRuntime(), () => _onnx.Inputs[1]));
    }

    private void Reset()
    {
        Array.Clear(_h);
        _th.zero_();
        Array.Clear(_onnx.Inputs[1]);
    }

    [GlobalCleanup]
    public void Cleanup() => _onnx.Dispose();

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public float RnnGen()
    {
        _cell.Forward(_x, 1, _h, _h);
        return _h[0];
    }

    [Benchmark(Description = "generic fallback")]
    public float Generic()
    {
        _generic.Forward(_x, 1, _h, _h);
        return _h[0];
    }

    [Benchmark(Description = "PyTorch")]
    public float PyTorch()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor h = _torch is TorchSharp.Modules.GRUCell gru ? gru.forward(_tx, _th) : ((TorchSharp.Modules.RNNCell)_torch).forward(_tx, _th);
        _th.copy_(h);
        return 0f;
    }

    [Benchmark(Description = "ONNX Runtime")]
    public float OnnxRuntime()
    {
        _onnx.Step();
        return _onnx.Inputs[1][0];
    }
}

/// <summary>
/// Block streaming: an amp model's audio callback, 64 samples per call (1.33 ms at 48 kHz) through the sequence module,
/// batch 1, state carried in place between calls (<c>Forward(x, 64, 1, output, h, c, h, c)</c>, what LstmStream does).
/// Times are per sample (OperationsPerInvoke = 64), comparable with the one-step-per-call cases above. Peers: the
/// generated per-step path (the block kernel switched off: what ran before it), the generic fallback, PyTorch
/// (nn.LSTM / nn.GRU over the 64-step block, no_grad, state carried), ONNX Runtime (an LSTM / GRU node over seq 64
/// with initial_h / initial_c, Y_h / Y_c carried; it does not write the per-step output Y).
/// </summary>
[BenchmarkCategory("Streaming")]
public class StreamBlock : CaseBase
{
    private const int Block = 64;

    /// <summary>The LSTM sizes of <see cref="StreamingLstm"/> (NAM's 12 and 16; 24, not a multiple of 16; 32), and the GRU at 32.</summary>
    [Params("Lstm(1→12)", "Lstm(1→16)", "Lstm(1→24)", "Lstm(1→32)", "Gru(1→32)")]
    public string Case { get; set; } = "Lstm(1→32)";

    private bool Gru => Case.StartsWith("Gru", StringComparison.Ordinal);

    private int Hidden => int.Parse(Case[(Case.IndexOf('→') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);

    public override string CaseName => $"{Case} block of {Block}, per sample";

    /// <summary>Per sample: the benchmarks report time per sample.</summary>
    public override double Flops => ForwardFlops(new RnnShape(1, Hidden, gateCount: Gru ? 3 : 4), 1, 1);

    private float[] _x = null!, _h = null!, _c = null!, _output = null!;
    private ILstmModule? _lstm, _genericLstm;
    private IRnnModule? _gru, _genericGru;
    private nn.Module _torch = null!;
    private Tensor _tx = null!, _th = null!, _tc = null!;
    private OnnxPeer _onnx = null!;
    private RtNeuralPeer? _rtneural;

    [GlobalSetup]
    public void Setup()
    {
        TorchPeer.SingleThreaded();
        int hidden = Hidden;
        _x = Uniform(7, Block);
        _h = new float[hidden];
        _c = new float[hidden];
        _output = new float[Block * hidden];
        ParameterSet parameters;
        if (Gru)
        {
            _gru = new Gru32(1);
            _genericGru = new Dynamic.Gru(1, 32, seed: 0);
            _genericGru.Parameters.CopyFrom(_gru.Parameters);
            parameters = _gru.Parameters;
            _torch = TorchPeer.Load(nn.GRU(1, 32), parameters);
        }
        else
        {
            _lstm = hidden switch { 12 => new Lstm12(1), 16 => new Lstm16(1), 24 => new Lstm24(1), _ => new Lstm32(1) };
            _genericLstm = new Dynamic.Lstm(1, hidden, seed: 0);
            _genericLstm.Parameters.CopyFrom(_lstm.Parameters);
            parameters = _lstm.Parameters;
            _torch = TorchPeer.Load(nn.LSTM(1, hidden), parameters);
        }
        _tx = torch.tensor(_x, new long[] { Block, 1, 1 });
        _th = torch.zeros(1, 1, hidden);
        _tc = torch.zeros(1, 1, hidden);
        _onnx = new OnnxPeer(Gru ? "GRU" : "LSTM", new RnnShape(1, hidden, gateCount: Gru ? 3 : 4), parameters, Block, 1, streaming: true);
        _x.CopyTo(_onnx.Inputs[0], 0);

        if (RtNeuralPeer.Available)
            _rtneural = new RtNeuralPeer(Gru ? "grucell" : $"cell{hidden}", hidden, Gru ? 3 : 4, parameters.GetReadOnly("weight_ih_l0"),
                parameters.GetReadOnly("weight_hh_l0"), parameters.GetReadOnly("bias_ih_l0"), parameters.GetReadOnly("bias_hh_l0"));

        // Every peer's state after one block from zeros must agree.
        var peers = new List<(string, Action, Func<float[]>)>
        {
            ("per-step kernels", () => PerStep(), () => _h),
            ("generic fallback", () => Generic(), () => _h),
            ("PyTorch", () => PyTorch(), () => TorchPeer.ToArray(_th)),
            ("ONNX Runtime", () => OnnxRuntime(), () => _onnx.Inputs[1]),
        };
        if (_rtneural is not null)
            peers.Add(("RTNeural", () => RtNeural(), () => _rtneural.Hidden()));
        CrossCheck(Reset, () => RnnGen(), () => _h, peers.ToArray());
    }

    /// <summary>RTNeural's LSTMLayerT / GRULayerT over the block, one forward call per sample (where RNNGEN_RTNEURAL names the built probe).</summary>
    [Benchmark(Description = "RTNeural", OperationsPerInvoke = Block)]
    public float RtNeural() => _rtneural!.Run(_x);

    private void Reset()
    {
        Array.Clear(_h);
        Array.Clear(_c);
        _th.zero_();
        _tc.zero_();
        for (int i = 1; i < _onnx.Inputs.Length; i++)
            Array.Clear(_onnx.Inputs[i]);
        _rtneural?.Reset();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _onnx.Dispose();
        _rtneural?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "RnnGen", OperationsPerInvoke = Block)]
    public float RnnGen() => Run(_lstm, _gru);

    /// <summary>The same generated kernels stepped one time step per kernel call by the driver (the block kernel off).</summary>
    [Benchmark(Description = "per-step kernels", OperationsPerInvoke = Block)]
    public float PerStep()
    {
        RnnDriver.BlockKernels = false;
        try
        {
            return Run(_lstm, _gru);
        }
        finally
        {
            RnnDriver.BlockKernels = true;
        }
    }

    [Benchmark(Description = "generic fallback", OperationsPerInvoke = Block)]
    public float Generic() => Run(_genericLstm, _genericGru);

    /// <summary>One 64-sample block with the state carried in place, through whichever module is set.</summary>
    private float Run(ILstmModule? lstm, IRnnModule? gru)
    {
        if (lstm is not null)
            lstm.Forward(_x, Block, 1, _output, _h, _c, _h, _c);
        else
            gru!.Forward(_x, Block, 1, _output, _h, _h);
        return _h[0];
    }

    [Benchmark(Description = "PyTorch", OperationsPerInvoke = Block)]
    public float PyTorch()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (_torch is TorchSharp.Modules.GRU gru)
        {
            var (_, h) = gru.forward(_tx, _th);
            _th.copy_(h);
        }
        else
        {
            var (_, h, c) = ((TorchSharp.Modules.LSTM)_torch).forward(_tx, (_th, _tc));
            _th.copy_(h);
            _tc.copy_(c);
        }
        return 0f;
    }

    [Benchmark(Description = "ONNX Runtime", OperationsPerInvoke = Block)]
    public float OnnxRuntime()
    {
        _onnx.Step();
        return _onnx.Inputs[1][0];
    }
}

/// <summary>
/// Sequence forwards: one Lstm(100→200) step at batch 1 (state carried; its 963 KB of weights stream from L2
/// every step), the PyTorch tutorial's Rnn(100, 200) over (6, 5), and the throughput shapes: Lstm(128, 128) and
/// Gru(128, 128) over seq 100 × batch 32, a two-layer bidirectional Rnn(100, 200) over seq 50 × batch 16.
/// Peers: generic fallback, PyTorch (no_grad), ONNX Runtime.
/// </summary>
[BenchmarkCategory("Sequence")]
public class SequenceForward : SequenceForwardBase
{
    /// <summary>
    /// Lstm(100→200) step: a larger model stepped online, weights beyond L2. Rnn(100,200) s6 b5: PyTorch's RNN
    /// tutorial. Lstm/Gru(128,128) s100 b32: a typical training-size batch, the throughput case. Rnn 2 layers,
    /// bidirectional: stacking and the reverse direction.
    /// </summary>
    [Params("Lstm(100→200) step", "Rnn(100,200) s6 b5", "Lstm(128,128) s100 b32", "Gru(128,128) s100 b32", "Rnn(100,200,2L,bi) s50 b16")]
    public string Shape { get => Case; set => Case = value; }
}

/// <summary>A sequence forward case and its peers (the shapes are chosen by the derived benchmark's parameters).</summary>
public abstract class SequenceForwardBase : CaseBase
{
    /// <summary>Which shape, sequence length and batch (see <see cref="SequenceForward"/>).</summary>
    public string Case { get; set; } = "Rnn(100,200) s6 b5";

    /// <summary>Threads for every peer: RnnGen's Parallelism.MaxDegreeOfParallelism, torch.set_num_threads, ORT's IntraOpNumThreads.</summary>
    public virtual int ThreadCount => 1;

    public override string CaseName => Case + " forward" + (ThreadCount > 1 ? $", {ThreadCount} threads" : "");

    public override double Flops => ForwardFlops(Setup(Case).Module.Shape(), Setup(Case).SeqLen, Setup(Case).Batch);

    private IRnnModule? _rnn, _genericRnn;
    private ILstmModule? _lstm, _genericLstm;
    private nn.Module _torch = null!;
    private Tensor _tx = null!, _th = null!, _tc = null!;
    private OnnxPeer _onnx = null!;
    private float[] _x = null!, _output = null!, _hN = null!, _cN = null!;
    private int _seqLen, _batch;
    private bool _carried;

    private static (Declared Module, int SeqLen, int Batch, bool Carried) Setup(string name) => name switch
    {
        "Lstm(100→200) step" => (Declared.Lstm100x200, 1, 1, true),
        "Rnn(100,200) s6 b5" => (Declared.TutorialRnn, 6, 5, false),
        "Lstm(128,128) s100 b32" => (Declared.Lstm128, 100, 32, false),
        "Gru(128,128) s100 b32" => (Declared.Gru128, 100, 32, false),
        "Rnn(100,200,2L,bi) s50 b16" => (Declared.BidirectionalRnn, 50, 16, false),
        _ => throw new ArgumentException(name),
    };

    [GlobalSetup]
    public void GlobalSetup()
    {
        torch.set_num_threads(ThreadCount);
        Parallelism.MaxDegreeOfParallelism = ThreadCount;
        var (module, seqLen, batch, carried) = Setup(Case);
        (_seqLen, _batch, _carried) = (seqLen, batch, carried);
        RnnShape shape = module.Shape();
        _x = Uniform(42, seqLen * batch * shape.InputSize);
        _output = new float[seqLen * batch * shape.OutputSize];
        _hN = new float[shape.NumLayers * shape.NumDirections * batch * shape.HiddenSize];
        _cN = new float[_hN.Length];
        ParameterSet parameters;
        if (shape.GateCount == 4)
        {
            _lstm = (ILstmModule)module.Create();
            _genericLstm = new Dynamic.Lstm(shape.InputSize, shape.HiddenSize, shape.NumLayers, bidirectional: shape.NumDirections == 2, seed: 0);
            _genericLstm.Parameters.CopyFrom(_lstm.Parameters);
            parameters = _lstm.Parameters;
            _torch = TorchPeer.Load(nn.LSTM(shape.InputSize, shape.HiddenSize, shape.NumLayers, bidirectional: shape.NumDirections == 2), parameters);
        }
        else
        {
            _rnn = (IRnnModule)module.Create();
            _genericRnn = shape.GateCount == 3
                ? new Dynamic.Gru(shape.InputSize, shape.HiddenSize, shape.NumLayers, bidirectional: shape.NumDirections == 2, seed: 0)
                : new Dynamic.Rnn(shape.InputSize, shape.HiddenSize, shape.NumLayers, bidirectional: shape.NumDirections == 2, seed: 0);
            _genericRnn.Parameters.CopyFrom(_rnn.Parameters);
            parameters = _rnn.Parameters;
            _torch = shape.GateCount == 3
                ? TorchPeer.Load(nn.GRU(shape.InputSize, shape.HiddenSize, shape.NumLayers, bidirectional: shape.NumDirections == 2), parameters)
                : TorchPeer.Load(nn.RNN(shape.InputSize, shape.HiddenSize, shape.NumLayers, bidirectional: shape.NumDirections == 2), parameters);
        }
        _tx = torch.tensor(_x, new long[] { seqLen, batch, shape.InputSize });
        long[] stateShape = { shape.NumLayers * shape.NumDirections, batch, shape.HiddenSize };
        _th = torch.zeros(stateShape);
        _tc = torch.zeros(stateShape);
        string op = shape.GateCount switch { 4 => "LSTM", 3 => "GRU", _ => "RNN" };
        _onnx = new OnnxPeer(op, shape, parameters, seqLen, batch, streaming: carried, threads: ThreadCount);
        _x.CopyTo(_onnx.Inputs[0], 0);

        // The carried step compares the new state; the others the output. The generic fallback takes seconds on
        // the largest shapes, where the test suite checks it instead.
        float[] torchOutput = Array.Empty<float>();
        var peers = new List<(string, Action, Func<float[]>)>
        {
            ("PyTorch", () => torchOutput = PyTorchOutput(), () => carried ? TorchPeer.ToArray(_th) : torchOutput),
            ("ONNX Runtime", () => OnnxRuntime(), () => carried ? _onnx.Inputs[1] : _onnx.Outputs[0]),
        };
        if (ForwardFlops(shape, seqLen, batch) < 1e8)
            peers.Add(("generic fallback", () => Generic(), () => carried ? _hN : _output));
        CrossCheck(Reset, () => RnnGen(), () => carried ? _hN : _output, peers.ToArray());
    }

    private void Reset()
    {
        Array.Clear(_hN);
        Array.Clear(_cN);
        _th.zero_();
        _tc.zero_();
        for (int i = 1; i < _onnx.Inputs.Length; i++)
            Array.Clear(_onnx.Inputs[i]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _onnx.Dispose();
        Parallelism.MaxDegreeOfParallelism = 1;
        TorchPeer.SingleThreaded();
    }

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public float RnnGen() => Forward(_lstm, _rnn);

    [Benchmark(Description = "generic fallback")]
    public float Generic() => Forward(_genericLstm, _genericRnn);

    /// <summary>The forward through whichever of the two modules is set (the same call for generated and generic).</summary>
    private float Forward(ILstmModule? lstm, IRnnModule? rnn)
    {
        if (lstm is not null)
        {
            if (_carried)
                lstm.Forward(_x, _seqLen, _batch, _output, _hN, _cN, _hN, _cN);
            else
                lstm.Forward(_x, _seqLen, _batch, _output, _hN, _cN);
        }
        else
        {
            rnn!.Forward(_x, _seqLen, _batch, _output, _hN);
        }
        return _output[0];
    }

    [Benchmark(Description = "PyTorch")]
    public float PyTorch()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return Run().numel();
    }

    private float[] PyTorchOutput()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return TorchPeer.ToArray(Run());
    }

    private Tensor Run()
    {
        switch (_torch)
        {
            case TorchSharp.Modules.LSTM lstm:
            {
                var (output, h, c) = lstm.forward(_tx, _carried ? (_th, _tc) : null);
                if (_carried)
                {
                    _th.copy_(h);
                    _tc.copy_(c);
                }
                return output;
            }
            case TorchSharp.Modules.GRU gru:
                return gru.forward(_tx, null).Item1;
            default:
                return ((TorchSharp.Modules.RNN)_torch).forward(_tx, null).Item1;
        }
    }

    [Benchmark(Description = "ONNX Runtime")]
    public float OnnxRuntime()
    {
        if (_carried)
            _onnx.Step();
        else
            _onnx.Run();
        return _onnx.Outputs[0][0];
    }
}

/// <summary>
/// The throughput shapes forward on every core: batch rows split over threads (Parallelism.MaxDegreeOfParallelism; a
/// large batch of one, its tiles of units),
/// against libtorch with torch.set_num_threads(N) and ONNX Runtime with IntraOpNumThreads = N, all at the same N, in
/// the same run. N = 1 and N = this machine's logical cores.
/// </summary>
[BenchmarkCategory("Parallel")]
public class ParallelForward : SequenceForwardBase
{
    /// <summary>
    /// Lstm/Gru(128,128) s100 b32: the batch-32 throughput cases; Rnn(100,200,2L,bi) s50 b16: stacking and both directions
    /// at batch 16; Lstm(100→200) step: a batch of one whose weights fill L2, split by tiles of units.
    /// </summary>
    [Params("Lstm(100→200) step", "Lstm(128,128) s100 b32", "Gru(128,128) s100 b32", "Rnn(100,200,2L,bi) s50 b16")]
    public string Shape { get => Case; set => Case = value; }

    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; } = 1;

    public static IEnumerable<int> ThreadCounts => new[] { 1, Environment.ProcessorCount }.Distinct();

    public override int ThreadCount => Threads;
}

/// <summary>
/// A training step's recurrent part: forward in training mode plus backward (loss Σ output · gradOutput),
/// Lstm(128, 128) and Gru(128, 128) over seq 100 × batch 32. Peers: generic fallback, PyTorch autograd. ONNX
/// Runtime (inference) has no backward: no peer.
/// </summary>
[BenchmarkCategory("Training")]
public class SequenceTraining : CaseBase
{
    /// <summary>The throughput shapes of <see cref="SequenceForward"/>, trained: what a training loop spends its time in.</summary>
    [Params("Lstm(128,128) s100 b32", "Gru(128,128) s100 b32")]
    public string Case { get; set; } = "Lstm(128,128) s100 b32";

    public override string CaseName => Case + " forward+backward";

    public override double Flops => 3 * ForwardFlops(new RnnShape(128, 128, gateCount: Case.StartsWith("Lstm", StringComparison.Ordinal) ? 4 : 3), 100, 32);

    private const int SeqLen = 100, Batch = 32;
    private IRnnModule? _gru, _genericGru;
    private ILstmModule? _lstm, _genericLstm;
    private nn.Module _torch = null!;
    private Tensor _tx = null!, _tg = null!;
    private float[] _x = null!, _gradOutput = null!, _output = null!, _hN = null!, _cN = null!, _gradInput = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        TorchPeer.SingleThreaded();
        _x = Uniform(42, SeqLen * Batch * 128);
        _gradOutput = Uniform(43, SeqLen * Batch * 128);
        _output = new float[SeqLen * Batch * 128];
        _gradInput = new float[_x.Length];
        _hN = new float[Batch * 128];
        _cN = new float[Batch * 128];
        if (Case.StartsWith("Lstm", StringComparison.Ordinal))
        {
            _lstm = new Lstm128(1);
            _genericLstm = new Dynamic.Lstm(128, 128, seed: 0);
            _genericLstm.Parameters.CopyFrom(_lstm.Parameters);
            _torch = TorchPeer.Load(nn.LSTM(128, 128), _lstm.Parameters);
        }
        else
        {
            _gru = new Gru128(1);
            _genericGru = new Dynamic.Gru(128, 128, seed: 0);
            _genericGru.Parameters.CopyFrom(_gru.Parameters);
            _torch = TorchPeer.Load(nn.GRU(128, 128), _gru.Parameters);
        }
        _tx = torch.tensor(_x, new long[] { SeqLen, Batch, 128 });
        _tg = torch.tensor(_gradOutput, new long[] { SeqLen, Batch, 128 });

        // The weight gradients must agree with autograd's.
        RnnGen();
        PyTorch();
        ParameterSet ours = (_lstm?.Gradients ?? _gru!.Gradients);
        foreach (var (name, parameter) in _torch.named_parameters())
        {
            float[] expected = TorchPeer.ToArray(parameter.grad!);
            float[] actual = ours.GetReadOnly(name).ToArray();
            double num = 0, den = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                num += (actual[i] - expected[i]) * (double)(actual[i] - expected[i]);
                den += expected[i] * (double)expected[i];
            }
            if (Math.Sqrt(num) > 1e-4 * Math.Max(Math.Sqrt(den), 1e-3))
                throw new InvalidOperationException($"gradient of {name} differs from PyTorch's: relative error {Math.Sqrt(num / den):E2}");
        }
    }

    [Benchmark(Baseline = true, Description = "RnnGen")]
    public float RnnGen() => Train(_lstm, _gru);

    [Benchmark(Description = "generic fallback")]
    public float Generic() => Train(_genericLstm, _genericGru);

    /// <summary>Zero the gradients, forward in training mode, backward, through whichever module is set.</summary>
    private float Train(ILstmModule? lstm, IRnnModule? gru)
    {
        if (lstm is not null)
        {
            lstm.ZeroGrad();
            lstm.Forward(_x, SeqLen, Batch, _output, _hN, _cN, training: true);
            lstm.Backward(_gradOutput, default, default, _gradInput, default, default);
        }
        else
        {
            gru!.ZeroGrad();
            gru.Forward(_x, SeqLen, Batch, _output, _hN, training: true);
            gru.Backward(_gradOutput, default, _gradInput, default);
        }
        return _gradInput[0];
    }

    [Benchmark(Description = "PyTorch")]
    public float PyTorch()
    {
        using var scope = torch.NewDisposeScope();
        _torch.zero_grad();
        Tensor x = _tx.detach().requires_grad_(true);
        Tensor output = _torch is TorchSharp.Modules.LSTM lstm ? lstm.forward(x, null).Item1 : ((TorchSharp.Modules.GRU)_torch).forward(x, null).Item1;
        (output * _tg).sum().backward();
        return x.grad!.numel();
    }
}

/// <summary>The generated modules the sequence cases run, by name, with their shapes.</summary>
public enum Declared
{
    Lstm100x200,
    TutorialRnn,
    Lstm128,
    Gru128,
    BidirectionalRnn,
}

internal static class DeclaredExtensions
{
    public static RnnShape Shape(this Declared module) => module switch
    {
        Declared.Lstm100x200 => new RnnShape(100, 200, gateCount: 4),
        Declared.TutorialRnn => new RnnShape(100, 200),
        Declared.Lstm128 => new RnnShape(128, 128, gateCount: 4),
        Declared.Gru128 => new RnnShape(128, 128, gateCount: 3),
        _ => new RnnShape(100, 200, numLayers: 2, bidirectional: true),
    };

    public static object Create(this Declared module) => module switch
    {
        Declared.Lstm100x200 => new Lstm100x200(1),
        Declared.TutorialRnn => new TutorialRnn(1),
        Declared.Lstm128 => new Lstm128(1),
        Declared.Gru128 => new Gru128(1),
        _ => new BidirectionalRnn(1),
    };
}

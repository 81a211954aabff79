using System;
using BenchmarkDotNet.Attributes;
using RnnGen;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Bench;

[LstmCell(inputSize: 1, hiddenSize: 32)]
public partial class AmpLstmCell;

[GruCell(inputSize: 1, hiddenSize: 32)]
public partial class AmpGruCell;

[Rnn(inputSize: 100, hiddenSize: 200)]
public partial class TutorialRnn;

/// <summary>
/// One step, batch 1, state carried between calls: an amp model runs this 48,000 times a second. LstmCell and
/// GruCell 1→32 are common amp-model sizes. Peers: the generic fallback (run-time sizes) and PyTorch 2.10
/// (TorchSharp, one thread, no_grad). Baseline: the generated kernels.
/// </summary>
[BenchmarkCategory("Streaming")]
public class Streaming
{
    private readonly float[] _x = { 0.25f };
    private readonly float[] _h = new float[32], _c = new float[32];
    private AmpLstmCell _lstm = null!;
    private Dynamic.LstmCell _genericLstm = null!;
    private AmpGruCell _gru = null!;
    private Dynamic.GruCell _genericGru = null!;
    private TorchSharp.Modules.LSTMCell _torchLstm = null!;
    private Tensor _tx = null!, _th = null!, _tc = null!;

    [GlobalSetup]
    public void Setup()
    {
        _lstm = new AmpLstmCell(seed: 1);
        _genericLstm = new Dynamic.LstmCell(1, 32, seed: 0);
        _genericLstm.Parameters.CopyFrom(_lstm.Parameters);
        _gru = new AmpGruCell(seed: 2);
        _genericGru = new Dynamic.GruCell(1, 32, seed: 0);
        _genericGru.Parameters.CopyFrom(_gru.Parameters);
        torch.set_num_threads(1);
        _torchLstm = nn.LSTMCell(1, 32);
        _tx = torch.tensor(_x, new long[] { 1, 1 });
        _th = torch.zeros(1, 32);
        _tc = torch.zeros(1, 32);
    }

    [Benchmark(Baseline = true, Description = "LstmCell(1,32) RnnGen generated")]
    public float LstmGenerated()
    {
        _lstm.Forward(_x, 1, _h, _c, _h, _c);
        return _h[0];
    }

    [Benchmark(Description = "LstmCell(1,32) RnnGen generic fallback")]
    public float LstmGeneric()
    {
        _genericLstm.Forward(_x, 1, _h, _c, _h, _c);
        return _h[0];
    }

    [Benchmark(Description = "LstmCell(1,32) PyTorch (TorchSharp)")]
    public float LstmTorch()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (h, c) = _torchLstm.forward(_tx, (_th, _tc));
        _th.copy_(h);
        _tc.copy_(c);
        return 0f;
    }

    [Benchmark(Description = "GruCell(1,32) RnnGen generated")]
    public float GruGenerated()
    {
        _gru.Forward(_x, 1, _h, _h);
        return _h[0];
    }

    [Benchmark(Description = "GruCell(1,32) RnnGen generic fallback")]
    public float GruGeneric()
    {
        _genericGru.Forward(_x, 1, _h, _h);
        return _h[0];
    }
}

/// <summary>The tutorial's shape: Rnn(100, 200) over (seq 6, batch 5, 100), default h0.</summary>
[BenchmarkCategory("Tutorial")]
public class Tutorial
{
    private float[] _x = null!, _output = null!, _hN = null!;
    private TutorialRnn _rnn = null!;
    private Dynamic.Rnn _generic = null!;
    private TorchSharp.Modules.RNN _torch = null!;
    private Tensor _tx = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _x = new float[6 * 5 * 100];
        for (int i = 0; i < _x.Length; i++)
            _x[i] = 2f * random.NextSingle() - 1f;
        _output = new float[6 * 5 * 200];
        _hN = new float[5 * 200];
        _rnn = new TutorialRnn(seed: 1);
        _generic = new Dynamic.Rnn(100, 200, seed: 0);
        _generic.Parameters.CopyFrom(_rnn.Parameters);
        torch.set_num_threads(1);
        _torch = nn.RNN(100, 200);
        _tx = torch.tensor(_x, new long[] { 6, 5, 100 });
    }

    [Benchmark(Baseline = true, Description = "Rnn(100,200) seq 6 batch 5 RnnGen generated")]
    public float Generated()
    {
        _rnn.Forward(_x, 6, 5, _output, _hN);
        return _output[0];
    }

    [Benchmark(Description = "Rnn(100,200) seq 6 batch 5 RnnGen generic fallback")]
    public float Generic()
    {
        _generic.Forward(_x, 6, 5, _output, _hN);
        return _output[0];
    }

    [Benchmark(Description = "Rnn(100,200) seq 6 batch 5 PyTorch (TorchSharp)")]
    public float Torch()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (output, _) = _torch.forward(_tx, null);
        return output.numel();
    }
}

using System;
using System.IO;
using System.Linq;
using NUnit.Framework;
using RnnGen.Tests.Support;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace RnnGen.Tests;

[Lstm(1, 16, NumLayers = 2)]
public partial class TrainedLstm;

[Gru(2, 24, BatchFirst = true)]
public partial class TrainedGru;

/// <summary>
/// Models trained in PyTorch (TorchSharp, autograd and torch.optim.Adam), saved with TorchSharp.PyBridge as a
/// state_dict, loaded into generated modules: their predictions are PyTorch's within 1e-5 (scaled), on every kernel
/// path (CI runs the Numeric category once per path).
/// </summary>
[TestFixture]
[Category("Numeric")]
[NonParallelizable]
public class TrainedInPyTorchTests
{
    /// <summary>A model with <c>self.rnn</c> and <c>self.head</c>: head(rnn(x)[:, last step]).</summary>
    private sealed class RecurrentWithHead : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE0044 // TorchSharp registers fields by name: these names are the state_dict prefixes.
        private nn.Module<Tensor, Tensor> rnn;
        private TorchSharp.Modules.Linear head;
#pragma warning restore IDE0044
        private readonly bool _batchFirst;

        public RecurrentWithHead(nn.Module<Tensor, Tensor> recurrent, int hidden, bool batchFirst) : base(nameof(RecurrentWithHead))
        {
            rnn = recurrent;
            head = nn.Linear(hidden, 1);
            _batchFirst = batchFirst;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            Tensor output = rnn.forward(x);
            return head.forward(_batchFirst ? output[.., -1] : output[-1]);
        }
    }

    /// <summary>nn.LSTM / nn.GRU returning only the output sequence.</summary>
    private sealed class OutputOnly : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module _inner;
        private readonly bool _lstm;

        public OutputOnly(nn.Module inner, bool lstm) : base(nameof(OutputOnly))
        {
            _inner = inner;
            _lstm = lstm;
        }

        public override Tensor forward(Tensor x) => _lstm
            ? ((TorchSharp.Modules.LSTM)_inner).forward(x).Item1
            : ((TorchSharp.Modules.GRU)_inner).forward(x).Item1;
    }

    [Test]
    public void LstmTrainedInPyTorchPredictsTheSameInRnnGen()
    {
        const int seqLen = 12, batch = 16;
        torch.set_num_threads(1);
        torch.random.manual_seed(20);
        using var scope = torch.NewDisposeScope();
        var lstm = nn.LSTM(1, 16, numLayers: 2);
        var model = new RecurrentWithHead(new OutputOnly(lstm, lstm: true), 16, batchFirst: false);
        // The model's registered modules must carry PyTorch's names: rnn = the LSTM itself.
        (Tensor x, Tensor y) = SineWindows(seqLen, batch, features: 1, batchFirst: false);
        Train(model, lstm, x, y);

        string path = Path.Combine(Path.GetTempPath(), $"rnngen-trained-{Guid.NewGuid():N}.safetensors");
        try
        {
            var saved = new StateDictOf(lstm, model);
            saved.save_safetensors(path);
            var file = SafetensorsFile.Read(path);
            var module = new TrainedLstm(seed: 1);
            var linear = new Dynamic.Linear(16, 1, seed: 2);
            file.LoadInto(module.Parameters, "rnn.");
            file.LoadInto(linear.Parameters, "head.");
            Assert.That(file.UnusedKeys, Is.Empty);

            float[] input = ToArray(x);
            var output = new float[seqLen * batch * 16];
            var hN = new float[2 * batch * 16];
            var cN = new float[hN.Length];
            module.Forward(input, seqLen, batch, output, hN, cN);
            var prediction = new float[batch];
            linear.Forward(output.AsSpan((seqLen - 1) * batch * 16), batch, prediction);

            float[] expected;
            using (torch.no_grad())
                expected = ToArray(model.forward(x));
            Numerics.AssertClose(prediction, expected, $"predictions of a trained LSTM on {module.LastKernelPath}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void GruTrainedInPyTorchPredictsTheSameInRnnGen()
    {
        const int seqLen = 9, batch = 10;
        torch.set_num_threads(1);
        torch.random.manual_seed(21);
        using var scope = torch.NewDisposeScope();
        var gru = nn.GRU(2, 24, batchFirst: true);
        var model = new RecurrentWithHead(new OutputOnly(gru, lstm: false), 24, batchFirst: true);
        (Tensor x, Tensor y) = SineWindows(seqLen, batch, features: 2, batchFirst: true);
        Train(model, gru, x, y);

        string path = Path.Combine(Path.GetTempPath(), $"rnngen-trained-{Guid.NewGuid():N}.safetensors");
        try
        {
            new StateDictOf(gru, model).save_safetensors(path);
            var module = new TrainedGru(seed: 1);
            var linear = new Dynamic.Linear(24, 1, seed: 2);
            module.Parameters.LoadSafetensors(path, "rnn.");
            linear.Parameters.LoadSafetensors(path, "head.");

            float[] input = ToArray(x);
            var output = new float[batch * seqLen * 24];
            var hN = new float[batch * 24];
            module.Forward(input, seqLen, batch, output, hN);
            // Batch-first output: the last step of each row is that row's final h, hN.
            var prediction = new float[batch];
            linear.Forward(hN, batch, prediction);

            float[] expected;
            using (torch.no_grad())
                expected = ToArray(model.forward(x));
            Numerics.AssertClose(prediction, expected, $"predictions of a trained GRU on {module.LastKernelPath}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Windows of a noisy sine: predict the next value from the last seqLen.</summary>
    private static (Tensor X, Tensor Y) SineWindows(int seqLen, int batch, int features, bool batchFirst)
    {
        var random = new Random(3);
        var x = new float[batch * seqLen * features];
        var y = new float[batch];
        for (int b = 0; b < batch; b++)
        {
            double phase = random.NextDouble() * 6.28;
            for (int t = 0; t < seqLen; t++)
                for (int f = 0; f < features; f++)
                {
                    int at = batchFirst ? (b * seqLen + t) * features + f : (t * batch + b) * features + f;
                    x[at] = (float)(Math.Sin(phase + 0.4 * t + f) + 0.05 * random.NextDouble());
                }
            y[b] = (float)Math.Sin(phase + 0.4 * seqLen);
        }
        long[] shape = batchFirst ? new long[] { batch, seqLen, features } : new long[] { seqLen, batch, features };
        return (torch.tensor(x, shape), torch.tensor(y, new long[] { batch, 1 }));
    }

    /// <summary>100 steps of Adam on the mean squared error: the weights move well away from their initialisation.</summary>
    private static void Train(nn.Module<Tensor, Tensor> model, nn.Module recurrent, Tensor x, Tensor y)
    {
        var parameters = new System.Collections.Generic.List<TorchSharp.Modules.Parameter>(model.parameters());
        parameters.AddRange(recurrent.parameters());
        var optimizer = torch.optim.Adam(parameters, lr: 0.01);
        float first = 0, last = 0;
        for (int step = 0; step < 100; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.forward(x), y);
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            if (step == 0)
                first = last;
        }
        Assert.That(last, Is.LessThan(first / 2), "the model trained (its loss fell)");
    }

    /// <summary>A module whose state_dict is the recurrent module under "rnn." and the head under "head.".</summary>
    private sealed class StateDictOf : nn.Module
    {
#pragma warning disable IDE0044
        private nn.Module rnn;
        private nn.Module head;
#pragma warning restore IDE0044

        public StateDictOf(nn.Module recurrent, nn.Module model) : base(nameof(StateDictOf))
        {
            rnn = recurrent;
            head = model.named_children().Single(c => c.name == "head").module;
            RegisterComponents();
        }
    }

    private static float[] ToArray(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}

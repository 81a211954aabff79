using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NUnit.Framework;
using RnnGen.Tests.Support;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace RnnGen.Tests;

/// <summary>
/// Interop with an independent safetensors implementation, TorchSharp.PyBridge 1.4.4, and PyTorch 2.10 (through
/// TorchSharp) as the numeric oracle: modules saved by PyBridge load into RnnGen and give PyTorch's outputs
/// (within 1e-5 scaled); files RnnGen writes load into the TorchSharp modules with PyBridge (strict) and give
/// RnnGen's outputs; a model of two modules (an LSTM and its Linear head, keys <c>lstm.*</c> and <c>head.*</c>)
/// goes both ways through one file.
/// </summary>
[Category("Safetensors")]
[NonParallelizable]
public class SafetensorsInteropTests
{
    private string _directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"rnngen-interop-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        torch.set_num_threads(1);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    public static IEnumerable<TestCaseData> Configurations()
    {
        yield return new TestCaseData(new RnnConfig(false, 3, 5, 2, Bidirectional: true, IsLstm: true)).SetName("LSTM(3, 5, num_layers=2, bidirectional)");
        yield return new TestCaseData(new RnnConfig(false, 2, 4, BatchFirst: true, Bias: false, IsLstm: true)).SetName("LSTM(2, 4, batch_first, bias=False)");
        yield return new TestCaseData(new RnnConfig(false, 4, 6, 2, IsGru: true)).SetName("GRU(4, 6, num_layers=2)");
        yield return new TestCaseData(new RnnConfig(false, 5, 3, 3, Bidirectional: true, IsGru: true)).SetName("GRU(5, 3, num_layers=3, bidirectional)");
        yield return new TestCaseData(new RnnConfig(false, 3, 7, 2, Bidirectional: true, Nonlinearity: Nonlinearity.Relu)).SetName("RNN(3, 7, num_layers=2, relu, bidirectional)");
        yield return new TestCaseData(new RnnConfig(false, 17, 9)).SetName("RNN(17, 9)");
    }

    [TestCaseSource(nameof(Configurations))]
    public void TorchModuleSavedByPyBridgeLoadsIntoRnnGenWithPyTorchsOutputs(RnnConfig c)
    {
        int seed = Numerics.FreshSeed();
        torch.random.manual_seed(seed);
        using var scope = torch.NewDisposeScope();
        using nn.Module torchModule = TorchModule(c);
        string path = PathOf("torch.safetensors");
        torchModule.save_safetensors(path);

        object module = RnnGenModule(c, seed: 1);
        Parameters(module).LoadSafetensors(path);

        var random = new Random(seed);
        const int SeqLen = 4, Batch = 3;
        float[] x = Numerics.Uniform(random, SeqLen * Batch * c.InputSize);
        var (expectedOutput, expectedHn) = TorchForward(c, torchModule, x, SeqLen, Batch);
        var (output, hN) = Forward(module, x, SeqLen, Batch);
        Numerics.AssertClose(output, expectedOutput, $"seed {seed}: output");
        Numerics.AssertClose(hN, expectedHn, $"seed {seed}: hN");
    }

    [TestCaseSource(nameof(Configurations))]
    public void FileSavedByRnnGenLoadsIntoTheTorchModuleWithPyBridge(RnnConfig c)
    {
        int seed = Numerics.FreshSeed();
        object module = RnnGenModule(c, seed);
        string path = PathOf("rnngen.safetensors");
        Parameters(module).SaveSafetensors(path);

        using var scope = torch.NewDisposeScope();
        torch.random.manual_seed(seed ^ 1);
        using nn.Module torchModule = TorchModule(c);
        torchModule.load_safetensors(path, strict: true);
        foreach (var (name, parameter) in torchModule.named_parameters())
            Assert.That(ToArray(parameter), Is.EqualTo(Parameters(module).GetReadOnly(name).ToArray()), $"{name} after PyBridge's load");

        var random = new Random(seed);
        const int SeqLen = 5, Batch = 2;
        float[] x = Numerics.Uniform(random, SeqLen * Batch * c.InputSize);
        var (expectedOutput, expectedHn) = TorchForward(c, torchModule, x, SeqLen, Batch);
        var (output, hN) = Forward(module, x, SeqLen, Batch);
        Numerics.AssertClose(output, expectedOutput, $"seed {seed}: output");
        Numerics.AssertClose(hN, expectedHn, $"seed {seed}: hN");
    }

    private static float[] RnnGenModelForward(Dynamic.Lstm lstm, Dynamic.Linear head, float[] x, int seqLen, int batch)
    {
        var (output, _, _) = lstm.Forward(x, seqLen, batch);
        float[] last = output.AsSpan((seqLen - 1) * batch * lstm.HiddenSize).ToArray();
        var prediction = new float[batch];
        head.Forward(last, batch, prediction);
        return prediction;
    }

    [Test]
    public void ModelWithLstmAndHeadGoesBothWaysThroughOneFile()
    {
        int seed = Numerics.FreshSeed();
        var random = new Random(seed);
        const int Input = 3, Hidden = 8, Layers = 2, SeqLen = 6, Batch = 4;
        float[] x = Numerics.Uniform(random, SeqLen * Batch * Input);
        using var scope = torch.NewDisposeScope();

        // PyTorch -> RnnGen
        torch.random.manual_seed(seed);
        using var model = new LstmWithHead(Input, Hidden, Layers);
        model.eval();
        string fromTorch = PathOf("model.safetensors");
        model.save_safetensors(fromTorch);
        var file = SafetensorsFile.Read(fromTorch);
        Assert.That(file.Keys, Has.Member("lstm.weight_ih_l0").And.Member("head.weight"), "PyBridge writes state_dict keys with the attribute path");
        var lstm = new Dynamic.Lstm(Input, Hidden, Layers, seed: 1);
        var head = new Dynamic.Linear(Hidden, 1, seed: 2);
        file.LoadInto(lstm.Parameters, "lstm.");
        file.LoadInto(head.Parameters, "head.");
        Assert.That(file.UnusedKeys, Is.Empty);
        float[] expected;
        using (torch.no_grad())
            expected = ToArray(model.forward(torch.tensor(x, new long[] { SeqLen, Batch, Input })));
        Numerics.AssertClose(RnnGenModelForward(lstm, head, x, SeqLen, Batch), expected, $"seed {seed}: PyTorch -> RnnGen prediction");

        // RnnGen -> PyTorch
        var lstm2 = new Dynamic.Lstm(Input, Hidden, Layers, seed: seed);
        var head2 = new Dynamic.Linear(Hidden, 1, seed: seed + 1);
        string fromRnnGen = PathOf("rnngen-model.safetensors");
        SafetensorsFile.Write(fromRnnGen, new[] { ("lstm.", lstm2.Parameters), ("head.", head2.Parameters) }, new Dictionary<string, string> { ["format"] = "pt" });
        torch.random.manual_seed(seed ^ 1);
        using var model2 = new LstmWithHead(Input, Hidden, Layers);
        model2.eval();
        model2.load_safetensors(fromRnnGen, strict: true);
        using (torch.no_grad())
            expected = ToArray(model2.forward(torch.tensor(x, new long[] { SeqLen, Batch, Input })));
        Numerics.AssertClose(RnnGenModelForward(lstm2, head2, x, SeqLen, Batch), expected, $"seed {seed}: RnnGen -> PyTorch prediction");
    }

    /// <summary>
    /// TorchSharp's nn.LSTM has no proj_size, so a projected LSTM's state_dict is written as a plain dictionary of
    /// tensors by PyBridge, with PyTorch's documented key names and shapes spelt out here. Checked: every key lands
    /// bit for bit in the parameter of that name, the forward with those parameters matches PyTorch operations
    /// (Torch.LstmByOperations, itself checked against nn.LSTM without projection), and RnnGen's file read back by
    /// PyBridge has the same keys, shapes and bits. Not checked: nn.LSTM(proj_size=...) itself, which TorchSharp lacks.
    /// </summary>
    [Test]
    public void ProjectedLstmStateDictWrittenByPyBridgeLoadsByKeyAndReadsBack()
    {
        int seed = Numerics.FreshSeed();
        torch.random.manual_seed(seed);
        const int Input = 3, Hidden = 6, Proj = 2, Layers = 2;
        using var scope = torch.NewDisposeScope();
        var stateDict = new Dictionary<string, Tensor>();
        for (int layer = 0; layer < Layers; layer++)
        {
            foreach (string suffix in new[] { $"_l{layer}", $"_l{layer}_reverse" })
            {
                long inputs = layer == 0 ? Input : 2 * Proj;
                stateDict["weight_ih" + suffix] = torch.randn(4 * Hidden, inputs);
                stateDict["weight_hh" + suffix] = torch.randn(4 * Hidden, Proj);
                stateDict["bias_ih" + suffix] = torch.randn(4 * Hidden);
                stateDict["bias_hh" + suffix] = torch.randn(4 * Hidden);
                stateDict["weight_hr" + suffix] = torch.randn(Proj, Hidden);
            }
        }
        string path = PathOf("projected.safetensors");
        Safetensors.SaveStateDict(path, stateDict);

        var lstm = new Dynamic.Lstm(Input, Hidden, Layers, bidirectional: true, projSize: Proj, seed: 1);
        lstm.Parameters.LoadSafetensors(path);
        foreach (var (key, tensor) in stateDict)
            Assert.That(lstm.Parameters.GetReadOnly(key).ToArray(), Is.EqualTo(ToArray(tensor)), key);

        var config = new RnnConfig(false, Input, Hidden, Layers, Bidirectional: true, IsLstm: true, ProjSize: Proj);
        var random = new Random(seed);
        const int SeqLen = 4, Batch = 2;
        float[] x = Numerics.Uniform(random, SeqLen * Batch * Input);
        var (output, hN, cN) = lstm.Forward(x, SeqLen, Batch);
        var byOperations = Torch.LstmByOperations(config, lstm.Parameters, x, SeqLen, Batch, null, null, new float[output.Length], null, null, out float[] expectedCn, out _);
        Numerics.AssertClose(output, byOperations.Output, $"seed {seed}: output");
        Numerics.AssertClose(hN, byOperations.HN, $"seed {seed}: hN");
        Numerics.AssertClose(cN, expectedCn, $"seed {seed}: cN");

        string back = PathOf("projected-rnngen.safetensors");
        lstm.Parameters.SaveSafetensors(back);
        Dictionary<string, Tensor> readBack = Safetensors.LoadStateDict(back);
        Assert.That(readBack.Keys, Is.EquivalentTo(stateDict.Keys));
        foreach (var (key, tensor) in stateDict)
        {
            Assert.That(readBack[key].shape, Is.EqualTo(tensor.shape), key);
            Assert.That(ToArray(readBack[key]), Is.EqualTo(ToArray(tensor)), key);
        }
    }

    [Test]
    public void PyBridgeF32FileRoundTripsThroughRnnGenByteForByteInValues()
    {
        // A file written by PyBridge, loaded and saved again by RnnGen, loads in PyBridge to the same bits.
        int seed = Numerics.FreshSeed();
        torch.random.manual_seed(seed);
        using var scope = torch.NewDisposeScope();
        using var gru = nn.GRU(3, 5, 2, bidirectional: true);
        string path = PathOf("gru.safetensors");
        gru.save_safetensors(path);
        var module = new Dynamic.Gru(3, 5, 2, bidirectional: true, seed: 1);
        module.Parameters.LoadSafetensors(path);
        string again = PathOf("gru-again.safetensors");
        module.Parameters.SaveSafetensors(again);
        Dictionary<string, Tensor> original = Safetensors.LoadStateDict(path), copy = Safetensors.LoadStateDict(again);
        Assert.That(copy.Keys, Is.EquivalentTo(original.Keys));
        foreach (var (key, tensor) in original)
            Assert.That(ToArray(copy[key]).Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(ToArray(tensor).Select(BitConverter.SingleToUInt32Bits)), key);
    }

    private static nn.Module TorchModule(RnnConfig c) => c switch
    {
        { IsLstm: true } => nn.LSTM(c.InputSize, c.HiddenSize, c.NumLayers, c.Bias, c.BatchFirst, 0.0, c.Bidirectional),
        { IsGru: true } => nn.GRU(c.InputSize, c.HiddenSize, c.NumLayers, c.Bias, c.BatchFirst, 0.0, c.Bidirectional),
        _ => nn.RNN(c.InputSize, c.HiddenSize, c.NumLayers, c.Nonlinearity == Nonlinearity.Relu ? nn.NonLinearities.ReLU : nn.NonLinearities.Tanh, c.Bias, c.BatchFirst, 0.0, c.Bidirectional),
    };

    private static object RnnGenModule(RnnConfig c, int seed) => c switch
    {
        { IsLstm: true } => new Dynamic.Lstm(c.InputSize, c.HiddenSize, c.NumLayers, c.Bias, c.BatchFirst, 0, c.Bidirectional, seed: seed),
        { IsGru: true } => new Dynamic.Gru(c.InputSize, c.HiddenSize, c.NumLayers, c.Bias, c.BatchFirst, 0, c.Bidirectional, seed: seed),
        _ => new Dynamic.Rnn(c.InputSize, c.HiddenSize, c.NumLayers, c.Nonlinearity, c.Bias, c.BatchFirst, 0, c.Bidirectional, seed: seed),
    };

    private static ParameterSet Parameters(object module) => module is ILstmModule lstm ? lstm.Parameters : ((IRnnModule)module).Parameters;

    private static (float[] Output, float[] HN) Forward(object module, float[] x, int seqLen, int batch)
    {
        if (module is ILstmModule lstm)
        {
            var (output, hN, _) = lstm.Forward(x, seqLen, batch);
            return (output, hN);
        }
        return ((IRnnModule)module).Forward(x, seqLen, batch);
    }

    private static (float[] Output, float[] HN) TorchForward(RnnConfig c, nn.Module module, float[] x, int seqLen, int batch)
    {
        long[] shape = c.BatchFirst ? new long[] { batch, seqLen, c.InputSize } : new long[] { seqLen, batch, c.InputSize };
        using var _ = torch.no_grad();
        Tensor input = torch.tensor(x, shape);
        return module switch
        {
            TorchSharp.Modules.LSTM lstm => Triple(lstm.forward(input)),
            TorchSharp.Modules.GRU gru => Pair(gru.forward(input, null)),
            TorchSharp.Modules.RNN rnn => Pair(rnn.forward(input, null)),
            _ => throw new ArgumentException("not a recurrent module"),
        };

        static (float[], float[]) Pair((Tensor Output, Tensor HN) r) => (ToArray(r.Output), ToArray(r.HN));
        static (float[], float[]) Triple((Tensor Output, Tensor HN, Tensor CN) r) => (ToArray(r.Output), ToArray(r.HN));
    }

    private static float[] ToArray(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}

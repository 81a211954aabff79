using System;
using System.IO;
using System.Linq;
using System.Reflection;
using NUnit.Framework;
using RnnGen.Tests.Support;
using TorchSharp;
using TorchSharp.PyBridge;

namespace RnnGen.Tests;

/// <summary>
/// [Weights] with PyTorch and the real compiler: a module baked from a model that TorchSharp.PyBridge saved gives PyTorch's
/// output, and a module of this test project is baked by the compiler from TestData. The generator's side of baking (every
/// dtype, every diagnostic, file lookup, incrementality) is tested in tests/RnnGen.Generator.Tests.
/// </summary>
[Category("Weights")]
public class WeightsBakingTests
{
    private const string Header = "using RnnGen;\nnamespace Sample;\n";

    private string _directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"rnngen-weights-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static object Create(Assembly assembly, string name, params object[] arguments) =>
        Activator.CreateInstance(assembly.GetType("Sample." + name, throwOnError: true)!, arguments)!;

    [Test]
    public void ModuleBakedFromAPyTorchModelSavedByPyBridgeGivesPyTorchsOutput()
    {
        int seed = Numerics.FreshSeed();
        const int Input = 3, Hidden = 20, Layers = 2, SeqLen = 7, Batch = 4;
        using var scope = torch.NewDisposeScope();
        torch.random.manual_seed(seed);
        using var model = new LstmWithHead(Input, Hidden, Layers);
        model.eval();
        string path = Path.Combine(_directory, "torch.safetensors");
        model.save_safetensors(path);

        Assembly assembly = GeneratorHarness.CompileAndLoad(Header + $"[Lstm({Input}, {Hidden}, NumLayers = {Layers}), Weights(\"torch.safetensors\", Prefix = \"lstm.\")] public partial class Amp;",
            $"Torch{seed}", [new GeneratorHarness.BinaryFile(path)], _directory);
        var amp = (ILstmModule)Create(assembly, "Amp");
        float[] x = Numerics.Uniform(new Random(seed), SeqLen * Batch * Input);
        var (output, hN, cN) = amp.Forward(x, SeqLen, Batch);
        torch.Tensor torchOutput, torchH, torchC;
        using (torch.no_grad())
            (torchOutput, torchH, torchC) = model.Lstm.forward(torch.tensor(x, new long[] { SeqLen, Batch, Input }));
        Numerics.AssertClose(output, torchOutput.data<float>().ToArray(), $"seed {seed}: output against PyTorch");
        Numerics.AssertClose(hN, torchH.data<float>().ToArray(), $"seed {seed}: h_n against PyTorch");
        Numerics.AssertClose(cN, torchC.data<float>().ToArray(), $"seed {seed}: c_n against PyTorch");
    }

    // ---- the real compiler: a module of this project baked from TestData --------------------------------

    [Test]
    public void ModuleOfThisProjectIsBakedByTheCompilerFromItsAdditionalFile()
    {
        string path = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "python_lstm_head.safetensors");
        var expected = new Dynamic.Lstm(2, 3, seed: 1);
        SafetensorsFile.Read(path).LoadInto(expected.Parameters, "lstm.");
        var baked = new PythonLstmBaked();
        Assert.That(Numerics.Bits(baked.Parameters.AsReadOnlySpan()), Is.EqualTo(Numerics.Bits(expected.Parameters.AsReadOnlySpan())));
        Assert.That(typeof(PythonLstmBaked).GetConstructor([typeof(int)])!.GetCustomAttribute<ObsoleteAttribute>()!.IsError, Is.True, "new PythonLstmBaked(seed) is a compile error");
    }
}

/// <summary>Baked by the compiler from the AdditionalFiles item TestData/python_lstm_head.safetensors (see the project file).</summary>
[Lstm(2, 3), Weights("TestData/python_lstm_head.safetensors", Prefix = "lstm.")]
public partial class PythonLstmBaked;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using NUnit.Framework;
using RnnGen.Tests.Support;
using static RnnGen.Tests.Support.SafetensorsBuilder;

namespace RnnGen.Generator.Tests;

/// <summary>
/// [Weights]: the generator bakes a safetensors file into the module. Checked here: a baked module starts with exactly the
/// parameters SafetensorsFile loads from the same file (F32, F16, BF16, F64, special values) and forwards bit for bit like a
/// module that loaded the file at run time; every diagnostic; file lookup; incrementality per file. A module baked from a
/// model that PyTorch saved, and one baked by the real compiler, are tested in tests/RnnGen.Tests (WeightsBakingTests).
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
        Directory.CreateDirectory(Path.Combine(_directory, "weights"));
        Directory.CreateDirectory(Path.Combine(_directory, "more"));
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private string Write(string relativePath, byte[] bytes)
    {
        string path = Path.Combine(_directory, relativePath);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static object Create(Assembly assembly, string name, params object[] arguments) =>
        Activator.CreateInstance(assembly.GetType("Sample." + name, throwOnError: true)!, arguments)!;

    private static ParameterSet ParametersOf(object module) => (ParameterSet)module.GetType().GetProperty("Parameters")!.GetValue(module)!;

    private static int[] Bits(ReadOnlySpan<float> values) => values.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    // ---- baked == loaded at run time ----------------------------------------------------------------

    public static IEnumerable<TestCaseData> Modules()
    {
        yield return new TestCaseData("[Lstm(3, 17, NumLayers = 2, Bidirectional = true)]").SetName("Baked Lstm(3, 17, 2 layers, bidirectional) equals a runtime-loaded one");
        yield return new TestCaseData("[Lstm(4, 8, ProjSize = 3, BatchFirst = true)]").SetName("Baked Lstm(4, 8, ProjSize 3) equals a runtime-loaded one");
        yield return new TestCaseData("[LstmCell(1, 32)]").SetName("Baked LstmCell(1, 32) equals a runtime-loaded one");
        yield return new TestCaseData("[Gru(5, 9, NumLayers = 3, Bias = false, Dropout = 0.25)]").SetName("Baked Gru(5, 9, 3 layers, no bias) equals a runtime-loaded one");
        yield return new TestCaseData("[GruCell(2, 100)]").SetName("Baked GruCell(2, 100) equals a runtime-loaded one");
        yield return new TestCaseData("[Rnn(1, 200, Nonlinearity = Nonlinearity.Relu)]").SetName("Baked Rnn(1, 200, relu) equals a runtime-loaded one");
        yield return new TestCaseData("[RnnCell(3, 17, Bias = false)]").SetName("Baked RnnCell(3, 17, no bias) equals a runtime-loaded one");
    }

    [TestCaseSource(nameof(Modules))]
    public void BakedModuleStartsWithTheFileAndForwardsBitForBitLikeOneLoadedAtRunTime(string attribute)
    {
        int seed = Numerics.FreshSeed();
        var random = new Random(seed);
        string source = Header + $"{attribute} public partial class Plain;\n{attribute}, Weights(\"weights/model.safetensors\", Prefix = \"rnn.\")] public partial class Baked;".Replace("], Weights", ", Weights");
        // The file is written by the runtime from a module of the same shape (with a head under another prefix, which must be ignored),
        // before compiling: baking happens at compile time.
        Assembly plainOnly = GeneratorHarness.CompileAndLoad(Header + attribute + " public partial class Plain;", $"PlainOnly{seed}");
        ParameterSet trained = ParametersOf(Create(plainOnly, "Plain", seed));
        var head = new Dynamic.Linear(3, 2, seed: seed + 1);
        string path = Write("weights/model.safetensors", SafetensorsFile.Serialize([("rnn.", trained), ("head.", head.Parameters)]));

        Assembly assembly = GeneratorHarness.CompileAndLoad(source, $"Baked{seed}", [new GeneratorHarness.BinaryFile(path)], _directory);
        object baked = Create(assembly, "Baked");
        object loaded = Create(assembly, "Plain", seed ^ 0x5555);
        ParametersOf(loaded).LoadSafetensors(path, "rnn.");
        Assert.That(ParametersOf(baked).Names, Is.EqualTo(ParametersOf(loaded).Names));
        Assert.That(Bits(ParametersOf(baked).AsReadOnlySpan()), Is.EqualTo(Bits(trained.AsReadOnlySpan())), $"seed {seed}: the baked parameters are the file's");

        const int SeqLen = 5, Batch = 3;
        (float[] bakedOut, float[] loadedOut) = (Forward(baked, random, SeqLen, Batch, seed), Forward(loaded, random, SeqLen, Batch, seed));
        Assert.That(Bits(bakedOut), Is.EqualTo(Bits(loadedOut)), $"seed {seed}: forward bit for bit");
        Assert.That(bakedOut.Any(v => v != 0), Is.True);

        // Parameters stay writable: a change is seen by the next call (fine-tuning works on a baked module).
        ParametersOf(baked).AsSpan()[0] += 1f;
        Assert.That(Bits(Forward(baked, random, SeqLen, Batch, seed)), Is.Not.EqualTo(Bits(bakedOut)), "a changed parameter changes the output");
    }

    /// <summary>One forward of any module kind on inputs drawn from <paramref name="seed"/>; returns every output concatenated.</summary>
    private static float[] Forward(object module, Random unused, int seqLen, int batch, int seed)
    {
        var random = new Random(seed);
        switch (module)
        {
            case ILstmModule lstm:
            {
                float[] x = Numerics.Uniform(random, seqLen * batch * lstm.InputSize);
                var (output, hN, cN) = lstm.Forward(x, seqLen, batch);
                return [.. output, .. hN, .. cN];
            }
            case IRnnModule rnn:
            {
                float[] x = Numerics.Uniform(random, seqLen * batch * rnn.InputSize);
                var (output, hN) = rnn.Forward(x, seqLen, batch);
                return [.. output, .. hN];
            }
            case ILstmCellModule cell:
            {
                float[] x = Numerics.Uniform(random, batch * cell.InputSize);
                var (h, c) = cell.Forward(x, batch, Numerics.Uniform(random, batch * cell.HiddenSize), Numerics.Uniform(random, batch * cell.HiddenSize));
                return [.. h, .. c];
            }
            case IRnnCellModule cell:
                return cell.Forward(Numerics.Uniform(random, batch * cell.InputSize), batch, Numerics.Uniform(random, batch * cell.HiddenSize));
            default:
                throw new ArgumentException(module.GetType().Name);
        }
    }

    [Test]
    public void F16Bf16AndF64AndSpecialValuesBakeAsSafetensorsFileLoadsThem()
    {
        // GruCell(1, 2): weight_ih (6, 1), weight_hh (6, 2), bias_ih (6), bias_hh (6), each in another dtype.
        ushort[] halves = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0xFC00, 0x7C00, 0x7E01, 0xFE00, 0x3555]; // ±0, subnormals, 1, max, ±inf, NaNs
        ushort[] brains = [0x3F80, 0x0001, 0x8000, 0x7F80, 0xFF81, 0x4049];
        double[] doubles = [0.1, -1e-46, 1e39, double.NaN, 1.0000000596046448, 3.0000001788139343]; // the last two: ties and near-ties of float32
        byte[] Bytes<T>(T[] values, int size, Action<byte[], int, T> put)
        {
            var b = new byte[values.Length * size];
            for (int i = 0; i < values.Length; i++)
                put(b, i * size, values[i]);
            return b;
        }
        byte[] f16 = Bytes(halves, 2, (b, at, v) => BitConverter.TryWriteBytes(b.AsSpan(at), v));
        byte[] bf16 = Bytes(brains, 2, (b, at, v) => BitConverter.TryWriteBytes(b.AsSpan(at), v));
        byte[] f64 = Bytes(doubles, 8, (b, at, v) => BitConverter.TryWriteBytes(b.AsSpan(at), v));
        byte[] file = Build([
            new SafetensorsBuilder.Tensor("weight_ih", "BF16", [6, 1], bf16),
            new SafetensorsBuilder.Tensor("weight_hh", "F16", [6, 2], f16),
            new SafetensorsBuilder.Tensor("bias_ih", "F64", [6], f64),
            F32("bias_hh", [6], i => i == 0 ? float.Epsilon : i == 1 ? -0f : i * 0.5f - 1f),
        ]);
        string path = Write("mixed.safetensors", file);
        Assembly assembly = GeneratorHarness.CompileAndLoad(Header + "[GruCell(1, 2), Weights(\"mixed.safetensors\")] public partial class Baked;", "Mixed", [new GeneratorHarness.BinaryFile(path)], _directory);
        var expected = new Dynamic.GruCell(1, 2, seed: 1);
        SafetensorsFile.Read(path).LoadInto(expected.Parameters);
        Assert.That(Bits(ParametersOf(Create(assembly, "Baked")).AsReadOnlySpan()), Is.EqualTo(Bits(expected.Parameters.AsReadOnlySpan())));
        // And against values known independently: BF16 0x3F80 is 1.0, F16 0x0001 is 2^-24, F64 0.1 rounds to 0.1f.
        ParameterSet baked = ParametersOf(Create(assembly, "Baked"));
        Assert.That(baked.GetReadOnly("weight_ih")[0], Is.EqualTo(1f));
        Assert.That(baked.GetReadOnly("weight_hh")[2], Is.EqualTo(MathF.Pow(2, -24)));
        Assert.That(baked.GetReadOnly("bias_ih")[0], Is.EqualTo(0.1f));
    }

    [Test]
    public void F16ConversionMatchesSystemHalfForEveryValue()
    {
        for (int h = 0; h <= ushort.MaxValue; h++)
        {
            uint expected = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)h));
            uint actual = Generator.Parsing.WeightsBaker.HalfToSingleBits((ushort)h);
            if (actual != expected)
                Assert.Fail($"F16 0x{h:X4}: 0x{actual:X8}, System.Half gives 0x{expected:X8}");
        }
    }

    // ---- diagnostics ------------------------------------------------------------------------------

    /// <summary>Runs the generator on <paramref name="declaration"/> with <paramref name="files"/> (relative path → bytes) in the project directory.</summary>
    private GeneratorDriverRunResult RunWith(string declaration, params (string Path, byte[] Bytes)[] files) =>
        GeneratorHarness.Run(Header + declaration, files.Select(f => (AdditionalText)new GeneratorHarness.BinaryFile(Write(f.Path, f.Bytes))).ToArray(), _directory).Result;

    private static byte[] LstmFile(string prefix, int input, int hidden, int layers = 1, string dtype = "F32") =>
        Build(new Dynamic.Lstm(input, hidden, layers, seed: 1).Parameters.Names.Select(name =>
        {
            int[] shape = new Dynamic.Lstm(input, hidden, layers, seed: 1).Parameters.GetShape(name).ToArray();
            return dtype == "F32" ? F32(prefix + name, shape.Select(d => (long)d).ToArray(), i => i * 0.01f) : Raw(prefix + name, dtype, shape.Select(d => (long)d).ToArray(), 8);
        }));

    public static IEnumerable<TestCaseData> Diagnostics()
    {
        TestCaseData Case(string id, string name, string declaration, (string, byte[])[] files, params string[] expected) =>
            new TestCaseData(id, declaration, files, expected).SetName($"{id}: {name}");
        byte[] good = LstmFile("lstm.", 1, 4);
        yield return Case("RNNG0014", "file not among AdditionalFiles", "[Lstm(1, 4), Weights(\"amp.safetensors\")] public partial class A;", [("other.safetensors", good)],
            "[Weights(\"amp.safetensors\")]", "add <AdditionalFiles Include=\"amp.safetensors\" />");
        yield return Case("RNNG0014", "a name that two AdditionalFiles end with", "[Lstm(1, 4), Weights(\"amp.safetensors\", Prefix = \"lstm.\")] public partial class A;",
            [("weights/amp.safetensors", good), ("more/amp.safetensors", good)], "it matches 2 AdditionalFiles", "write its path relative to the project directory");
        yield return Case("RNNG0014", "a file that is not *.safetensors", "[Lstm(1, 4), Weights(\"amp.bin\")] public partial class A;", [],
            "rename the file to end with .safetensors");
        yield return Case("RNNG0015", "a malformed file", "[Lstm(1, 4), Weights(\"amp.safetensors\")] public partial class A;", [("amp.safetensors", good[..^4])],
            "'amp.safetensors' is not a valid safetensors file: the tensors end at byte", "(the file is truncated)", "save it with safetensors.torch.save_file");
        yield return Case("RNNG0016", "a wrong prefix", "[Lstm(1, 4), Weights(\"amp.safetensors\", Prefix = \"rnn.\")] public partial class A;", [("amp.safetensors", good)],
            "missing key(s) \"rnn.weight_ih_l0\"", "no key starts with \"rnn.\"; the file's keys start with \"lstm.\": set Prefix");
        yield return Case("RNNG0016", "a file with two layers for one declared", "[Lstm(1, 4), Weights(\"amp.safetensors\", Prefix = \"lstm.\")] public partial class A;", [("amp.safetensors", LstmFile("lstm.", 1, 4, layers: 2))],
            "unexpected key(s) \"lstm.bias_hh_l1\", \"lstm.bias_ih_l1\", \"lstm.weight_hh_l1\", \"lstm.weight_ih_l1\"", "change NumLayers from 1 to 2", "declare [Lstm(1, 4, NumLayers = 2)]");
        yield return Case("RNNG0017", "an input size that disagrees", "[Lstm(1, 32, NumLayers = 2), Weights(\"amp.safetensors\", Prefix = \"lstm.\")] public partial class A;", [("amp.safetensors", LstmFile("lstm.", 3, 32, layers: 2))],
            "lstm.weight_ih_l0 in 'amp.safetensors' is (128, 3) but [Lstm(1, 32, NumLayers = 2)] needs (128, 1)", "the file was saved with input_size 3, hidden_size 32 and num_layers 2", "change inputSize from 1 to 3", "declare [Lstm(3, 32, NumLayers = 2)]");
        yield return Case("RNNG0017", "a hidden size that disagrees", "[Lstm(3, 16), Weights(\"amp.safetensors\", Prefix = \"lstm.\")] public partial class A;", [("amp.safetensors", LstmFile("lstm.", 3, 32))],
            "change hiddenSize from 16 to 32", "declare [Lstm(3, 32)]", "also mismatched: lstm.weight_hh_l0 is (128, 32)");
        yield return Case("RNNG0018", "an integer dtype", "[Lstm(1, 4), Weights(\"amp.safetensors\", Prefix = \"lstm.\")] public partial class A;", [("amp.safetensors", LstmFile("lstm.", 1, 4, dtype: "I64"))],
            "In 'amp.safetensors', lstm.weight_ih_l0 has dtype I64, lstm.weight_hh_l0 has dtype I64, lstm.bias_ih_l0 has dtype I64, lstm.bias_hh_l0 has dtype I64, but RnnGen bakes", "save the model as floating point");
        // 1100 x 1000 LSTM: 4·1000·(1100 + 1000) + 8000 floats = 33.6 MB, above the 16 MB threshold.
        yield return Case("RNNG0019", "a file above 16 MB", "[Lstm(1100, 1000), Weights(\"big.safetensors\")] public partial class A;", [("big.safetensors", LstmFile("", 1100, 1000))],
            "bakes 32.1 MB of float32 into the assembly, more than 16 MB", "Parameters.LoadSafetensors");
        yield return Case("RNNG0020", "[Weights] without a module", "[Weights(\"amp.safetensors\")] public partial class A;", [("amp.safetensors", good)],
            "'A' carries [Weights] but no module attribute", "such as [Lstm(1, 32)]");
    }

    [TestCaseSource(nameof(Diagnostics))]
    public void WeightsDiagnosticIsReported(string id, string declaration, (string Path, byte[] Bytes)[] files, string[] expected)
    {
        GeneratorDriverRunResult result = RunWith(declaration, files);
        Assert.That(result.Results.Single().Exception, Is.Null);
        var matching = result.Diagnostics.Where(d => d.Id == id).ToList();
        Assert.That(matching, Has.Count.EqualTo(1), string.Join("\n", result.Diagnostics));
        Diagnostic diagnostic = matching[0];
        TestContext.Out.WriteLine(diagnostic.ToString());
        foreach (string text in expected)
            Assert.That(diagnostic.GetMessage(), Does.Contain(text));
        Assert.That(diagnostic.Location.GetLineSpan().Path, Is.EqualTo("Input.cs"), "points at the declaration");
        Assert.That(diagnostic.Location.SourceSpan.Length, Is.GreaterThan(0));
        Assert.That(result.Diagnostics.Where(d => d.Id != id), Is.Empty, "one diagnostic for one problem");
        DiagnosticSeverity severity = id == "RNNG0019" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error;
        Assert.That(diagnostic.Severity, Is.EqualTo(severity));
        Assert.That(result.Results.Single().GeneratedSources, severity == DiagnosticSeverity.Error ? Is.Empty : Has.Length.EqualTo(2));
    }

    [Test]
    public void FileIsFoundByItsPathRelativeToTheProjectOrByItsName()
    {
        byte[] file = LstmFile("", 1, 4);
        Assert.That(RunWith("[Lstm(1, 4), Weights(\"weights/amp.safetensors\")] public partial class A;", ("weights/amp.safetensors", file)).Diagnostics, Is.Empty);
        Assert.That(RunWith("[Lstm(1, 4), Weights(\"./weights/../weights/amp.safetensors\")] public partial class A;", ("weights/amp.safetensors", file)).Diagnostics, Is.Empty);
        Assert.That(RunWith("[Lstm(1, 4), Weights(\"amp.safetensors\")] public partial class A;", ("weights/amp.safetensors", file)).Diagnostics, Is.Empty, "by name, the only one");
        // Two files named amp.safetensors: the relative path picks the one at the project root.
        Write("amp.safetensors", LstmFile("", 1, 5));
        var both = new AdditionalText[] { new GeneratorHarness.BinaryFile(Write("weights/amp.safetensors", file)), new GeneratorHarness.BinaryFile(Path.Combine(_directory, "amp.safetensors")) };
        var result = GeneratorHarness.Run(Header + "[Lstm(1, 5), Weights(\"amp.safetensors\")] public partial class A;", both, _directory).Result;
        Assert.That(result.Diagnostics, Is.Empty, "the project-relative path wins over a name match elsewhere");
        // Without the project directory (a host without build_property.MSBuildProjectDirectory), a name matching two files is ambiguous.
        result = GeneratorHarness.Run(Header + "[Lstm(1, 5), Weights(\"amp.safetensors\")] public partial class A;", both).Result;
        Assert.That(result.Diagnostics.Single().GetMessage(), Does.Contain("matches 2 AdditionalFiles"));
    }

    [Test]
    public void BakedModuleHasAWeightsFileBesideItsKernelsAndTheSeedConstructorIsACompileError()
    {
        // weight_ih (1, 1) = 1.0f, weight_hh = -2.0f, biases 0.5f and 0.25f: bytes known without running the generator.
        byte[] file = Build([F32("weight_ih", [1, 1], _ => 1f), F32("weight_hh", [1, 1], _ => -2f), F32("bias_ih", [1], _ => 0.5f), F32("bias_hh", [1], _ => 0.25f)]);
        (Compilation output, GeneratorDriverRunResult result) = GeneratorHarness.Run(Header +
            "[RnnCell(1, 1), Weights(\"cell.safetensors\")] public partial class Cell;\npublic static class User { public static Cell Make() => new Cell(7); }",
            [new GeneratorHarness.BinaryFile(Write("cell.safetensors", file))], _directory);
        Assert.That(result.Diagnostics, Is.Empty);
        GeneratedSourceResult[] sources = result.Results.Single().GeneratedSources.ToArray();
        Assert.That(sources.Select(s => s.HintName), Is.EquivalentTo(new[] { "Sample.Cell.RnnGen.g.cs", "Sample.Cell.RnnGen.Weights.g.cs" }));
        string weights = sources.Single(s => s.HintName.EndsWith("Weights.g.cs", StringComparison.Ordinal)).SourceText.ToString();
        Assert.That(weights, Does.Contain("private static global::System.ReadOnlySpan<uint> s_weights => new uint[]"));
        Assert.That(weights, Does.Contain("0x3F800000, 0xC0000000, 0x3F000000, 0x3E800000,"), "the IEEE 754 bits of 1.0f, -2.0f, 0.5f, 0.25f");
        Diagnostic error = output.GetDiagnostics().Single(d => d.Severity == DiagnosticSeverity.Error);
        Assert.That(error.Id, Is.EqualTo("CS0619"));
        Assert.That(error.GetMessage(), Does.Contain("Cell starts from the weights baked in from cell.safetensors ([Weights]), so there is no seed to draw them from; write new Cell()"));
    }

    // ---- incrementality -----------------------------------------------------------------------------

    [Test]
    public void ChangingOneWeightsFileReEmitsOnlyTheWeightsOfTheModuleThatBakesIt()
    {
        string a = Write("a.safetensors", LstmFile("", 1, 4));
        string b = Write("b.safetensors", LstmFile("", 2, 3));
        var fileB = new GeneratorHarness.BinaryFile(b);
        Compilation compilation = GeneratorHarness.CreateCompilation(Header +
            "[Lstm(1, 4), Weights(\"a.safetensors\")] public partial class A;\n[Lstm(2, 3), Weights(\"b.safetensors\")] public partial class B;\n[Rnn(4, 8)] public partial class C;");
        GeneratorDriver driver = GeneratorHarness.CreateDriver([new GeneratorHarness.BinaryFile(a), fileB], _directory).RunGenerators(compilation);
        Assert.That(driver.GetRunResult().Results.Single().GeneratedSources, Has.Length.EqualTo(5));

        // Unchanged inputs: everything cached.
        driver = driver.RunGenerators(compilation.Clone());
        GeneratorRunResult same = driver.GetRunResult().Results.Single();
        foreach (var output in same.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs))
            Assert.That(output.Reason, Is.EqualTo(IncrementalStepRunReason.Cached), "source outputs of an unchanged run");

        // New content in b.safetensors (the IDE and the driver hand the generator a new AdditionalText for it).
        var trained = new Dynamic.Lstm(2, 3, seed: 99);
        File.WriteAllBytes(b, SafetensorsFile.Serialize([("", trained.Parameters)]));
        driver = driver.ReplaceAdditionalText(fileB, new GeneratorHarness.BinaryFile(b)).RunGenerators(compilation.Clone());
        GeneratorRunResult changed = driver.GetRunResult().Results.Single();

        IncrementalStepRunReason Reason(string step, string typeName) =>
            changed.TrackedSteps[step].SelectMany(s => s.Outputs).Single(o => ((dynamic)o.Value).Spec.TypeName == typeName).Reason;
        Assert.That(Reason(TrackingNames.BakedWeights, "B"), Is.EqualTo(IncrementalStepRunReason.Modified), "B's weights are re-emitted");
        Assert.That(Reason(TrackingNames.BakedWeights, "A"), Is.EqualTo(IncrementalStepRunReason.Unchanged).Or.EqualTo(IncrementalStepRunReason.Cached), "A's weights are not");
        foreach (var output in changed.TrackedSteps[TrackingNames.BakedSpecs].SelectMany(s => s.Outputs))
            Assert.That(output.Reason, Is.EqualTo(IncrementalStepRunReason.Unchanged).Or.EqualTo(IncrementalStepRunReason.Cached), "no module's kernels are re-emitted");
        foreach (var output in changed.TrackedSteps[TrackingNames.Specs].SelectMany(s => s.Outputs))
            Assert.That(output.Reason, Is.EqualTo(IncrementalStepRunReason.Cached).Or.EqualTo(IncrementalStepRunReason.Unchanged), "a module without weights is untouched");
        string weightsB = changed.GeneratedSources.Single(s => s.HintName == "Sample.B.RnnGen.Weights.g.cs").SourceText.ToString();
        uint first = BitConverter.SingleToUInt32Bits(trained.Parameters.AsReadOnlySpan()[0]);
        string firstLine = weightsB.Split('\n').SkipWhile(l => !l.Contains("s_weights =>", StringComparison.Ordinal)).ElementAt(2).Trim();
        Assert.That(firstLine, Does.StartWith($"0x{first:X8},"), "the new weights are baked");
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RnnGen.Tests.Support;
using static RnnGen.Tests.Support.SafetensorsBuilder;

namespace RnnGen.Tests;

/// <summary>
/// The safetensors format: files laid out by Python's writer (reproduced by TestData/make_safetensors.py with the
/// standard library) read with the values the script computed, RnnGen's writer byte-identical to that layout, and
/// the reference reader's (huggingface/safetensors tensor.rs) accept and refuse rules, one case each.
/// </summary>
[Category("Safetensors")]
public class SafetensorsFormatTests
{
    private static string TestData(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", name);

    private static JsonElement Expected(string file) =>
        JsonDocument.Parse(File.ReadAllText(TestData("python_expected.json"))).RootElement.GetProperty(file);

    private static void AssertBits(ReadOnlySpan<float> actual, JsonElement expectedBits, string what)
    {
        string[] expected = expectedBits.EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] == "nan")
                Assert.That(float.IsNaN(actual[i]), Is.True, $"{what}[{i}] should be NaN");
            else
                Assert.That(BitConverter.SingleToUInt32Bits(actual[i]).ToString("x8"), Is.EqualTo(expected[i]), $"{what}[{i}] = {actual[i]:R}");
        }
    }

    [Test]
    public void PythonLayoutWithF16Bf16F64ReadsAsTheScriptComputed()
    {
        var file = SafetensorsFile.Read(TestData("python_mixed_dtypes.safetensors"));
        JsonElement expected = Expected("python_mixed_dtypes.safetensors");
        Assert.That(file.Metadata, Is.EqualTo(new Dictionary<string, string> { ["format"] = "pt" }));
        Assert.That(file.Keys, Is.EqualTo(new[] { "bf16.values", "f16.values", "f32.empty", "f32.plain", "f64.rounding", "num_batches_tracked" }));
        foreach (JsonProperty tensor in expected.EnumerateObject())
        {
            string key = tensor.Name;
            Assert.That(file.GetDtype(key), Is.EqualTo(tensor.Value.GetProperty("dtype").GetString()), key);
            Assert.That(file.GetShape(key).ToArray(), Is.EqualTo(tensor.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetUInt64())), key);
            AssertBits(file.GetFloats(key), tensor.Value.GetProperty("f32_bits"), key);
        }
        Assert.That(file.GetDtype("num_batches_tracked"), Is.EqualTo("I64"));
        Assert.That(file.GetShape("num_batches_tracked").Length, Is.Zero, "a scalar");
        var refused = Assert.Throws<InvalidDataException>(() => file.GetFloats("num_batches_tracked"))!;
        Assert.That(refused.Message, Does.Contain("I64"));
    }

    [Test]
    public void PythonLayoutLstmAndHeadLoadIntoTheirModulesWithTheScriptsValues()
    {
        var file = SafetensorsFile.Read(TestData("python_lstm_head.safetensors"));
        JsonElement expected = Expected("python_lstm_head.safetensors");
        var lstm = new Dynamic.Lstm(2, 3, seed: 1);
        var head = new Dynamic.Linear(3, 1, seed: 2);
        file.LoadInto(lstm.Parameters, "lstm.");
        Assert.That(file.UnusedKeys, Is.EqualTo(new[] { "head.bias", "head.weight" }), "the head's keys are still unused");
        file.LoadInto(head.Parameters, "head.");
        Assert.That(file.UnusedKeys, Is.Empty);
        foreach (string name in lstm.Parameters.Names)
            AssertBits(lstm.Parameters.GetReadOnly(name), expected.GetProperty("lstm." + name).GetProperty("f32_bits"), name);
        foreach (string name in head.Parameters.Names)
            AssertBits(head.Parameters.GetReadOnly(name), expected.GetProperty("head." + name).GetProperty("f32_bits"), name);
    }

    [Test]
    public void WriterOutputIsByteIdenticalToPythonsLayout()
    {
        byte[] python = File.ReadAllBytes(TestData("python_lstm_head.safetensors"));
        var file = SafetensorsFile.Parse(python);
        var lstm = new Dynamic.Lstm(2, 3, seed: 1);
        var head = new Dynamic.Linear(3, 1, seed: 2);
        file.LoadInto(lstm.Parameters, "lstm.");
        file.LoadInto(head.Parameters, "head.");
        byte[] ours = SafetensorsFile.Serialize(new[] { ("lstm.", lstm.Parameters), ("head.", head.Parameters) }, new Dictionary<string, string> { ["format"] = "pt" });
        Assert.That(Encoding.UTF8.GetString(ours, 8, 120), Is.EqualTo(Encoding.UTF8.GetString(python, 8, 120)), "header start");
        Assert.That(ours, Is.EqualTo(python));

        // The same through a file, sets given in the other order (the layout sorts by key).
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsFile.Write(path, new[] { ("head.", head.Parameters), ("lstm.", lstm.Parameters) }, new Dictionary<string, string> { ["format"] = "pt" });
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(python));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void SaveThenLoadIsBitIdenticalIncludingSpecialValues()
    {
        var lstm = new Dynamic.Lstm(3, 4, numLayers: 2, bidirectional: true, projSize: 2, seed: 5);
        Span<float> all = lstm.Parameters.AsSpan();
        float[] specials = { float.NaN, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, BitConverter.UInt32BitsToSingle(0x7fc01234) };
        specials.CopyTo(all);
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-{Guid.NewGuid():N}.safetensors");
        try
        {
            lstm.Parameters.SaveSafetensors(path, "rnn.");
            var copy = new Dynamic.Lstm(3, 4, numLayers: 2, bidirectional: true, projSize: 2, seed: 6);
            long version = copy.Parameters.Version;
            copy.Parameters.LoadSafetensors(path, "rnn.");
            Assert.That(copy.Parameters.Version, Is.GreaterThan(version), "a load counts as a change");
            Assert.That(Bits(copy.Parameters), Is.EqualTo(Bits(lstm.Parameters)));
            Assert.That(SafetensorsFile.Read(path).Keys, Has.Member("rnn.weight_hr_l1_reverse"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void LinearTakesPartLikeTheRecurrentModules()
    {
        var head = new Dynamic.Linear(5, 2, seed: 1);
        byte[] bytes = SafetensorsFile.Serialize(new[] { ("head.", head.Parameters) });
        var file = SafetensorsFile.Parse(bytes);
        Assert.That(file.Keys, Is.EqualTo(new[] { "head.bias", "head.weight" }));
        Assert.That(file.GetShape("head.weight").ToArray(), Is.EqualTo(new ulong[] { 2, 5 }));
        var loaded = new Dynamic.Linear(5, 2, seed: 2);
        file.LoadInto(loaded.Parameters, "head.");
        Assert.That(Bits(loaded.Parameters), Is.EqualTo(Bits(head.Parameters)));

        var noBias = new Dynamic.Linear(5, 2, bias: false, seed: 3);
        var e = Assert.Throws<InvalidDataException>(() => file.LoadInto(noBias.Parameters, "head."))!;
        Assert.That(e.Message, Does.Contain("Unexpected key(s) in state_dict: \"head.bias\". "));
    }

    [Test]
    public void OneExceptionListsEveryMissingUnexpectedMisShapedAndUnloadableKeyAndNothingChanges()
    {
        var lstm = new Dynamic.Lstm(2, 3, seed: 1);
        var tensors = StateDict(lstm.Parameters, "lstm.", (p, i) => p + i / 100f);
        tensors.RemoveAll(t => t.Key == "lstm.bias_hh_l0");
        tensors[tensors.FindIndex(t => t.Key == "lstm.weight_ih_l0")] = F32("lstm.weight_ih_l0", new long[] { 12, 3 }, i => 1f);
        tensors[tensors.FindIndex(t => t.Key == "lstm.bias_ih_l0")] = Raw("lstm.bias_ih_l0", "I32", new long[] { 12 }, 4);
        tensors.Add(F32("lstm.weight_ih_l1", new long[] { 12, 3 }, i => 1f));
        tensors.Add(F32("head.weight", new long[] { 1, 3 }, i => 1f)); // outside the prefix: not this module's business
        var file = SafetensorsFile.Parse(Build(tensors), "model.safetensors");

        uint[] before = Bits(lstm.Parameters);
        long version = lstm.Parameters.Version;
        var e = Assert.Throws<InvalidDataException>(() => file.LoadInto(lstm.Parameters, "lstm."))!;
        TestContext.Out.WriteLine(e.Message);
        Assert.That(e.Message, Does.StartWith("Error(s) in loading state_dict from 'model.safetensors' with prefix \"lstm.\":"));
        Assert.That(e.Message, Does.Contain("\n\tMissing key(s) in state_dict: \"lstm.bias_hh_l0\". "));
        Assert.That(e.Message, Does.Contain("\n\tUnexpected key(s) in state_dict: \"lstm.weight_ih_l1\". "));
        Assert.That(e.Message, Does.Contain("\n\tsize mismatch for lstm.weight_ih_l0: copying a param with shape [12, 3] from checkpoint, the shape in current model is [12, 2]."));
        Assert.That(e.Message, Does.Contain("lstm.bias_ih_l0: I32"));
        Assert.That(e.Message, Does.Not.Contain("head.weight"));
        Assert.That(e.Data["MissingKeys"], Is.EqualTo(new[] { "lstm.bias_hh_l0" }));
        Assert.That(e.Data["UnexpectedKeys"], Is.EqualTo(new[] { "lstm.weight_ih_l1" }));
        Assert.That(e.Data["SizeMismatchKeys"], Is.EqualTo(new[] { "lstm.weight_ih_l0" }));
        Assert.That(e.Data["UnsupportedDtypeKeys"], Is.EqualTo(new[] { "lstm.bias_ih_l0" }));
        Assert.That(Bits(lstm.Parameters), Is.EqualTo(before), "a failed load changes nothing");
        Assert.That(lstm.Parameters.Version, Is.EqualTo(version), "and marks nothing changed");
        Assert.That(file.UnusedKeys, Has.Count.EqualTo(file.Keys.Count), "nothing was consumed");
    }

    [Test]
    public void WithoutPrefixEveryKeyOfTheFileMustBeAParameter()
    {
        var linear = new Dynamic.Linear(2, 2, seed: 1);
        var tensors = StateDict(linear.Parameters, "", (p, i) => i);
        Assert.DoesNotThrow(() => SafetensorsFile.Parse(Build(tensors)).LoadInto(linear.Parameters));
        Assert.That(linear.Parameters.GetReadOnly("weight").ToArray(), Is.EqualTo(new[] { 0f, 1f, 2f, 3f }));
        tensors.Add(F32("other.weight", new long[] { 1 }, i => 0f));
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(Build(tensors)).LoadInto(linear.Parameters))!;
        Assert.That(e.Message, Does.Contain("Unexpected key(s) in state_dict: \"other.weight\". "));
    }

    [Test]
    public void F16Bf16AndF64ParametersConvertOnLoad()
    {
        var linear = new Dynamic.Linear(2, 1, seed: 1);
        // weight [1, 2] as F16 (1.5, -0.25); bias [1] as BF16 (0.5) -- hand-encoded bit patterns.
        var weight = new Tensor("weight", "F16", new long[] { 1, 2 }, new byte[] { 0x00, 0x3e, 0x00, 0xb4 });
        var bias = new Tensor("bias", "BF16", new long[] { 1 }, new byte[] { 0x00, 0x3f });
        SafetensorsFile.Parse(Build(new[] { weight, bias })).LoadInto(linear.Parameters);
        Assert.That(linear.Parameters.AsReadOnlySpan().ToArray(), Is.EqualTo(new[] { 1.5f, -0.25f, 0.5f }));
        var f64 = new Tensor("bias", "F64", new long[] { 1 }, BitConverter.GetBytes(1.0 + Math.Pow(2, -24) * 3));
        SafetensorsFile.Parse(Build(new[] { weight, f64 })).LoadInto(linear.Parameters);
        Assert.That(linear.Parameters.GetReadOnly("bias")[0], Is.EqualTo(1f + MathF.Pow(2, -22)), "1 + 3·2^-24 is a tie: to even, up");
    }

    [Test]
    public void MissingFileIsFileNotFound()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-missing-{Guid.NewGuid():N}.safetensors");
        Assert.Throws<FileNotFoundException>(() => new Dynamic.Linear(1, 1).Parameters.LoadSafetensors(path));
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Read(path));
    }

    [Test]
    public void WriterRefusesTwoParametersUnderOneKey()
    {
        var a = new Dynamic.Linear(1, 1, seed: 1);
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Serialize(new[] { ("m.", a.Parameters), ("m.", a.Parameters) }));
    }

    [Test]
    public void MetadataWithEscapesRoundTrips()
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["quote\"back\\slash"] = "tab\tnew\nline\u0001 ü €", ["Ü"] = "" };
        var file = SafetensorsFile.Parse(SafetensorsFile.Serialize(new[] { ("", new Dynamic.Linear(1, 1, seed: 1).Parameters) }, metadata));
        Assert.That(file.Metadata, Is.EquivalentTo(metadata));
    }

    // ---- What the reference reader accepts ----

    [TestCaseSource(typeof(SafetensorsCases), nameof(SafetensorsCases.Accepted))]
    public void AcceptsWhatTheReferenceAccepts(byte[] bytes)
    {
        var file = SafetensorsFile.Parse(bytes);
        if (file.ContainsKey("a"))
            Assert.That(file.GetFloats("a"), Is.EqualTo(new[] { 1f, 2f }));
        if (file.ContainsKey("b"))
            Assert.That(file.GetFloats("b"), Is.EqualTo(new[] { 5f }));
    }

    // ---- What the reference reader refuses ----

    [TestCaseSource(typeof(SafetensorsCases), nameof(SafetensorsCases.Refusals))]
    public void RefusesWhatTheReferenceRefuses(byte[] bytes, string reason)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(bytes, "case.safetensors"))!;
        Assert.That(e.Message, Does.StartWith("'case.safetensors' is not a valid safetensors file: "));
        Assert.That(e.Message, Does.Contain(reason));
    }

    [Test]
    public void AFileRefusedOnDiskNamesThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, Assemble("{}", new byte[3]));
        try
        {
            var linear = new Dynamic.Linear(1, 1, seed: 1);
            var e = Assert.Throws<InvalidDataException>(() => linear.Parameters.LoadSafetensors(path))!;
            Assert.That(e.Message, Does.Contain(path).And.Contain("trailing bytes"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static uint[] Bits(ParameterSet parameters) =>
        parameters.AsReadOnlySpan().ToArray().Select(BitConverter.SingleToUInt32Bits).ToArray();
}

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

    public static IEnumerable<TestCaseData> Accepted()
    {
        var a = F32("a", new long[] { 2 }, i => i + 1);
        var b = F32("b", new long[] { 1, 1 }, i => 5);
        byte[] data = a.Data.Concat(b.Data).ToArray();
        const string Entries = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}";
        yield return new TestCaseData(Assemble("{" + Entries + "}", data)).SetName("Accepts an unaligned header (not a multiple of 8)");
        yield return new TestCaseData(Assemble("{" + Entries + "}     ", data)).SetName("Accepts spaces after the JSON");
        yield return new TestCaseData(Assemble(" \t\r\n{" + Entries + "}\n\t ", data)).SetName("Accepts JSON whitespace around the object");
        yield return new TestCaseData(Assemble("{\"b\":{\"data_offsets\":[8,12],\"shape\":[1,1],\"dtype\":\"F32\"},\"a\":{\"shape\":[2],\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", data)).SetName("Accepts any key and field order");
        yield return new TestCaseData(Assemble("{\"__metadata__\":null," + Entries + "}", data)).SetName("Accepts null metadata");
        yield return new TestCaseData(Assemble("{" + Entries + ",\"__metadata__\":{\"k\":\"v\"}}", data)).SetName("Accepts metadata last");
        yield return new TestCaseData(Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":[{\"x\":[1,2]}]},\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}", data)).SetName("Accepts unknown fields in a tensor entry");
        yield return new TestCaseData(Assemble("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},\"z\":{\"dtype\":\"I64\",\"shape\":[4,0],\"data_offsets\":[0,0]}," + Entries + "}", data)).SetName("Accepts empty tensors sharing an offset");
        yield return new TestCaseData(Assemble("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}", new byte[8])).SetName("Accepts a scalar");
        yield return new TestCaseData(Assemble("{}", Array.Empty<byte>())).SetName("Accepts a file without tensors");
        yield return new TestCaseData(Assemble("{\"\\u0061\":{\"dtype\":\"F\\u00332\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}", data)).SetName("Accepts escaped keys and dtype names");
        yield return new TestCaseData(Assemble("{\"e\":{\"dtype\":\"U8\",\"shape\":[18446744073709551615,0],\"data_offsets\":[0,0]}}", Array.Empty<byte>())).SetName("Accepts a huge dimension times zero");
    }

    [TestCaseSource(nameof(Accepted))]
    public void AcceptsWhatTheReferenceAccepts(byte[] bytes)
    {
        var file = SafetensorsFile.Parse(bytes);
        if (file.ContainsKey("a"))
            Assert.That(file.GetFloats("a"), Is.EqualTo(new[] { 1f, 2f }));
        if (file.ContainsKey("b"))
            Assert.That(file.GetFloats("b"), Is.EqualTo(new[] { 5f }));
    }

    // ---- What the reference reader refuses ----

    private static TestCaseData Refused(byte[] bytes, string reason, string name) => new TestCaseData(bytes, reason).SetName("Refuses " + name);

    private static byte[] WithEntry(string entry, int dataLength = 8) => Assemble("{\"t\":" + entry + "}", new byte[dataLength]);

    public static IEnumerable<TestCaseData> Refusals()
    {
        const string Ok = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        yield return Refused(new byte[7], "shorter than the 8-byte header length", "a file under 8 bytes");
        yield return Refused(Assemble("{}", Array.Empty<byte>(), 100_000_001), "above the 100,000,000-byte limit", "a header length above 100,000,000");
        yield return Refused(Assemble("{}", Array.Empty<byte>(), ulong.MaxValue), "above the 100,000,000-byte limit", "a header length of 2^64-1");
        yield return Refused(Assemble("{}      ", Array.Empty<byte>(), 9), "only 8 bytes follow", "a header length past the end");
        yield return Refused(Assemble(new byte[] { (byte)'{', (byte)'"', 0xff, (byte)'"', (byte)':', (byte)'1', (byte)'}' }, Array.Empty<byte>()), "not valid UTF-8", "a header that is not UTF-8");
        yield return Refused(Assemble("\uFEFF{}", Array.Empty<byte>()), "byte-order mark", "a byte-order mark");
        yield return Refused(Assemble("not json", Array.Empty<byte>()), "not valid JSON", "a header that is not JSON");
        yield return Refused(Assemble("[]", Array.Empty<byte>()), "not a JSON object", "a header that is an array");
        yield return Refused(Assemble("\"{}\"", Array.Empty<byte>()), "not a JSON object", "a header that is a string");
        yield return Refused(Assemble("", Array.Empty<byte>()), "not valid JSON", "an empty header");
        yield return Refused(Assemble("{} x", Array.Empty<byte>()), "not valid JSON", "content after the object");
        yield return Refused(Assemble("{}{}", Array.Empty<byte>()), "not valid JSON", "two objects");
        yield return Refused(Assemble("{/*c*/}", Array.Empty<byte>()), "not valid JSON", "a comment");
        yield return Refused(Assemble("{\"t\":" + Ok + ",}", new byte[8]), "not valid JSON", "a trailing comma");
        yield return Refused(Assemble("{\"t\":" + Ok, new byte[8]), "not valid JSON", "an unclosed object");
        yield return Refused(Assemble("{\"\\ud800\":" + Ok + "}", new byte[8]), "not valid text", "a lone surrogate escape in a key");
        yield return Refused(Assemble("{\"t\":" + Ok + ",\"t\":" + Ok + "}", new byte[8]), "\"t\" twice", "a tensor key twice");
        yield return Refused(Assemble("{\"__metadata__\":{},\"__metadata__\":{}}", Array.Empty<byte>()), "twice", "metadata twice");
        yield return Refused(Assemble("{\"__metadata__\":{\"a\":1}}", Array.Empty<byte>()), "is not a string", "a metadata value that is a number");
        yield return Refused(Assemble("{\"__metadata__\":[]}", Array.Empty<byte>()), "not an object of strings", "metadata that is an array");
        yield return Refused(Assemble("{\"t\":[]}", Array.Empty<byte>()), "is not an object", "a tensor entry that is an array");
        yield return Refused(WithEntry("{\"shape\":[2],\"data_offsets\":[0,8]}"), "has no \"dtype\"", "an entry without dtype");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}"), "has no \"shape\"", "an entry without shape");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2]}"), "has no \"data_offsets\"", "an entry without data_offsets");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"), "\"dtype\" twice", "a field twice");
        yield return Refused(WithEntry("{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}"), "is not a string", "a dtype that is a number");
        yield return Refused(WithEntry("{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}"), "unknown dtype \"F31\"", "an unknown dtype");
        yield return Refused(WithEntry("{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}"), "unknown dtype \"f32\"", "a lower-case dtype");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}"), "is not an array", "a shape that is a number");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}"), "integer from 0", "a negative dimension");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}"), "integer from 0", "a fractional dimension");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}"), "integer from 0", "a dimension with an exponent");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}"), "integer from 0", "a dimension that is a string");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}"), "integer from 0", "a dimension of 2^64");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-0,8]}"), "integer from 0", "an offset of -0");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}"), "are 3 numbers", "three offsets");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}"), "are 1 numbers", "one offset");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}", 12), "should begin at 0", "data that does not start at 0");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}", 8), "end before they begin", "begin after end");
        yield return Refused(Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", new byte[20]), "should begin at 8", "a gap between tensors");
        yield return Refused(Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "should begin at 8", "overlapping tensors");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}"), "needs 12 bytes", "a byte size that is not elements times dtype size");
        yield return Refused(WithEntry(Ok, 9), "trailing bytes", "bytes after the last tensor");
        yield return Refused(WithEntry(Ok, 4), "truncated", "data cut short");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,8]}"), "overflows 64 bits", "a shape whose product overflows");
        yield return Refused(WithEntry("{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}"), "overflows 64 bits", "a byte size that overflows");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}"), "needs 8 bytes", "an end offset of 2^64-1");
        yield return Refused(WithEntry("{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}", 1), "whole bytes", "sub-byte elements that do not fill bytes");
    }

    [TestCaseSource(nameof(Refusals))]
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

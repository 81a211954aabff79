using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NUnit.Framework;
using RnnGen.Generator.Parsing;
using RnnGen.Tests.Support;
using static RnnGen.Tests.Support.SafetensorsBuilder;

namespace RnnGen.Generator.Tests;

/// <summary>
/// The generator's own safetensors reader (netstandard2.0 has no System.Text.Json) against the runtime's: the same
/// refusals with the same reasons, the same accepted files with the same tensors, and the same verdict on mutated files.
/// </summary>
[Category("Weights")]
public class WeightsHeaderTests
{
    [TestCaseSource(typeof(SafetensorsCases), nameof(SafetensorsCases.Refusals))]
    public void GeneratorRefusesWhatTheRuntimeRefusesForTheSameReason(byte[] bytes, string reason)
    {
        Assert.That(SafetensorsHeader.TryParse(bytes, out _, out string? error), Is.False);
        Assert.That(error, Does.Contain(reason));
        var runtime = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(bytes, "f"))!;
        // The same words, up to the parenthesised detail of a JSON syntax error (System.Text.Json's own text in the runtime).
        string words = error!.Contains(" (", StringComparison.Ordinal) && error.EndsWith(')') ? error[..error.IndexOf(" (", StringComparison.Ordinal)] : error;
        Assert.That(runtime.Message, Does.StartWith("'f' is not a valid safetensors file: " + words), "the same words as the runtime");
    }

    [TestCaseSource(typeof(SafetensorsCases), nameof(SafetensorsCases.Accepted))]
    public void GeneratorAcceptsWhatTheRuntimeAcceptsWithTheSameTensors(byte[] bytes)
    {
        Assert.That(SafetensorsHeader.TryParse(bytes, out List<SafetensorsTensor> tensors, out string? error), Is.True, error);
        AssertSameTensors(bytes, tensors, SafetensorsFile.Parse(bytes));
    }

    [Test]
    public void MutatedFilesGetTheSameVerdictFromBothReaders()
    {
        int seed = Numerics.FreshSeed();
        TestContext.Out.WriteLine($"seed {seed}");
        var random = new Random(seed);
        string data = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData");
        var seeds = new List<byte[]>
        {
            File.ReadAllBytes(Path.Combine(data, "python_lstm_head.safetensors")),
            File.ReadAllBytes(Path.Combine(data, "python_mixed_dtypes.safetensors")),
            SafetensorsFile.Serialize([("", new Dynamic.Lstm(3, 4, numLayers: 2, bidirectional: true, projSize: 2, seed: 3).Parameters)], new Dictionary<string, string> { ["format"] = "pt" }),
            Build([Raw("m.a", "F16", [3, 4], 2, 0x3c), Raw("m.b", "BF16", [5], 2, 0x3f), Raw("m.c", "F64", [2, 2], 8, 0x40), F32("m.d", [7], i => i), Raw("x.count", "I64", [], 8, 1)], "{\"k\":\"v\"}"),
        };
        int accepted = 0, refused = 0;
        const int Cases = 30_000;
        for (int i = 0; i < Cases; i++)
        {
            byte[] bytes = SafetensorsMutator.Mutate(random, seeds[random.Next(seeds.Count)], seeds[random.Next(seeds.Count)]);
            SafetensorsFile? runtime = null;
            string? runtimeError = null;
            try
            {
                runtime = SafetensorsFile.Parse(bytes, "f");
            }
            catch (InvalidDataException e)
            {
                runtimeError = e.Message;
            }
            bool ok = SafetensorsHeader.TryParse(bytes, out List<SafetensorsTensor> tensors, out string? error);
            if (ok != (runtime is not null))
            {
                string path = Path.Combine(Path.GetTempPath(), $"rnngen-header-diff-{seed}-{i}.safetensors");
                File.WriteAllBytes(path, bytes);
                Assert.Fail($"seed {seed}, case {i} (saved to {path}): runtime {(runtime is null ? "refuses: " + runtimeError : "accepts")}, generator {(ok ? "accepts" : "refuses: " + error)}");
            }
            if (runtime is null)
            {
                refused++;
                continue;
            }
            accepted++;
            AssertSameTensors(bytes, tensors, runtime);
        }
        TestContext.Out.WriteLine($"{accepted} accepted, {refused} refused by both");
        Assert.That(accepted, Is.GreaterThan(Cases / 20), "the mutations leave enough valid files to compare tensors");
        Assert.That(refused, Is.GreaterThan(Cases / 4));
    }

    private static void AssertSameTensors(byte[] bytes, List<SafetensorsTensor> tensors, SafetensorsFile runtime)
    {
        Assert.That(tensors.Select(t => t.Key).OrderBy(k => k, StringComparer.Ordinal), Is.EqualTo(runtime.Keys));
        foreach (SafetensorsTensor t in tensors)
        {
            Assert.That(t.Dtype, Is.EqualTo(runtime.GetDtype(t.Key)), t.Key);
            Assert.That(t.Shape, Is.EqualTo(runtime.GetShape(t.Key).ToArray()), t.Key);
            Assert.That(t.Offset + t.Length, Is.LessThanOrEqualTo(bytes.Length));
            if (SafetensorsHeader.IsLoadable(t.Dtype) && t.Dtype == "F32")
            {
                float[] mine = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(t.Offset, t.Length)).ToArray();
                Assert.That(mine.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(runtime.GetFloats(t.Key).Select(BitConverter.SingleToInt32Bits)), t.Key);
            }
        }
    }
}

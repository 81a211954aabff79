using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using NUnit.Framework;
using RnnGen.Tests.Support;
using static RnnGen.Tests.Support.SafetensorsBuilder;

namespace RnnGen.Tests;

/// <summary>
/// Mutation fuzzing of the safetensors reader, in memory: valid files (Python's layout from TestData, RnnGen's own
/// output, hand-built mixed dtypes) mutated by bit flips, byte sets, truncations, splices of two files, insertions
/// and deletions, lying header lengths, and JSON-level edits (numbers in shapes and offsets replaced by huge,
/// negative, fractional or off-by-one values, dtypes swapped, fields removed or duplicated, offsets swapped, deep
/// nesting), the header length fixed up or not. Each case must either load or throw
/// <see cref="InvalidDataException"/>; after a refusal every parameter is bit for bit what it was (and its
/// Version unchanged). Runs in the normal test run; a fresh seed each run, printed, and failing bytes saved.
/// For long campaigns use the SharpFuzz harness in tests/RnnGen.Fuzz.
/// </summary>
[Category("Safetensors")]
[Category("Fuzz")]
public class SafetensorsFuzzTests
{
    private const int Cases = 150_000;

    private sealed class Target(ParameterSet parameters, string prefix)
    {
        public ParameterSet Parameters { get; } = parameters;
        public string Prefix { get; } = prefix;
        public float[] Snapshot { get; set; } = parameters.AsReadOnlySpan().ToArray();
    }

    private sealed record Seed(string Name, byte[] Bytes, Target[] Targets);

    private static List<Seed> Seeds()
    {
        string data = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData");
        var seeds = new List<Seed>();

        var lstm = new Dynamic.Lstm(2, 3, seed: 1);
        var head = new Dynamic.Linear(3, 1, seed: 2);
        seeds.Add(new Seed("python_lstm_head", File.ReadAllBytes(Path.Combine(data, "python_lstm_head.safetensors")),
            [new Target(lstm.Parameters, "lstm."), new Target(head.Parameters, "head.")]));

        var mixed = new ParameterSet([("f32.plain", [2, 3])]);
        seeds.Add(new Seed("python_mixed_dtypes", File.ReadAllBytes(Path.Combine(data, "python_mixed_dtypes.safetensors")),
            [new Target(mixed, "")]));

        var projected = new Dynamic.Lstm(3, 4, numLayers: 2, bidirectional: true, projSize: 2, seed: 3);
        seeds.Add(new Seed("rnngen_projected_lstm", SafetensorsFile.Serialize([("", projected.Parameters)], new Dictionary<string, string> { ["format"] = "pt" }),
            [new Target(new Dynamic.Lstm(3, 4, numLayers: 2, bidirectional: true, projSize: 2, seed: 4).Parameters, "")]));

        var gru = new Dynamic.Gru(2, 3, seed: 5);
        var gruHead = new Dynamic.Linear(3, 2, seed: 6);
        seeds.Add(new Seed("rnngen_gru_head", SafetensorsFile.Serialize([("gru.", gru.Parameters), ("head.", gruHead.Parameters)]),
            [new Target(new Dynamic.Gru(2, 3, seed: 7).Parameters, "gru."), new Target(new Dynamic.Linear(3, 2, seed: 8).Parameters, "head.")]));

        var converted = new ParameterSet([("a", [3, 4]), ("b", [5]), ("c", [2, 2]), ("d", [7])]);
        var tensors = new List<Tensor>
        {
            Raw("m.a", "F16", [3, 4], 2, 0x3c), Raw("m.b", "BF16", [5], 2, 0x3f), Raw("m.c", "F64", [2, 2], 8, 0x40),
            F32("m.d", [7], i => i), Raw("x.count", "I64", [], 8, 1), Raw("x.empty", "F32", [0], 4),
        };
        seeds.Add(new Seed("builder_converted", Build(tensors, "{\"k\":\"v\"}"), [new Target(converted, "m.")]));
        return seeds;
    }

    [Test]
    public void MutatedFilesLoadOrThrowInvalidDataAndLeaveParametersUntouched()
    {
        int seed = Numerics.FreshSeed();
        var random = new Random(seed);
        List<Seed> seeds = Seeds();
        foreach (Seed s in seeds)
            Assert.DoesNotThrow(() => SafetensorsFile.Parse(s.Bytes), $"seed file {s.Name} must be valid");

        int refused = 0, parsed = 0, loaded = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Cases; i++)
        {
            Seed s = seeds[random.Next(seeds.Count)];
            byte[] bytes = SafetensorsMutator.Mutate(random, s.Bytes, seeds[random.Next(seeds.Count)].Bytes);
            try
            {
                SafetensorsFile file;
                try
                {
                    file = SafetensorsFile.Parse(bytes, "fuzz");
                }
                catch (InvalidDataException)
                {
                    refused++;
                    continue;
                }
                parsed++;
                Touch(file);
                foreach (Target target in s.Targets)
                {
                    long version = target.Parameters.Version;
                    try
                    {
                        file.LoadInto(target.Parameters, target.Prefix);
                        loaded++;
                        target.Snapshot = target.Parameters.AsReadOnlySpan().ToArray();
                    }
                    catch (InvalidDataException)
                    {
                        if (!Fuzzing.BitwiseEqual(target.Parameters.AsReadOnlySpan(), target.Snapshot) || target.Parameters.Version != version)
                            Fail(seed, i, bytes, $"a refused load changed the parameters of {s.Name} (prefix \"{target.Prefix}\")");
                    }
                }
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Fail(seed, i, bytes, $"{e.GetType().Name} from a mutation of {s.Name}: {e}");
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Report.Line($"safetensors fuzz seed {seed}: {Cases} cases in {seconds:F1} s ({Cases / seconds:F0} cases/s): {refused} refused, {parsed} parsed, {loaded} loads succeeded");
        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.GreaterThan(Cases / 10), "mutations reach the refusals");
            Assert.That(parsed, Is.GreaterThan(Cases / 100), "some mutations stay valid files");
            Assert.That(loaded, Is.GreaterThan(0), "some of them load");
        });
    }

    /// <summary>Every accessor on every key, as a user inspecting a file would.</summary>
    private static void Touch(SafetensorsFile file)
    {
        _ = file.Metadata.Count;
        foreach (string key in file.Keys)
        {
            _ = file.GetShape(key).Length;
            string dtype = file.GetDtype(key);
            if (dtype is "F32" or "F16" or "BF16" or "F64")
                _ = file.GetFloats(key);
        }
        _ = file.UnusedKeys.Count;
    }

    private static void Fail(int seed, int index, byte[] bytes, string what) =>
        Fuzzing.Fail($"safetensors-fuzz-{seed}-{index}.bin", seed, index, bytes, what);

    [Test]
    public void HugeDeclaredSizesAllocateNothingBeyondTheFile()
    {
        var lies = new[]
        {
            Assemble("{}", Array.Empty<byte>(), 100_000_000),
            Assemble("{\"t\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,4398046511104]}}", new byte[16]),
            Assemble("{\"t\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", new byte[8]),
            Assemble("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8], 2_000_000),
        };
        var linear = new Dynamic.Linear(1, 1, seed: 1);
        foreach (byte[] bytes in lies)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse(bytes).LoadInto(linear.Parameters));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(allocated, Is.LessThan(64 * 1024 + bytes.Length), "bytes allocated for a refused file");
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Mutation fuzzing of the <c>.nam</c> reader, in memory, like <see cref="SafetensorsFuzzTests"/>: NAM's example file
/// and files written by <see cref="NamTests.NamJson"/> (two layers, two inputs), mutated by bit flips, byte sets,
/// truncations, insertions, deletions, splices, and JSON edits (numbers replaced by wrong, huge, negative, fractional
/// values, strings, NaN/Infinity literals; strings and keys replaced; fields removed or duplicated; weights removed,
/// added, or appended by the hundred thousand; deep nesting). Each case must parse or throw
/// <see cref="InvalidDataException"/>; a parsed file then loads into each target module or throws
/// InvalidDataException with the module bit for bit untouched (and its Version unchanged), and a model built from
/// it plays a block. A fresh seed each run, printed; failing inputs saved.
/// </summary>
[Category("Nam")]
[Category("Fuzz")]
public class NamFuzzTests
{
    private const int Cases = 120_000;

    private sealed class Target(ILstmModule lstm, Dynamic.Linear head)
    {
        public ILstmModule Lstm { get; } = lstm;
        public Dynamic.Linear Head { get; } = head;
        public float[] LstmSnapshot { get; set; } = lstm.Parameters.AsReadOnlySpan().ToArray();
        public float[] HeadSnapshot { get; set; } = head.Parameters.AsReadOnlySpan().ToArray();
    }

    private sealed record Seed(string Name, string Text, Target[] Targets);

    private static List<Seed> Seeds()
    {
        var random = new Random(1);
        return new List<Seed>
        {
            new("example", File.ReadAllText(NamTests.ExamplePath),
                [new Target(new NamExampleLstm(1), new Dynamic.Linear(3, 1, seed: 1)), new Target(new Dynamic.Lstm(1, 3, seed: 2), new Dynamic.Linear(3, 1, seed: 3))]),
            new("two_layers", Encoding.UTF8.GetString(NamTests.NamJson(random, 2, 5, 2)),
                [new Target(new NamTwoLayerLstm(1), new Dynamic.Linear(5, 1, seed: 4)), new Target(new Dynamic.Lstm(2, 5, numLayers: 2, seed: 5), new Dynamic.Linear(5, 1, seed: 6))]),
            new("small_unknown_fields", Encoding.UTF8.GetString(NamTests.NamJson(random, 1, 1, 1, "0.7.0", " \"future\": {\"a\": [1, {\"b\": null}]},")),
                [new Target(new Dynamic.Lstm(1, 1, seed: 7), new Dynamic.Linear(1, 1, seed: 8))]),
        };
    }

    [Test]
    public void MutatedFilesParseOrThrowInvalidDataAndLeaveModulesUntouched()
    {
        int seed = Numerics.FreshSeed();
        var random = new Random(seed);
        List<Seed> seeds = Seeds();
        foreach (Seed s in seeds)
            Assert.DoesNotThrow(() => NamFile.Parse(Encoding.UTF8.GetBytes(s.Text)), $"seed file {s.Name} must be valid");

        int refused = 0, parsed = 0, loaded = 0, played = 0;
        var output = new float[16];
        var reasons = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Cases; i++)
        {
            Seed s = seeds[random.Next(seeds.Count)];
            byte[] bytes = Mutator.Mutate(random, s.Text, seeds[random.Next(seeds.Count)].Text);
            try
            {
                NamFile file;
                try
                {
                    file = NamFile.Parse(bytes, "fuzz");
                }
                catch (InvalidDataException e)
                {
                    refused++;
                    string reason = Reason(e.Message);
                    reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                    continue;
                }
                parsed++;
                _ = (file.Metadata.Count, file.SampleRate, file.Version, file.Declaration, file.InitialH.Length, file.InitialC.Length);
                foreach (Target target in s.Targets)
                {
                    long lstmVersion = target.Lstm.Parameters.Version, headVersion = target.Head.Parameters.Version;
                    try
                    {
                        file.LoadInto(target.Lstm, target.Head);
                        loaded++;
                        target.LstmSnapshot = target.Lstm.Parameters.AsReadOnlySpan().ToArray();
                        target.HeadSnapshot = target.Head.Parameters.AsReadOnlySpan().ToArray();
                    }
                    catch (InvalidDataException)
                    {
                        if (!Fuzzing.BitwiseEqual(target.Lstm.Parameters.AsReadOnlySpan(), target.LstmSnapshot) || target.Lstm.Parameters.Version != lstmVersion
                            || !Fuzzing.BitwiseEqual(target.Head.Parameters.AsReadOnlySpan(), target.HeadSnapshot) || target.Head.Parameters.Version != headVersion)
                            Fail(seed, i, bytes, $"a refused load changed the modules of {s.Name} ({target.Lstm.GetType().Name})");
                    }
                }
                if ((long)file.HiddenSize * file.HiddenSize * file.NumLayers <= 4096)
                {
                    var amp = new NamModel(file);
                    amp.Process(new float[output.Length * file.InputSize], output);
                    played++;
                }
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Fail(seed, i, bytes, $"{e.GetType().Name} from a mutation of {s.Name}: {e}");
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Report.Line($"nam fuzz seed {seed}: {Cases} cases in {seconds:F1} s ({Cases / seconds:F0} cases/s): {refused} refused, {parsed} parsed, {loaded} loads succeeded, {played} played");
        Report.Line("  refusals by reason: " + string.Join("; ", reasons.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.GreaterThan(Cases / 10), "mutations reach the refusals");
            Assert.That(reasons.Keys, Has.Count.GreaterThanOrEqualTo(12), "mutations reach the checks beyond JSON syntax");
            Assert.That(parsed, Is.GreaterThan(Cases / 100), "some mutations stay valid files");
            Assert.That(loaded, Is.GreaterThan(0), "some of them load");
        });
    }

    [Test]
    public void HugeDeclaredSizesAllocateNothingBeyondTheFile()
    {
        string example = File.ReadAllText(NamTests.ExamplePath);
        var lies = new[]
        {
            example.Replace("\"hidden_size\": 3", "\"hidden_size\": 2147483647"),
            example.Replace("\"num_layers\": 1", "\"num_layers\": 2147483647"),
            example.Replace("\"input_size\": 1", "\"input_size\": 1000000"),
        };
        foreach (string lie in lies)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(lie);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<InvalidDataException>(() => NamFile.Parse(bytes));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(allocated, Is.LessThan(64 * 1024 + 8 * bytes.Length), "bytes allocated for a refused file");
        }
    }

    /// <summary>The reason's kind: the message after "can read: " without numbers, quoted names or the JSON reader's details.</summary>
    private static string Reason(string message)
    {
        string reason = message[(message.IndexOf("can read: ", StringComparison.Ordinal) + 10)..];
        int detail = reason.IndexOf(" (", StringComparison.Ordinal);
        reason = detail < 0 ? reason : reason[..detail];
        reason = Regex.Replace(reason, "\"[^\"]*\"", "\"…\"");
        return Regex.Replace(reason, @"-?\d[\d.eE+-]*", "#").TrimEnd('.');
    }

    private static void Fail(int seed, int index, byte[] bytes, string what) =>
        Fuzzing.Fail($"nam-fuzz-{seed}-{index}.nam", seed, index, bytes, what);

    /// <summary>The mutations; each returns new bytes.</summary>
    private static class Mutator
    {
        private static readonly string[] s_numbers =
        {
            "0", "1", "2", "3", "4", "5", "-1", "-0", "0.0", "1.0", "3.5", "1e3", "1E-46", "1e38", "3.4028235e38", "3.4028236e38", "1e39", "1e308", "1e400", "-1e400",
            "2147483647", "2147483648", "4294967296", "99999999999999999999999", "00", "01", "+1", ".5", "5.", "NaN", "-NaN", "Infinity", "-Infinity", "inf",
            "null", "true", "\"3\"", "\"\"", "[]", "{}", "[3]",
        };

        private static readonly string[] s_strings =
        {
            "\"LSTM\"", "\"WaveNet\"", "\"lstm\"", "\"ConvNet\"", "\"\"", "\"0.5.0\"", "\"0.5.4\"", "\"0.7.99\"", "\"0.4.9\"", "\"0.8.0\"", "\"1.0.0\"", "\"0.5\"",
            "\"0.5.4.1\"", "\"00.5.4\"", "\"0.5.x\"", "\"-0.5.4\"", "\"version\"", "\"architecture\"", "\"config\"", "\"weights\"", "\"metadata\"",
            "\"sample_rate\"", "\"input_size\"", "\"hidden_size\"", "\"num_layers\"", "\"\\ud800\"", "\"\\u0000\"", "\"\u00e9\"", "3", "null", "{}", "[]",
        };

        private static readonly string[] s_tokens =
        {
            "{", "}", "[", "]", ",", ":", "\"", "null", "true", "0", "-", "\\", "NaN", "Infinity", "/*", "//", "\uFEFF", "\"version\": \"0.5.4\",",
            "\"weights\": [],", "\"config\": {},", "\"architecture\": \"LSTM\",", "\"sample_rate\": 0,", " ",
        };

        private static readonly Regex s_number = new(@"-?\d+(\.\d+)?([eE][+-]?\d+)?", RegexOptions.Compiled);
        private static readonly Regex s_string = new(@"""[^""\\]*""", RegexOptions.Compiled);
        private static readonly Regex s_simpleField = new(@"""\w+"":\s*(""[^""]*""|-?[\d.eE+-]+|null|true|false)\s*,?\s*", RegexOptions.Compiled);
        private static readonly Regex s_object = new(@"""(config|metadata)"":\s*\{[^{}]*\}\s*,?\s*", RegexOptions.Compiled);
        private static readonly Regex s_weightItem = new(@"(?<=[\[,]\s*)-?\d[\d.eE+-]*\s*,\s*", RegexOptions.Compiled);

        public static byte[] Mutate(Random random, string seed, string other)
        {
            string text = seed;
            int count = 1 + random.Next(3);
            bool bytes = false;
            for (int m = 0; m < count && !bytes; m++)
            {
                if (random.Next(3) == 0)
                    bytes = true;
                else
                    text = MutateText(random, text, other);
            }
            byte[] b = Encoding.UTF8.GetBytes(text);
            return bytes ? MutateBytes(random, b, Encoding.UTF8.GetBytes(other)) : b;
        }

        private static string MutateText(Random random, string text, string other) => random.Next(12) switch
        {
            0 or 1 => Fuzzing.ReplaceOne(random, text, s_number, _ => s_numbers[random.Next(s_numbers.Length)]),
            2 => Fuzzing.ReplaceOne(random, text, s_string, _ => s_strings[random.Next(s_strings.Length)]),
            3 => Fuzzing.ReplaceOne(random, text, s_simpleField, _ => ""),
            4 => Fuzzing.ReplaceOne(random, text, s_simpleField, m => m.Value.TrimEnd().EndsWith(',') ? m.Value + m.Value : m.Value),
            5 => Fuzzing.ReplaceOne(random, text, s_object, _ => ""),
            6 => RemoveWeights(random, text),
            7 => AddWeights(random, text),
            8 => Fuzzing.Insert(random, text, s_tokens[random.Next(s_tokens.Length)]),
            9 => Fuzzing.Insert(random, text, "\"deep\": " + new string('[', 40 + random.Next(60)) + new string(']', 40 + random.Next(60)) + ", ", afterBrace: true),
            10 => text[..random.Next(text.Length + 1)] + other[random.Next(other.Length + 1)..],
            _ => Delete(random, text),
        };

        private static string Delete(Random random, string text)
        {
            if (text.Length == 0)
                return text;
            int at = random.Next(text.Length);
            return text.Remove(at, Math.Min(text.Length - at, 1 + random.Next(8)));
        }

        private static string RemoveWeights(Random random, string text)
        {
            for (int n = 1 + (random.Next(4) == 0 ? random.Next(30) : 0); n > 0; n--)
                text = Fuzzing.ReplaceOne(random, text, s_weightItem, _ => "");
            return text;
        }

        /// <summary>Extra weights after the array's first: one or a few, or (rarely) a hundred thousand.</summary>
        private static string AddWeights(Random random, string text)
        {
            int at = text.IndexOf("\"weights\"", StringComparison.Ordinal);
            int open = at < 0 ? -1 : text.IndexOf('[', at);
            if (open < 0)
                return text;
            int n = random.Next(200) == 0 ? 100_000 : 1 + random.Next(random.Next(2) == 0 ? 3 : 40);
            var extra = new StringBuilder();
            for (int i = 0; i < n; i++)
                extra.Append(random.Next(4) == 0 ? "0" : "0.125").Append(", ");
            return text[..(open + 1)] + extra + text[(open + 1)..];
        }

        private static byte[] MutateBytes(Random random, byte[] b, byte[] other)
        {
            b = (byte[])b.Clone();
            switch (random.Next(6))
            {
                case 0 when b.Length > 0:
                    b[random.Next(b.Length)] ^= (byte)(1 << random.Next(8));
                    return b;
                case 1 when b.Length > 0:
                    b[random.Next(b.Length)] = (byte)random.Next(256);
                    return b;
                case 2:
                    return b[..random.Next(b.Length + 1)];
                case 3:
                    return b[..random.Next(b.Length + 1)].Concat(other[random.Next(other.Length + 1)..]).ToArray();
                case 4:
                {
                    int at = random.Next(b.Length + 1);
                    var insert = new byte[1 + random.Next(8)];
                    random.NextBytes(insert);
                    return b[..at].Concat(insert).Concat(b[at..]).ToArray();
                }
                default:
                {
                    if (b.Length == 0)
                        return b;
                    int at = random.Next(b.Length);
                    return b[..at].Concat(b[Math.Min(b.Length, at + 1 + random.Next(16))..]).ToArray();
                }
            }
        }

    }
}

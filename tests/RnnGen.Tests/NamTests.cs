using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RnnGen.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Tests;

// Two layers with two features per sample (a NAM "parametric" input): input width 2 in layer 0, 5 above.
[Lstm(2, 5, NumLayers = 2)]
public partial class NamTwoLayerLstm;

/// <summary>
/// Neural Amp Modeler <c>.nam</c> LSTM files: NeuralAmpModelerCore's example model (TestData/nam/lstm.nam, MIT) and
/// files this test writes, streamed with <see cref="NamModel"/> on a generated module and on <see cref="Dynamic.Lstm"/>
/// against PyTorch (nn.LSTM with the file's weights and initial state, then nn.Linear, over the whole signal); the
/// layout is read here independently of the library (System.Text.Json's JsonDocument, NAM's documented order).
/// Also: metadata, versions, refusals and all-or-nothing loading.
/// </summary>
[Category("Numeric")]
[Category("Nam")]
public class NamTests
{
    private readonly int _seed = Numerics.FreshSeed();

    internal static string ExamplePath => Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "nam", "lstm.nam");

    /// <summary>The file as NAM defines it, read with JsonDocument: sizes, the flat weights (double, then float, as NeuralAmpModelerCore converts them).</summary>
    private sealed record Reference(int InputSize, int HiddenSize, int NumLayers, float[] Weights);

    private static Reference ReadReference(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        JsonElement config = doc.RootElement.GetProperty("config");
        float[] weights = doc.RootElement.GetProperty("weights").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        return new Reference(config.GetProperty("input_size").GetInt32(), config.GetProperty("hidden_size").GetInt32(), config.GetProperty("num_layers").GetInt32(), weights);
    }

    /// <summary>PyTorch: nn.LSTM(I, H, L) from the file's matrices and summed biases, h0/c0 from the file, over the whole signal; then nn.Linear(H, 1).</summary>
    private static float[] TorchNam(Reference r, float[] signal)
    {
        torch.set_num_threads(1);
        using var scope = torch.NewDisposeScope();
        int I = r.InputSize, H = r.HiddenSize, L = r.NumLayers, steps = signal.Length / I;
        using var lstm = nn.LSTM(I, H, L);
        using var head = nn.Linear(H, 1);
        var p = lstm.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var h0 = new float[L * H];
        var c0 = new float[L * H];
        int at = 0;
        float[] Take(int n) { float[] v = r.Weights[at..(at + n)]; at += n; return v; }
        using (torch.no_grad())
        {
            for (int l = 0; l < L; l++)
            {
                int inWidth = l == 0 ? I : H;
                var wih = new float[4 * H * inWidth];
                var whh = new float[4 * H * H];
                for (int row = 0; row < 4 * H; row++)
                {
                    Take(inWidth).CopyTo(wih, row * inWidth);
                    Take(H).CopyTo(whh, row * H);
                }
                p[$"weight_ih_l{l}"].copy_(torch.tensor(wih, new long[] { 4 * H, inWidth }));
                p[$"weight_hh_l{l}"].copy_(torch.tensor(whh, new long[] { 4 * H, H }));
                p[$"bias_ih_l{l}"].copy_(torch.tensor(Take(4 * H)));
                p[$"bias_hh_l{l}"].zero_();
                Take(H).CopyTo(h0, l * H);
                Take(H).CopyTo(c0, l * H);
            }
            head.weight!.copy_(torch.tensor(Take(H), new long[] { 1, H }));
            head.bias!.copy_(torch.tensor(Take(1)));
            Assert.That(at, Is.EqualTo(r.Weights.Length), "the reference layout uses every weight");
            var (output, _, _) = lstm.forward(torch.tensor(signal, new long[] { steps, 1, I }),
                (torch.tensor(h0, new long[] { L, 1, H }), torch.tensor(c0, new long[] { L, 1, H })));
            return head.forward(output).detach().contiguous().data<float>().ToArray();
        }
    }

    /// <summary>A plucked-string-like test signal: decaying partials of a few notes and a little noise, in [-1, 1].</summary>
    internal static float[] GuitarLike(Random random, int samples, int channels = 1)
    {
        var x = new float[samples * channels];
        double[] notes = { 82.41, 110.0, 146.83, 196.0 };
        for (int n = 0; n < samples; n++)
        {
            double t = n / 48000.0, segment = samples / (double)notes.Length;
            int note = Math.Min(notes.Length - 1, (int)(n / segment));
            double local = (n - note * segment) / 48000.0, v = 0;
            for (int k = 1; k <= 5; k++)
                v += Math.Exp(-local * 6 * k) * Math.Sin(2 * Math.PI * notes[note] * k * t) / k;
            for (int c = 0; c < channels; c++)
                x[n * channels + c] = (float)(0.5 * v + 0.02 * (random.NextDouble() - 0.5) + 0.1 * c);
        }
        return x;
    }

    private static float[] Stream(NamModel amp, float[] signal, int inputSize, IEnumerable<int> blocks)
    {
        var output = new float[signal.Length / inputSize];
        int t = 0;
        foreach (int n in blocks)
        {
            int m = Math.Min(n, output.Length - t);
            if (m == 0)
                break;
            amp.Process(signal.AsSpan(t * inputSize, m * inputSize), output.AsSpan(t, m));
            t += m;
        }
        Assert.That(t, Is.EqualTo(output.Length));
        return output;
    }

    private static IEnumerable<int> Blocks(int size) { while (true) yield return size; }

    private static IEnumerable<int> Mixed(Random random) { while (true) yield return 1 + random.Next(100); }

    public static IEnumerable<TestCaseData> ExampleModules()
    {
        yield return new TestCaseData((Func<ILstmModule?>)(() => new NamExampleLstm(1))).SetName("Example_GeneratedLstm_1_3");
        yield return new TestCaseData((Func<ILstmModule?>)(() => null)).SetName("Example_DynamicLstm_FromConfig");
    }

    [TestCaseSource(nameof(ExampleModules))]
    public void ExampleModelStreamedMatchesPyTorch(Func<ILstmModule?> module)
    {
        var random = new Random(_seed);
        Reference reference = ReadReference(File.ReadAllBytes(ExamplePath));
        float[] signal = GuitarLike(random, 4800);
        float[] expected = TorchNam(reference, signal);

        NamModel amp = NamModel.Load(ExamplePath, module());
        float[] inBlocks = Stream(amp, signal, 1, Blocks(64));
        Numerics.AssertClose(inBlocks, expected, $"seed {_seed}: 64-sample blocks against PyTorch");
        Report.Line($"NAM example on {amp.Lstm.GetType().Name} ({amp.Lstm.LastKernelPath}): max scaled error against PyTorch over 4800 samples {Numerics.MaxScaledError(inBlocks, expected):E2}");

        amp.Reset();
        float[] mixed = Stream(amp, signal, 1, Mixed(random));
        Numerics.AssertClose(mixed, expected, $"seed {_seed}: mixed blocks after Reset() against PyTorch");

        // In place, as an audio callback often processes its buffer.
        amp.Reset();
        float[] buffer = (float[])signal.Clone();
        for (int t = 0; t < buffer.Length; t += 64)
            amp.Process(buffer.AsSpan(t, 64), buffer.AsSpan(t, 64));
        Numerics.AssertClose(buffer, expected, $"seed {_seed}: in place against PyTorch");
    }

    [Test]
    public void TwoLayerFileWithTwoInputsMatchesPyTorchOnGeneratedAndDynamicModules()
    {
        var random = new Random(_seed);
        byte[] json = NamJson(random, inputSize: 2, hiddenSize: 5, numLayers: 2);
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"two-layer-{_seed}.nam");
        File.WriteAllBytes(path, json);
        Reference reference = ReadReference(json);
        float[] signal = GuitarLike(random, 1000, channels: 2);
        float[] expected = TorchNam(reference, signal);
        foreach (ILstmModule? module in new ILstmModule?[] { new NamTwoLayerLstm(1), null })
        {
            NamModel amp = NamModel.Load(path, module);
            Numerics.AssertClose(Stream(amp, signal, 2, Mixed(random)), expected, $"seed {_seed}: {amp.Lstm.GetType().Name}");
            Assert.That(amp.Lstm.GetType(), Is.EqualTo(module is null ? typeof(Dynamic.Lstm) : typeof(NamTwoLayerLstm)));
        }
    }

    /// <summary>A NAM LSTM file written here: random weights and initial state, NAM's layout, numbers in round-trip form.</summary>
    internal static byte[] NamJson(Random random, int inputSize, int hiddenSize, int numLayers, string version = "0.5.4", string extra = "")
    {
        var weights = new List<float>();
        for (int l = 0; l < numLayers; l++)
        {
            int inWidth = l == 0 ? inputSize : hiddenSize;
            weights.AddRange(Numerics.Uniform(random, 4 * hiddenSize * (inWidth + hiddenSize), 0.6f));
            weights.AddRange(Numerics.Uniform(random, 4 * hiddenSize, 0.6f));
            weights.AddRange(Numerics.Uniform(random, 2 * hiddenSize, 0.5f));
        }
        weights.AddRange(Numerics.Uniform(random, hiddenSize + 1, 0.8f));
        string numbers = string.Join(", ", weights.Select(w => w.ToString("R", CultureInfo.InvariantCulture)));
        return Encoding.UTF8.GetBytes(
            $"{{\"version\": \"{version}\", \"metadata\": {{\"name\": \"written by NamTests\", \"loudness\": -20.5, \"validation_esr\": null}},{extra} " +
            $"\"architecture\": \"LSTM\", \"config\": {{\"input_size\": {inputSize}, \"hidden_size\": {hiddenSize}, \"num_layers\": {numLayers}}}, " +
            $"\"weights\": [{numbers}], \"sample_rate\": 44100.0}}");
    }

    [Test]
    public void ExampleFileIsReadWithItsMetadataAndInitialState()
    {
        byte[] bytes = File.ReadAllBytes(ExamplePath);
        Reference r = ReadReference(bytes);
        NamFile file = NamFile.Read(ExamplePath);
        Assert.Multiple(() =>
        {
            Assert.That((file.InputSize, file.HiddenSize, file.NumLayers), Is.EqualTo((1, 3, 1)));
            Assert.That(r.Weights, Has.Length.EqualTo(48 + 12 + 3 + 3 + 3 + 1), "the example's size as NAM's layout counts it");
            Assert.That(file.Version, Is.EqualTo("0.5.4"));
            Assert.That(file.SampleRate, Is.EqualTo(48000));
            Assert.That(file.Source, Is.EqualTo(ExamplePath));
            Assert.That(file.Declaration, Is.EqualTo("[Lstm(1, 3)]"));
            Assert.That(file.Metadata["name"], Is.EqualTo("Test LSTM"));
            Assert.That(file.Metadata["gear_make"], Is.EqualTo("Darkglass Electronics"));
            Assert.That(file.Metadata["loudness"], Is.EqualTo("-37.8406867980957"));
            Assert.That(file.Metadata.ContainsKey("date"), Is.False, "nested objects are left out");
            Assert.That(file.Metadata.ContainsKey("validation_esr"), Is.False, "nulls are left out");
            Assert.That(file.InitialH.ToArray(), Is.EqualTo(r.Weights[60..63]), "h after the 48 matrix and 12 bias values");
            Assert.That(file.InitialC.ToArray(), Is.EqualTo(r.Weights[63..66]));
        });

        var lstm = new NamExampleLstm(1);
        var head = new Dynamic.Linear(3, 1, seed: 1);
        file.LoadInto(lstm, head);
        Assert.Multiple(() =>
        {
            // Row r of the file's 12 x 4 matrix is [weight_ih[r, 0], weight_hh[r, 0..3]].
            Assert.That(lstm.Parameters.GetReadOnly("weight_ih_l0").ToArray(), Is.EqualTo(Enumerable.Range(0, 12).Select(row => r.Weights[row * 4]).ToArray()));
            Assert.That(lstm.Parameters.GetReadOnly("weight_hh_l0").ToArray(), Is.EqualTo(Enumerable.Range(0, 12).SelectMany(row => r.Weights[(row * 4 + 1)..(row * 4 + 4)]).ToArray()));
            Assert.That(lstm.Parameters.GetReadOnly("bias_ih_l0").ToArray(), Is.EqualTo(r.Weights[48..60]));
            Assert.That(lstm.Parameters.GetReadOnly("bias_hh_l0").ToArray(), Is.All.EqualTo(0f));
            Assert.That(head.Parameters.GetReadOnly("weight").ToArray(), Is.EqualTo(r.Weights[66..69]));
            Assert.That(head.Parameters.GetReadOnly("bias").ToArray(), Is.EqualTo(r.Weights[69..70]));
        });

        NamModel amp = NamModel.Load(ExamplePath, new NamExampleLstm(2));
        Assert.That(amp.SampleRate, Is.EqualTo(48000));
        Assert.That(amp.Metadata["modeled_by"], Is.EqualTo("Steve"));
        Assert.That(amp.Stream.H.ToArray(), Is.EqualTo(r.Weights[60..63]), "a loaded model starts from the file's state");
        Assert.That(amp.Stream.C.ToArray(), Is.EqualTo(r.Weights[63..66]));
        amp.Process(new float[] { 0.5f, -0.25f }, new float[2]);
        Assert.That(amp.Stream.H.ToArray(), Is.Not.EqualTo(r.Weights[60..63]));
        amp.Reset();
        Assert.That(amp.Stream.H.ToArray(), Is.EqualTo(r.Weights[60..63]), "Reset() returns to the file's state");
        Assert.That(amp.Stream.C.ToArray(), Is.EqualTo(r.Weights[63..66]));
    }

    [Test]
    public void AMissingFileIsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => NamFile.Read(Path.Combine(TestContext.CurrentContext.WorkDirectory, "no-such.nam")));
        Assert.Throws<FileNotFoundException>(() => NamModel.Load(Path.Combine(TestContext.CurrentContext.WorkDirectory, "no-such.nam")));
    }

    [TestCase("0.5.0", true)]
    [TestCase("0.5.4", true)]
    [TestCase("0.6.1", true)]
    [TestCase("0.7.0", true)]
    [TestCase("0.7.12", true)]
    [TestCase("0.4.9", false)]
    [TestCase("0.8.0", false)]
    [TestCase("1.0.0", false)]
    [TestCase("0.5", false)]
    [TestCase("0.5.4.1", false)]
    [TestCase("0.5.x", false)]
    [TestCase("", false)]
    public void VersionsFrom050To07xAreRead(string version, bool supported)
    {
        byte[] json = NamJson(new Random(_seed), 1, 3, 1, version);
        if (supported)
        {
            Assert.That(NamFile.Parse(json).Version, Is.EqualTo(version));
            return;
        }
        var ex = Assert.Throws<InvalidDataException>(() => NamFile.Parse(json, "v.nam"))!;
        Assert.That(ex.Message, Does.Contain("'v.nam'").And.Contain("version"));
    }

    private static string Example => File.ReadAllText(ExamplePath);

    public static IEnumerable<TestCaseData> Refusals()
    {
        TestCaseData Case(string name, Func<string, string> edit, string reason) => new TestCaseData(edit, reason).SetName(name);
        yield return Case("WaveNet", j => j.Replace("\"LSTM\"", "\"WaveNet\""), "architecture is \"WaveNet\"");
        yield return Case("NoArchitecture", j => j.Replace("\"architecture\": \"LSTM\", ", ""), "no \"architecture\"");
        yield return Case("NoVersion", j => j.Replace("\"version\": \"0.5.4\", ", ""), "no \"version\"");
        yield return Case("NoWeights", j => j[..j.IndexOf(", \"weights\"", StringComparison.Ordinal)] + ", \"sample_rate\": 48000}", "no \"weights\"");
        yield return Case("NoConfig", j => j.Replace("\"config\": {\"input_size\": 1, \"hidden_size\": 3, \"num_layers\": 1}, ", ""), "no \"config\"");
        yield return Case("NoHiddenSize", j => j.Replace("\"hidden_size\": 3, ", ""), "no \"hidden_size\"");
        yield return Case("HiddenSizeAsString", j => j.Replace("\"hidden_size\": 3", "\"hidden_size\": \"3\""), "\"hidden_size\" is not an integer");
        yield return Case("HiddenSizeFractional", j => j.Replace("\"hidden_size\": 3", "\"hidden_size\": 3.5"), "\"hidden_size\" is not an integer");
        yield return Case("ZeroLayers", j => j.Replace("\"num_layers\": 1", "\"num_layers\": 0"), "\"num_layers\" is not an integer");
        // hidden_size 4: 4·4·(1 + 4) + 4·4 + 2·4 weights for the layer, 4 + 1 for the head.
        yield return Case("OtherHiddenSize", j => j.Replace("\"hidden_size\": 3", "\"hidden_size\": 4"), "needs 109 weights, but \"weights\" holds 70");
        yield return Case("OneWeightMissing", j => j.Replace("[-0.21677088737487793, ", "["), "holds 69");
        yield return Case("OneWeightTooMany", j => j.Replace("[-0.21677088737487793, ", "[-0.21677088737487793, 1.0, "), "holds 71");
        yield return Case("WeightAsString", j => j.Replace("[-0.21677088737487793, ", "[\"-0.21677088737487793\", "), "weight 0 is not a number");
        yield return Case("WeightNull", j => j.Replace("[-0.21677088737487793, ", "[null, "), "weight 0 is not a number");
        yield return Case("WeightNaNLiteral", j => j.Replace("[-0.21677088737487793, ", "[NaN, "), "not valid JSON");
        yield return Case("WeightInfinityLiteral", j => j.Replace("[-0.21677088737487793, ", "[-Infinity, "), "not valid JSON");
        yield return Case("WeightBeyondFloat", j => j.Replace("[-0.21677088737487793, ", "[1e39, "), "outside float32's range");
        yield return Case("WeightBeyondDouble", j => j.Replace("[-0.21677088737487793, ", "[1e400, "), "outside float32's range");
        yield return Case("WeightsNotArray", j => j.Replace("\"weights\": [", "\"weights\": {\"a\": [") .Replace("], \"sample_rate\"", "]}, \"sample_rate\""), "\"weights\" is not an array");
        yield return Case("DuplicateKey", j => j.Replace("{\"version\": \"0.5.4\", ", "{\"version\": \"0.5.4\", \"version\": \"0.5.4\", "), "\"version\" twice");
        yield return Case("NegativeSampleRate", j => j.Replace("\"sample_rate\": 48000", "\"sample_rate\": -1"), "\"sample_rate\" is not a positive number");
        yield return Case("Truncated", j => j[..(j.Length / 2)], "not valid JSON");
        yield return Case("TrailingContent", j => j + " {}", "not valid JSON");
        yield return Case("NotAnObject", _ => "[1, 2, 3]", "not a JSON object");
        yield return Case("DeepNesting", j => j.Replace("\"metadata\": {", "\"metadata\": {\"deep\": " + new string('[', 100) + new string(']', 100) + ", "), "not valid JSON");
        yield return Case("HugeSizes", j => j.Replace("\"hidden_size\": 3", "\"hidden_size\": 2147483647"), "needs more than 2^31 weights");
    }

    [TestCaseSource(nameof(Refusals))]
    public void MalformedFilesAreRefusedNamingTheFileAndTheReason(Func<string, string> edit, string reason)
    {
        string json = edit(Example);
        Assert.That(json, Is.Not.EqualTo(Example), "the edit applies");
        var ex = Assert.Throws<InvalidDataException>(() => NamFile.Parse(Encoding.UTF8.GetBytes(json), "bad.nam"))!;
        Assert.That(ex.Message, Does.StartWith("'bad.nam'").And.Contain(reason));
        TestContext.Out.WriteLine(ex.Message);
    }

    [Test]
    public void InvalidUtf8IsRefused()
    {
        byte[] bytes = File.ReadAllBytes(ExamplePath);
        bytes[30] = 0xff;
        Assert.That(Assert.Throws<InvalidDataException>(() => NamFile.Parse(bytes))!.Message, Does.Contain("not UTF-8"));
    }

    [Test]
    public void AModuleOfAnotherShapeIsRefusedSayingWhatToDeclareAndIsLeftUntouched()
    {
        NamFile file = NamFile.Read(ExamplePath);
        var wrong = new StreamAmpLstm(1); // [Lstm(1, 32)]
        var before = wrong.Parameters.AsReadOnlySpan().ToArray();
        long version = wrong.Parameters.Version;
        var ex = Assert.Throws<InvalidDataException>(() => NamModel.Load(ExamplePath, wrong))!;
        Assert.That(ex.Message, Does.Contain("LSTM(input_size 1, hidden_size 3, num_layers 1)").And.Contain("declare [Lstm(1, 3)]").And.Contain("hidden_size 32"));
        Assert.That(wrong.Parameters.AsReadOnlySpan().ToArray(), Is.EqualTo(before), "the module is unchanged");
        Assert.That(wrong.Parameters.Version, Is.EqualTo(version), "and not marked changed");
        TestContext.Out.WriteLine(ex.Message);

        var twoLayers = NamFile.Parse(NamJson(new Random(_seed), 1, 3, 2));
        Assert.That(Assert.Throws<InvalidDataException>(() => twoLayers.LoadInto(new NamExampleLstm(1), new Dynamic.Linear(3, 1)))!.Message,
            Does.Contain("declare [Lstm(1, 3, NumLayers = 2)]"));
        Assert.That(Assert.Throws<InvalidDataException>(() => file.LoadInto(new Dynamic.Lstm(1, 3, bidirectional: true), new Dynamic.Linear(3, 1)))!.Message,
            Does.Contain("bidirectional"));
        Assert.That(Assert.Throws<InvalidDataException>(() => file.LoadInto(new Dynamic.Lstm(1, 3, bias: false), new Dynamic.Linear(3, 1)))!.Message,
            Does.Contain("bias False"));

        var lstm = new NamExampleLstm(3);
        before = lstm.Parameters.AsReadOnlySpan().ToArray();
        Assert.That(Assert.Throws<InvalidDataException>(() => file.LoadInto(lstm, new Dynamic.Linear(3, 2)))!.Message, Does.Contain("use new Dynamic.Linear(3, 1)"));
        Assert.That(lstm.Parameters.AsReadOnlySpan().ToArray(), Is.EqualTo(before), "a bad head leaves the LSTM unchanged too");
    }

    [Test]
    public void ProcessRefusesBadLengthsAndAllocatesNothingInTheSteadyState()
    {
        NamModel amp = NamModel.Load(ExamplePath, new NamExampleLstm(1));
        float[] h = amp.Stream.H.ToArray();
        var output = new float[64];
        Array.Fill(output, 42f);
        Assert.That(Assert.Throws<ArgumentException>(() => amp.Process(new float[64], output.AsSpan(0, 63)))!.ParamName, Is.EqualTo("output"));
        Assert.That(Assert.Throws<ArgumentException>(() => amp.Process(ReadOnlySpan<float>.Empty, Span<float>.Empty))!.ParamName, Is.EqualTo("input"));
        Assert.That(output, Is.All.EqualTo(42f));
        Assert.That(amp.Stream.H.ToArray(), Is.EqualTo(h));

        float[] x = GuitarLike(new Random(_seed), 64);
        Numerics.WarmUp(() => amp.Process(x, output));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            amp.Process(x, output);
            amp.Process(x.AsSpan(0, 17), output.AsSpan(0, 17));
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0), "bytes allocated by 200 steady-state Process calls");
    }
}

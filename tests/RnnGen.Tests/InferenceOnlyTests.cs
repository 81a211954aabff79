using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Inference-only modules (<c>Training = false</c>): the same forward as the training module, bit for bit on this
/// machine's path, without the backward kernels; the training members are a compile error on the class and a
/// NotSupportedException naming the property through the interface.
/// </summary>
[Category("Numeric")]
public class InferenceOnlyTests
{
    private readonly int _seed = Numerics.FreshSeed();

    [TearDown]
    public void RestoreOneThread() => Parallelism.MaxDegreeOfParallelism = 1;

    public static IEnumerable<TestCaseData> Sequences()
    {
        yield return new TestCaseData((Func<int, IRnnModule>)(s => new DeepBidirectionalRnn(s)), (Func<int, IRnnModule>)(s => new DeepBidirectionalRnnInference(s)), 3, 2, 100)
            .SetName("DeepBidirectionalRnn");
        yield return new TestCaseData((Func<int, IRnnModule>)(s => new DeepGru(s)), (Func<int, IRnnModule>)(s => new DeepGruInference(s)), 2, 2, 100)
            .SetName("DeepGru");
    }

    public static IEnumerable<TestCaseData> Cells()
    {
        yield return new TestCaseData((Func<int, IRnnCellModule>)(s => new ReluCell(s)), (Func<int, IRnnCellModule>)(s => new ReluCellInference(s))).SetName("ReluCell");
        yield return new TestCaseData((Func<int, IRnnCellModule>)(s => new AmpGruCell(s)), (Func<int, IRnnCellModule>)(s => new AmpGruCellInference(s))).SetName("AmpGruCell");
    }

    [TestCaseSource(nameof(Sequences))]
    public void SequenceForwardIsBitIdenticalToTheTrainingModule(Func<int, IRnnModule> training, Func<int, IRnnModule> inference, int layers, int directions, int hidden)
    {
        var random = new Random(_seed);
        int seed = random.Next();
        IRnnModule full = training(seed), lean = inference(seed);
        Assert.That(lean.Parameters.AsSpan().ToArray(), Is.EqualTo(full.Parameters.AsSpan().ToArray()), "the same seed draws the same parameters");
        foreach (int degree in new[] { 1, 2 })
        {
            Parallelism.MaxDegreeOfParallelism = degree;
            foreach ((int seqLen, int batch) in new[] { (1, 1), (3, 5), (7, 2), (2, 19) })
            {
                float[] input = Numerics.Uniform(random, seqLen * batch * lean.InputSize, 2f);
                float[] h0 = Numerics.Uniform(random, layers * directions * batch * hidden);
                var (output, hN) = lean.Forward(input, seqLen, batch, h0);
                var (expectedOutput, expectedHN) = full.Forward(input, seqLen, batch, h0);
                Assert.That(output, Is.EqualTo(expectedOutput), $"seed {_seed}, output, seqLen {seqLen}, batch {batch}, {degree} thread(s)");
                Assert.That(hN, Is.EqualTo(expectedHN), $"seed {_seed}, hN, seqLen {seqLen}, batch {batch}, {degree} thread(s)");
            }
        }
        Assert.That(lean.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), ExpectedPath.Describe());
    }

    [TestCaseSource(nameof(Cells))]
    public void CellForwardIsBitIdenticalToTheTrainingModule(Func<int, IRnnCellModule> training, Func<int, IRnnCellModule> inference)
    {
        var random = new Random(_seed);
        int seed = random.Next();
        IRnnCellModule full = training(seed), lean = inference(seed);
        foreach (int batch in new[] { 1, 2, 3, 5, 13 })
        {
            float[] input = Numerics.Uniform(random, batch * lean.InputSize, 2f);
            float[] hx = Numerics.Uniform(random, batch * lean.HiddenSize);
            Assert.That(lean.Forward(input, batch, hx), Is.EqualTo(full.Forward(input, batch, hx)), $"seed {_seed}, batch {batch}");
        }
        Assert.That(lean.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), ExpectedPath.Describe());
    }

    [Test]
    public void LstmForwardIsBitIdenticalToTheTrainingModule()
    {
        var random = new Random(_seed);
        int seed = random.Next();
        ILstmModule full = new ProjectedLstm(seed);
        ILstmModule lean = new ProjectedLstmInference(seed);
        foreach ((int seqLen, int batch) in new[] { (1, 1), (4, 3), (2, 9) })
        {
            float[] input = Numerics.Uniform(random, seqLen * batch * ProjectedLstm.InputSize, 2f);
            float[] h0 = Numerics.Uniform(random, 4 * batch * ProjectedLstm.ProjSize);
            float[] c0 = Numerics.Uniform(random, 4 * batch * ProjectedLstm.HiddenSize);
            var expected = full.Forward(input, seqLen, batch, h0, c0);
            var actual = lean.Forward(input, seqLen, batch, h0, c0);
            Assert.That(actual.Output, Is.EqualTo(expected.Output), $"seed {_seed}, output, seqLen {seqLen}, batch {batch}");
            Assert.That(actual.HN, Is.EqualTo(expected.HN), $"seed {_seed}, hN");
            Assert.That(actual.CN, Is.EqualTo(expected.CN), $"seed {_seed}, cN");
        }

        ILstmCellModule fullCell = new AmpLstmCell(seed);
        ILstmCellModule leanCell = new AmpLstmCellInference(seed);
        foreach (int batch in new[] { 1, 3, 8 })
        {
            float[] input = Numerics.Uniform(random, batch, 2f);
            float[] hx = Numerics.Uniform(random, batch * 32), cx = Numerics.Uniform(random, batch * 32);
            var expected = fullCell.Forward(input, batch, hx, cx);
            var actual = leanCell.Forward(input, batch, hx, cx);
            Assert.That(actual.HNext, Is.EqualTo(expected.HNext), $"seed {_seed}, hNext, batch {batch}");
            Assert.That(actual.CNext, Is.EqualTo(expected.CNext), $"seed {_seed}, cNext, batch {batch}");
        }
        Assert.That(lean.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), ExpectedPath.Describe());
    }

    [Test]
    public void AStreamOverAnInferenceOnlyModuleMatchesTheTrainingModulesStream()
    {
        var random = new Random(_seed);
        int seed = random.Next();
        var full = new LstmStream(new PairTailLstm(seed));
        var lean = new LstmStream(new PairTailLstmInference(seed));
        foreach (int steps in new[] { 1, 64, 7 })
        {
            float[] input = Numerics.Uniform(random, steps * 2, 2f);
            float[] expected = new float[steps * 20], actual = new float[steps * 20];
            full.Process(input, expected);
            lean.Process(input, actual);
            Assert.That(actual, Is.EqualTo(expected), $"seed {_seed}, block of {steps}");
        }
        Assert.That(lean.C.ToArray(), Is.EqualTo(full.C.ToArray()), $"seed {_seed}, c");
    }

    [Test]
    public void TrainingMembersThroughTheInterfaceThrowNamingTheProperty()
    {
        IRnnModule rnn = new DeepBidirectionalRnnInference(1);
        float[] input = new float[17], output = new float[200], hN = new float[600];
        AssertNotTrainable(() => rnn.Forward(input, 1, 1, output, hN, training: true), "DeepBidirectionalRnnInference", "Rnn");
        AssertNotTrainable(() => rnn.Backward(output, hN, input, hN), "DeepBidirectionalRnnInference", "Rnn");
        AssertNotTrainable(() => _ = rnn.Gradients, "DeepBidirectionalRnnInference", "Rnn");
        AssertNotTrainable(rnn.ZeroGrad, "DeepBidirectionalRnnInference", "Rnn");
        AssertNotTrainable(() => rnn.SeedDropout(3), "DeepBidirectionalRnnInference", "Rnn");
        Assert.That(output, Is.All.EqualTo(0f), "a refused training forward writes nothing");
        rnn.Forward(input, 1, 1, output, hN, training: false);
        Assert.That(output, Has.Some.Not.EqualTo(0f), "an inference forward through the interface runs");

        ILstmModule lstm = new ProjectedLstmInference(1);
        AssertNotTrainable(() => lstm.Forward(new float[10], 1, 1, new float[14], new float[28], new float[132], training: true), "ProjectedLstmInference", "Lstm");
        AssertNotTrainable(() => lstm.Backward(default, default, default, default, default, default), "ProjectedLstmInference", "Lstm");

        IRnnCellModule cell = new ReluCellInference(1);
        AssertNotTrainable(() => cell.Forward(new float[3], 1, default, new float[17], training: true), "ReluCellInference", "RnnCell");
        AssertNotTrainable(() => cell.Backward(default, default, default), "ReluCellInference", "RnnCell");

        ILstmCellModule lstmCell = new AmpLstmCellInference(1);
        AssertNotTrainable(() => lstmCell.Forward(new float[1], 1, default, default, new float[32], new float[32], training: true), "AmpLstmCellInference", "LstmCell");
        AssertNotTrainable(() => lstmCell.Backward(default, default, default, default, default), "AmpLstmCellInference", "LstmCell");
    }

    private static void AssertNotTrainable(Action call, string type, string attribute)
    {
        var error = Assert.Throws<NotSupportedException>(() => call())!;
        Assert.That(error.Message, Does.Contain($"{type} is inference-only ([{attribute}(..., Training = false)])"));
        Assert.That(error.Message, Does.Contain($"Remove Training = false from [{attribute}]"));
    }

    [TestCase("new A().Backward(default, default, default, default);", "CS1061")]
    [TestCase("new A().Forward(default, 1, 1, default, default, training: true);", "CS1739")]
    [TestCase("_ = new A().Gradients;", "CS1061")]
    [TestCase("new A().ZeroGrad();", "CS1061")]
    [TestCase("new A().SeedDropout(1);", "CS1061")]
    [TestCase("new C().Backward(default, default, default);", "CS1061")]
    public void TrainingMembersOnTheClassAreCompileErrors(string call, string expectedError)
    {
        string source = "using RnnGen;\nnamespace Sample;\n[Rnn(4, 8, Training = false)] public partial class A;\n[GruCell(4, 8, Training = false)] public partial class C;\n" +
            $"public static class Use {{ public static void Run() {{ {call} }} }}";
        (Compilation output, GeneratorDriverRunResult result) = GeneratorHarness.Run(source);
        Assert.That(result.Diagnostics, Is.Empty);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).ToList();
        Assert.That(errors, Is.EqualTo(new[] { expectedError }));
    }

    [Test]
    public void TheSizeCheckCountsThePackedLayoutThatIsEmitted()
    {
        // Elman, hidden 16: the packed buffer holds about 32 floats per input feature for training and 16 for inference, so
        // 100 million inputs exceed one .NET array (RNNG0010) for a training module and fit for an inference-only one.
        string Declaration(string training) => $"using RnnGen;\nnamespace Sample;\n[Rnn(100000000, 16{training})] public partial class A;";
        Assert.That(GeneratorHarness.GeneratorDiagnostics(Declaration("")).Select(d => d.Id), Is.EqualTo(new[] { "RNNG0010" }));
        Assert.That(GeneratorHarness.GeneratorDiagnostics(Declaration(", Training = false")), Is.Empty);
    }

    [Test]
    public void TheInferenceOnlySourceHasNoBackwardKernelsAndASmallerPackedBuffer()
    {
        string Source(string training) => GeneratorHarness.Run("using RnnGen;\nnamespace Sample;\n[Lstm(5, 20, ProjSize = 6" + training + ")] public partial class A;")
            .Result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        string full = Source(""), lean = Source(", Training = false");
        foreach (string backward in new[] { "BackStep", "BackProject", "WeightGrad", "PackRows", "PackedWeightIhRows", "ProjectionWeightGrad", "RnnDriver.Backward", "ForwardTraining" })
        {
            Assert.That(full, Does.Contain(backward));
            Assert.That(lean, Does.Not.Contain(backward));
        }
        int PackedLength(string source, string path) =>
            int.Parse(System.Text.RegularExpressions.Regex.Match(source.Substring(source.IndexOf($"class {path}Path", StringComparison.Ordinal)), @"PackedLength = (\d+);").Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture);
        foreach (string path in new[] { "Avx512", "Avx2", "Vector128" })
            Assert.That(PackedLength(lean, path), Is.LessThan(PackedLength(full, path) * 6 / 10), path);
    }
}

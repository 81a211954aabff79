using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;
using RnnGen.Generator.Model;
using RnnGen.Tests.Support;
using Snapshooter.NUnit;

namespace RnnGen.Generator.Tests;

public class GeneratorTests
{
    private const string Header = "using RnnGen;\nnamespace Sample;\n";

    // ---- emitted source -------------------------------------------------------------------------

    [TestCase("[Rnn(inputSize: 100, hiddenSize: 200)] public partial class Encoder;", "Sample.Encoder", TestName = "Snapshot_Rnn_100_200")]
    [TestCase("[RnnCell(3, 17, Nonlinearity = Nonlinearity.Relu, Bias = false)] public partial class Cell;", "Sample.Cell", TestName = "Snapshot_RnnCell_3_17_Relu_NoBias")]
    [TestCase("[Rnn(1, 5, NumLayers = 2, Bidirectional = true, BatchFirst = true)] public partial class Stack;", "Sample.Stack", TestName = "Snapshot_Rnn_1_5_TwoLayers_Bidirectional")]
    [TestCase("[LstmCell(1, 12)] public partial class Amp;", "Sample.Amp", TestName = "Snapshot_LstmCell_1_12")]
    [TestCase("[GruCell(1, 12)] public partial class AmpGru;", "Sample.AmpGru", TestName = "Snapshot_GruCell_1_12")]
    [TestCase("[Lstm(5, 20, ProjSize = 6)] public partial class Projected;", "Sample.Projected", TestName = "Snapshot_Lstm_5_20_Proj6")]
    [TestCase("[Lstm(5, 20, ProjSize = 6, Training = false)] public partial class ProjectedInference;", "Sample.ProjectedInference", TestName = "Snapshot_Lstm_5_20_Proj6_Inference")]
    [TestCase("[Rnn(inputSize: 100, hiddenSize: 200, Training = false)] public partial class EncoderInference;", "Sample.EncoderInference", TestName = "Snapshot_Rnn_100_200_Inference")]
    [TestCase("[Lstm(1, 20)] public partial class AmpBlock;", "Sample.AmpBlock", TestName = "Snapshot_Lstm_1_20_BlockKernel")]
    [TestCase("[Gru(1, 12, Bidirectional = true)] public partial class GruBlock;", "Sample.GruBlock", TestName = "Snapshot_Gru_1_12_Bidirectional_BlockKernel")]
    [TestCase("[Lstm(100, 200, Training = false)] public partial class WideInference;", "Sample.WideInference", TestName = "Snapshot_Lstm_100_200_Inference_SplitsRows")]
    public void EmittedSourceMatchesSnapshot(string declaration, string typeName)
    {
        (Compilation output, GeneratorDriverRunResult result) = GeneratorHarness.Run(Header + declaration);
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(GeneratorHarness.CompileErrors(output), Is.Empty);
        GeneratedSourceResult generated = result.Results.Single().GeneratedSources.Single();
        Assert.That(generated.HintName, Is.EqualTo($"{typeName}.RnnGen.g.cs"));
        Snapshot.Match(generated.SourceText.ToString(), $"Generator.{TestContext.CurrentContext.Test.Name}");
    }

    [Test]
    public void GeneratedCodeCompilesWithoutWarningsForManyShapes()
    {
        string source = Header + string.Join("\n", new[]
        {
            "[Rnn(1, 1)] public partial class A;",
            "[Rnn(3, 17, NumLayers = 3, Bidirectional = true, Bias = false)] public partial class B;",
            "[Rnn(200, 100, BatchFirst = true, Nonlinearity = Nonlinearity.Relu)] public partial class C;",
            "[RnnCell(16, 64)] public partial class D;",
            "[RnnCell(1, 129)] public partial class E;",
            "public static partial class Outer { public partial class Middle { [Rnn(2, 8)] internal partial class F; } }",
            "[Rnn(5, 7)] public partial record G;",
            "[Rnn(5, 7)] public sealed partial class H { public H(string name) : this(1) { Name = name; } public string Name { get; } = \"\"; }",
            "[Lstm(3, 17, NumLayers = 2, Bidirectional = true, BatchFirst = true, Bias = false)] public partial class I;",
            "[LstmCell(1, 32)] public partial class J;",
            "[Gru(3, 17, NumLayers = 2, Bidirectional = true, Bias = false)] public partial class K;",
            "[GruCell(5, 9)] public partial class L;",
            "[Rnn(3, 17, NumLayers = 2, Bidirectional = true, Training = false)] public partial class M;",
            "[LstmCell(1, 32, Training = false)] public partial class N;",
            "[Lstm(3, 17, NumLayers = 2, ProjSize = 5, Training = false)] public partial class O;",
            "[GruCell(5, 9, Training = false)] public partial class P;",
            "[LstmCell(1, 1)] public partial class Q;",
            "[GruCell(1, 1)] public partial class R;",
            "[Lstm(6, 3, NumLayers = 2, ProjSize = 1)] public partial class S;",
            "[LstmCell(3, 5)] public partial class T;",
            "[Gru(4, 250, NumLayers = 2)] public partial class U;", // layer 1 splits a batch of one by tiles (a two-statement switch case)
        });
        (Compilation output, GeneratorDriverRunResult result) = GeneratorHarness.Run(source);
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Results.Single().GeneratedSources, Has.Length.EqualTo(21));
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.That(problems, Is.Empty, string.Join("\n", problems));

        // No noise: no loop that runs once, no arithmetic on a literal 0 or 1, no blank line before a brace.
        var noise = new System.Text.RegularExpressions.Regex(@"< 1; |[^\w.]0 \* |[^\w.]1 \* | \* 1[^\w.]| \+ 0[^\w.]|Unsafe\(ref \w+, 0\)|\n\s*\n\s*\{");
        foreach (GeneratedSourceResult generated in result.Results.Single().GeneratedSources)
        {
            System.Text.RegularExpressions.Match found = noise.Match(generated.SourceText.ToString());
            string text = generated.SourceText.ToString();
            Assert.That(found.Success, Is.False, found.Success ? $"{generated.HintName}: {text.Substring(Math.Max(0, found.Index - 120), 160)}" : "");
        }
    }

    [Test]
    public void GeneratedNamesAreInvariantAcrossCultures()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("fi-FI");
            (_, GeneratorDriverRunResult result) = GeneratorHarness.Run(Header + "[Rnn(3, 4, NumLayers = 2, Dropout = 0.5)] public partial class F;");
            string text = result.Results.Single().GeneratedSources.Single().SourceText.ToString();
            Assert.That(text, Does.Contain("public const double Dropout = 0.5;"));
            Assert.That(text, Does.Not.Contain("\u2212"));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    // ---- incrementality ---------------------------------------------------------------------------

    [Test]
    public void SecondRunOnAClonedCompilationIsAllCached()
    {
        Compilation compilation = GeneratorHarness.CreateCompilation(Header +
            "[Rnn(4, 8)] public partial class A;\n[RnnCell(2, 3)] public partial class B;\n[Rnn(0, 3)] public partial class Bad;\n[Lstm(2, 5)] public partial class C;");
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        GeneratorRunResult first = driver.GetRunResult().Results.Single();
        Assert.That(first.GeneratedSources, Has.Length.EqualTo(3));

        driver = driver.RunGenerators(compilation.Clone());
        GeneratorRunResult second = driver.GetRunResult().Results.Single();

        string[] steps = { TrackingNames.RnnParse, TrackingNames.RnnCellParse, TrackingNames.LstmParse, TrackingNames.Specs, TrackingNames.Diagnostics };
        foreach (string step in steps)
        {
            Assert.That(second.TrackedSteps.ContainsKey(step), Is.True, $"step {step} is tracked");
            foreach (IncrementalGeneratorRunStep run in second.TrackedSteps[step])
                foreach ((object value, IncrementalStepRunReason reason) in run.Outputs)
                    Assert.That(reason, Is.EqualTo(IncrementalStepRunReason.Cached).Or.EqualTo(IncrementalStepRunReason.Unchanged), $"{step}: {value}");
        }
        foreach (var output in second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs))
            Assert.That(output.Reason, Is.EqualTo(IncrementalStepRunReason.Cached), "source outputs");
    }

    [Test]
    public void EditingAnUnrelatedFileKeepsTheModelCached()
    {
        Compilation compilation = GeneratorHarness.CreateCompilation(Header + "[Rnn(4, 8)] public partial class A;");
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        compilation = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { int X => 1; }", GeneratorHarness.ParseOptions));
        driver = driver.RunGenerators(compilation);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach ((object _, IncrementalStepRunReason reason) in result.TrackedSteps[TrackingNames.Specs].SelectMany(s => s.Outputs))
            Assert.That(reason, Is.EqualTo(IncrementalStepRunReason.Cached).Or.EqualTo(IncrementalStepRunReason.Unchanged));
    }

    [Test]
    public void PipelineModelsHoldNoSymbolsSyntaxOrCompilations()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(Compilation), typeof(SemanticModel), typeof(SyntaxTree) };
        var seen = new HashSet<Type>();
        void Walk(Type type, string path)
        {
            if (!seen.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string))
                return;
            foreach (Type bad in forbidden)
                Assert.That(bad.IsAssignableFrom(type), Is.False, $"{path} is a {bad.Name}");
            if (type.IsGenericType)
                foreach (Type argument in type.GetGenericArguments())
                    Walk(argument, $"{path}<{argument.Name}>");
            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                Walk(field.FieldType, $"{path}.{field.Name}");
        }
        Walk(typeof(ParseResult), nameof(ParseResult));
        Walk(typeof(WeightsFile), nameof(WeightsFile));
        Walk(typeof(BakeResult), nameof(BakeResult));
        Walk(typeof(BakedModule), nameof(BakedModule));
        Assert.That(seen, Does.Contain(typeof(NetworkSpec)).And.Contain(typeof(DiagnosticInfo)).And.Contain(typeof(ContainingType))
            .And.Contain(typeof(WeightsRequest)).And.Contain(typeof(TensorInfo)));
    }

    // ---- diagnostics ------------------------------------------------------------------------------

    public static IEnumerable<TestCaseData> InvalidDeclarations()
    {
        TestCaseData Case(string id, string source, string expectedText) =>
            new TestCaseData(id, source, expectedText).SetName($"{id}: {source.Replace("\n", " ")}");
        yield return Case("RNNG0001", "[Rnn(0, 8)] public partial class A;", "inputSize is 0");
        yield return Case("RNNG0001", "[RnnCell(4, hiddenSize: -3)] public partial class A;", "hiddenSize is -3");
        yield return Case("RNNG0002", "[Rnn(4, 8, NumLayers = 0)] public partial class A;", "NumLayers is 0");
        yield return Case("RNNG0003", "[Rnn(4, 8, NumLayers = 2, Dropout = 1.0)] public partial class A;", "Dropout is 1");
        yield return Case("RNNG0003", "[Rnn(4, 8, NumLayers = 2, Dropout = -0.1)] public partial class A;", "Dropout is -0.1");
        yield return Case("RNNG0004", "[Rnn(4, 8)] public class A { }", "declare it as 'partial class A'");
        yield return Case("RNNG0005", "[Rnn(4, 8)] public partial class A<T>;", "is generic");
        yield return Case("RNNG0006", "public partial class Outer<T> { [Rnn(4, 8)] public partial class A; }", "generic type 'Outer'");
        yield return Case("RNNG0007", "[Rnn(4, 8)][RnnCell(4, 8)] public partial class A;", "carries both [Rnn] and [RnnCell]");
        yield return Case("RNNG0008", "[Rnn(4, 8, Dropout = 0.5)] public partial class A;", "no effect");
        yield return Case("RNNG0009", "[Rnn(4, 8, Nonlinearity = (Nonlinearity)7)] public partial class A;", "Nonlinearity is 7");
        yield return Case("RNNG0010", "[Rnn(100000, 100000)] public partial class A;", "parameter values");
        yield return Case("RNNG0011", "public class Outer { [Rnn(4, 8)] public partial class A; }", "declare 'Outer' as partial");
        yield return Case("RNNG0012", "[Rnn(4, 8)] public static partial class A;", "is static");
        yield return Case("RNNG0013", "[Lstm(4, 8, ProjSize = 8)] public partial class A;", "ProjSize is 8");
        yield return Case("RNNG0013", "[Lstm(4, 8, ProjSize = -1)] public partial class A;", "ProjSize is -1");
        yield return Case("RNNG0007", "[Lstm(4, 8)][LstmCell(4, 8)] public partial class A;", "carries both [Lstm] and [LstmCell]");
        yield return Case("RNNG0007", "[Gru(4, 8)][Rnn(4, 8)] public partial class A;", "carries both");
        yield return Case("RNNG0001", "[GruCell(4, 0)] public partial class A;", "hiddenSize is 0");
        yield return Case("RNNG0021", "[Lstm(4, 8, NumLayers = 2, Dropout = 0.2, Training = false)] public partial class A;", "Training = false has no effect");
    }

    /// <summary>
    /// Which shapes split a batch of one over threads, per path (AVX-512, AVX2, 128-bit): a part per 384 KB of a layer's
    /// packed W_ih and W_hh (393,216 bytes), worked out by hand here. Lstm(100, 200): 300 × 800 × 4 = 960,000 bytes on
    /// every path (AVX-512 packs its last tile of 8 units at its own width: PathPlan.NarrowLastTile): 2 parts; its second
    /// layer 400 × 800 × 4 = 1,280,000: 3. Lstm(100, 150): 250 × 608 × 4 = 608,000: 1. Gru(100, 250): 350 × 768 × 4 =
    /// 1,075,200 on AVX-512 (a last tile of 10 units, 16 wide), 350 × 756 × 4 = 1,058,400 on the others: 2.
    /// Gru(4, 250, NumLayers = 2): 254 × 768 × 4 = 780,288 (1), then 500 × 768 × 4 = 1,536,000 (3; AVX2 and 128-bit,
    /// 252 units: 768,096 and 1,512,000). Not
    /// split: two directions, a projection, an Elman RNN, or one row in the AVX-512 LSTM's two-tile kernel (LstmCell(2000,
    /// 32), which on AVX2 walks four tiles over 2,032 × 128 × 4 = 1,040,384 bytes: 2).
    /// </summary>
    [TestCase("[Lstm(100, 200)] public partial class A;", "2", "2", "2")]
    [TestCase("[Lstm(100, 200, NumLayers = 2)] public partial class A;", "layer == 0 ? 2 : 3", "layer == 0 ? 2 : 3", "layer == 0 ? 2 : 3")]
    [TestCase("[Gru(4, 250, NumLayers = 2)] public partial class A;", "layer == 0 ? 1 : 3", "layer == 0 ? 1 : 3", "layer == 0 ? 1 : 3")]
    [TestCase("[Lstm(100, 150)] public partial class A;", "1", "1", "1")]
    [TestCase("[Gru(100, 250)] public partial class A;", "2", "2", "2")]
    [TestCase("[GruCell(100, 250)] public partial class A;", "2", "2", "2")]
    [TestCase("[Lstm(100, 200, Bidirectional = true)] public partial class A;", "1", "1", "1")]
    [TestCase("[Lstm(100, 200, ProjSize = 100)] public partial class A;", "1", "1", "1")]
    [TestCase("[Rnn(300, 600)] public partial class A;", "1", "1", "1")]
    [TestCase("[LstmCell(2000, 32)] public partial class A;", "1", "2", "2")]
    public void ABatchOfOneSplitsWhereItsWeightsFillL2(string declaration, string avx512, string avx2, string vector128)
    {
        (Compilation output, GeneratorDriverRunResult result) = GeneratorHarness.Run(Header + declaration);
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(GeneratorHarness.CompileErrors(output), Is.Empty);
        string source = result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        var parts = System.Text.RegularExpressions.Regex.Matches(source, @"public int RowParts\(int layer\) => (.+);").Select(m => m.Groups[1].Value);
        Assert.That(parts, Is.EqualTo(new[] { avx512, avx2, vector128 }));
        int splitting = new[] { avx512, avx2, vector128 }.Count(p => p != "1");
        Assert.That(System.Text.RegularExpressions.Regex.Matches(source, @"public void StepRowTiles\(").Count, Is.EqualTo(splitting), "a tile-range step where a row splits, only there");
    }

    // The panel width per path (AVX-512, AVX2, 128-bit), "-" where the last tile keeps a whole vector. Worked by hand: a
    // gated cell of three unit tiles or more (16, 8, 4 units each) whose last tile holds at most half a vector's units, on
    // 8 lanes or more, packs HiddenSize rounded up to half vectors (8, 4); bytes = 4 · gates · (input + state) · that.
    [TestCase("[Lstm(100, 200)] public partial class A;", "200", "-", "-")]               // 12 tiles + 8 units; 200 % 8 = 0
    [TestCase("[Gru(17, 100, NumLayers = 2)] public partial class A;", "104", "100", "-")] // 6 + 4 units; 12 + 4 units
    [TestCase("[LstmCell(3, 33)] public partial class A;", "40", "36", "-")]             // 2 + 1 unit; 4 + 1 unit
    [TestCase("[Lstm(10, 33, ProjSize = 7)] public partial class A;", "40", "36", "-")]  // projection: the same unit tiles
    [TestCase("[Lstm(1, 24)] public partial class A;", "-", "-", "-")]                   // two tiles on AVX-512 (the pair kernel); AVX2 whole
    [TestCase("[Lstm(1, 20)] public partial class A;", "-", "20", "-")]                  // AVX2: 8 + 8 + 4
    [TestCase("[Gru(4, 250)] public partial class A;", "-", "252", "-")]                 // AVX-512: a last tile of 10 units
    [TestCase("[Gru(4, 42)] public partial class A;", "-", "44", "-")]                   // 42 = 32 + 10; 40 + 2
    [TestCase("[Rnn(100, 200)] public partial class A;", "-", "-", "-")]                 // one gate: whole vectors
    public void ANarrowLastTileIsPackedAtHalfAVector(string declaration, string avx512, string avx2, string vector128)
    {
        (Compilation output, GeneratorDriverRunResult result) = GeneratorHarness.Run(Header + declaration);
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(GeneratorHarness.CompileErrors(output), Is.Empty);
        string source = result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        string[] paths = System.Text.RegularExpressions.Regex.Split(source, @"private static class \w+Path").Skip(1).ToArray();
        Assert.That(paths, Has.Length.EqualTo(3));
        string Panel(string path) => System.Text.RegularExpressions.Regex.Match(path, @"private const int PanelHidden = (\d+);") is { Success: true } m ? m.Groups[1].Value : "-";
        Assert.That(paths.Select(Panel), Is.EqualTo(new[] { avx512, avx2, vector128 }));
    }

    [TestCaseSource(nameof(InvalidDeclarations))]
    public void InvalidDeclarationIsReported(string id, string source, string expectedText)
    {
        (Compilation output, GeneratorDriverRunResult result) = GeneratorHarness.Run(Header + source);
        var matching = result.Diagnostics.Where(d => d.Id == id).ToList();
        Assert.That(matching, Has.Count.EqualTo(1), string.Join("\n", result.Diagnostics));
        Diagnostic diagnostic = matching[0];
        Assert.That(diagnostic.GetMessage(), Does.Contain(expectedText));
        FileLinePositionSpan where = diagnostic.Location.GetLineSpan();
        Assert.That(where.Path, Is.EqualTo("Input.cs"), "points at the declaration's file");
        Assert.That(diagnostic.Location.SourceSpan.Length, Is.GreaterThan(0), "points at a piece of the declaration");
        DiagnosticSeverity expected = id is "RNNG0008" or "RNNG0021" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error;
        Assert.That(diagnostic.Severity, Is.EqualTo(expected));
        if (expected == DiagnosticSeverity.Error)
            Assert.That(result.Results.Single().GeneratedSources, Is.Empty, "an invalid module generates nothing");
        TestContext.Out.WriteLine(diagnostic.ToString());
    }

    [Test]
    public void EveryDiagnosticInTheCatalogIsTested()
    {
        var tested = InvalidDeclarations().Concat(WeightsBakingTests.Diagnostics()).Select(c => (string)c.Arguments[0]!).ToHashSet();
        Assert.That(Diagnostics.All.Select(d => d.Id), Is.SubsetOf(tested));
        Assert.That(Diagnostics.All.Select(d => d.Id), Is.Unique);
    }

    [TestCase("[Rnn(")]
    [TestCase("[Rnn(4)] public partial class A;")]
    [TestCase("[Rnn(4, )] public partial class A;")]
    [TestCase("[Rnn(x, 8)] public partial class A;")]
    [TestCase("[Rnn(4, 8, NumLayers = )] public partial class A;")]
    [TestCase("[Rnn(4, 8, Unknown = 3)] public partial class A;")]
    [TestCase("[Rnn(4, 8)] public partial class")]
    [TestCase("[Rnn(4, 8)] public partial struct S;")]
    [TestCase("[Rnn(\"4\", 8.5)] public partial class A;")]
    [TestCase("[RnnCell(4, 8, Dropout = 0.1)] public partial class A;")]
    [TestCase("[Lstm(4, 8, Nonlinearity = Nonlinearity.Relu)] public partial class A;")]
    [TestCase("[LstmCell(4, )] public partial class A;")]
    public void HalfTypedCodeNeverCrashesTheGenerator(string source)
    {
        (_, GeneratorDriverRunResult result) = GeneratorHarness.Run(Header + source);
        GeneratorRunResult run = result.Results.Single();
        Assert.That(run.Exception, Is.Null);
        Assert.That(result.Diagnostics.Where(d => d.Id.StartsWith("CS", StringComparison.Ordinal)), Is.Empty, "no generator failure (CS8785)");
    }
}

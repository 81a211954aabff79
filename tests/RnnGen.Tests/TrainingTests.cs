using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using RnnGen.__Internals;
using RnnGen.Tests.Support;
using RnnGen.Training;

namespace RnnGen.Tests;

[Category("Numeric")]
public class TrainingTests
{
    private readonly int _seed = Numerics.FreshSeed();

    public static IEnumerable<TestCaseData> SmallShapes()
    {
        yield return new TestCaseData(new RnnConfig(false, 3, 4, 2, Bidirectional: true, Dropout: 0.5), 4, 2).SetName("FD: 3->4, 2 layers, bidirectional, dropout 0.5");
        yield return new TestCaseData(new RnnConfig(false, 2, 3, 3, BatchFirst: true, Nonlinearity: Nonlinearity.Relu), 3, 3).SetName("FD: 2->3, 3 layers, batch-first, relu");
        yield return new TestCaseData(new RnnConfig(false, 5, 2, 1, Bidirectional: true, Bias: false), 5, 1).SetName("FD: 5->2, bidirectional, no bias");
    }

    /// <summary>
    /// The generic kernels' analytic gradients against central differences of an independent double-precision
    /// forward (no PyTorch involved), with the same dropout masks (replayed from the same seed).
    /// </summary>
    [TestCaseSource(nameof(SmallShapes))]
    public void GenericBackwardMatchesDoublePrecisionFiniteDifferences(RnnConfig config, int seqLen, int batch)
    {
        var random = new Random(_seed);
        var rnn = (Dynamic.Rnn)config.CreateDynamic(random.Next());
        int stateLength = config.NumLayers * config.Directions * batch * config.HiddenSize;
        float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, 1.5f);
        float[] h0 = Numerics.Uniform(random, stateLength);
        float[] gradOutput = Numerics.Uniform(random, seqLen * batch * config.Directions * config.HiddenSize);
        float[] gradHn = Numerics.Uniform(random, stateLength);
        var output = new float[gradOutput.Length];
        var hN = new float[stateLength];
        var gradInput = new float[input.Length];
        var gradH0 = new float[stateLength];
        rnn.SeedDropout(99);
        rnn.Forward(input, seqLen, batch, output, hN, h0, training: true);
        rnn.Backward(gradOutput, gradHn, gradInput, gradH0);

        // The masks the forward drew: per layer above the first, per time-major row, D·H factors.
        var generator = new DropoutGenerator(99);
        var masks = new List<float[]>();
        for (int l = 1; l < config.NumLayers; l++)
        {
            var mask = new float[seqLen * batch * config.Directions * config.HiddenSize];
            if (config.Dropout > 0)
                for (int r = 0; r < seqLen * batch; r++)
                    generator.FillMask(mask.AsSpan(r * config.Directions * config.HiddenSize, config.Directions * config.HiddenSize), (float)config.Dropout);
            else
                Array.Fill(mask, 1f);
            masks.Add(mask);
        }

        var reference = new DoubleReference(config, rnn.Parameters);
        double[] p = rnn.Parameters.AsReadOnlySpan().ToArray().Select(v => (double)v).ToArray();
        double[] x = input.Select(v => (double)v).ToArray(), s0 = h0.Select(v => (double)v).ToArray();
        double Loss() => reference.Loss(p, x, seqLen, batch, s0, gradOutput, gradHn, masks);
        double[] Numeric(double[] values)
        {
            const double h = 1e-6;
            var result = new double[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                double keep = values[i];
                values[i] = keep + h;
                double plus = Loss();
                values[i] = keep - h;
                double minus = Loss();
                values[i] = keep;
                result[i] = (plus - minus) / (2 * h);
            }
            return result;
        }

        float[] ToFloat(double[] v) => v.Select(d => (float)d).ToArray();
        double[] numericParameters = Numeric(p);
        int offset = 0;
        foreach (string name in rnn.Parameters.Names)
        {
            int n = rnn.Parameters.GetReadOnly(name).Length;
            double err = Numerics.RelativeNormError(rnn.Gradients.GetReadOnly(name), ToFloat(numericParameters[offset..(offset + n)]));
            Assert.That(err, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: {name}");
            offset += n;
        }
        Assert.That(Numerics.RelativeNormError(gradInput, ToFloat(Numeric(x))), Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: input");
        Assert.That(Numerics.RelativeNormError(gradH0, ToFloat(Numeric(s0))), Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {_seed}: h0");
    }

    [Test]
    public void DropoutMaskRateAndScaleAreRight()
    {
        const int n = 1_000_000;
        foreach (float p in new[] { 0.1f, 0.3f, 0.5f })
        {
            var mask = new float[n];
            new DropoutGenerator(_seed).FillMask(mask, p);
            int zeros = mask.Count(v => v == 0f);
            double sigma = Math.Sqrt(p * (1 - p) / n);
            Assert.That((double)zeros / n, Is.EqualTo(p).Within(5 * sigma), $"p = {p}");
            Assert.That(mask.Where(v => v != 0f), Is.All.EqualTo(1f / (1f - p)), "kept values are scaled by 1/(1-p)");
        }
    }

    [Test]
    public void DropoutAppliesInTrainingOnlyAndFollowsTheSeed()
    {
        var rnn = new TwoLayerRnn(1); // Dropout = 0.25 between its two layers
        float[] x = Numerics.Uniform(new Random(_seed), 6 * 3 * 5);
        float[] Run(bool training, int? seed = null)
        {
            if (seed is int s)
                rnn.SeedDropout(s);
            var output = new float[6 * 3 * 33];
            rnn.Forward(x, 6, 3, output, new float[2 * 3 * 33], default, training);
            return output;
        }

        float[] eval = Run(false);
        Assert.That(Run(false), Is.EqualTo(eval), "inference never drops");
        float[] a = Run(true, 5), b = Run(true, 5), c = Run(true, 6);
        Assert.That(b, Is.EqualTo(a), "same seed, same masks");
        Assert.That(c, Is.Not.EqualTo(a), "another seed, other masks");
        Assert.That(a, Is.Not.EqualTo(eval), "training drops");

        var noDropout = new Dynamic.Rnn(5, 33, numLayers: 2, dropout: 0, seed: 3);
        var (inference, _) = noDropout.Forward(x, 6, 3);
        var training = new float[inference.Length];
        noDropout.Forward(x, 6, 3, training, new float[2 * 3 * 33], default, training: true);
        Assert.That(training, Is.EqualTo(inference), "p = 0 is no dropout");
    }

    [Test]
    public void GeneratedAndGenericAgreeWithDropoutUnderTheSameSeed()
    {
        var generated = new TwoLayerRnn(2);
        var generic = new Dynamic.Rnn(5, 33, numLayers: 2, dropout: 0.25, seed: 0);
        generic.Parameters.CopyFrom(generated.Parameters);
        var random = new Random(_seed);
        float[] x = Numerics.Uniform(random, 7 * 4 * 5), g = Numerics.Uniform(random, 7 * 4 * 33);
        (float[] Output, float[] Grads, float[] GradInput) Train(IRnnModule m)
        {
            var output = new float[g.Length];
            var gradInput = new float[x.Length];
            m.SeedDropout(42);
            m.ZeroGrad();
            m.Forward(x, 7, 4, output, new float[2 * 4 * 33], default, training: true);
            m.Backward(g, default, gradInput, default);
            return (output, m.Gradients.AsReadOnlySpan().ToArray(), gradInput);
        }
        var (o1, g1, d1) = Train(generated);
        var (o2, g2, d2) = Train(generic);
        Numerics.AssertClose(o1, o2, "output");
        Assert.That(Numerics.RelativeNormError(g1, g2), Is.LessThanOrEqualTo(Numerics.GradientTolerance), "parameter gradients");
        Assert.That(Numerics.RelativeNormError(d1, d2), Is.LessThanOrEqualTo(Numerics.GradientTolerance), "input gradient");
    }

    [Test]
    public void BackwardWithoutAMatchingTrainingForwardIsRefused()
    {
        var rnn = new MixedRnn(1);
        float[] x = new float[3 * 2 * 3], output = new float[3 * 2 * 34], hN = new float[2 * 2 * 2 * 17];
        Assert.Throws<InvalidOperationException>(() => rnn.Backward(output, default, default, default), "no training forward");

        rnn.Forward(x, 3, 2, output, hN);
        Assert.Throws<InvalidOperationException>(() => rnn.Backward(output, default, default, default), "an inference forward records nothing");

        rnn.Forward(x, 3, 2, output, hN, training: true);
        Assert.DoesNotThrow(() => rnn.Backward(output, default, default, default));
        Assert.That(Assert.Throws<ArgumentException>(() => rnn.Backward(output.AsSpan(1), default, default, default))!.ParamName, Is.EqualTo("gradOutput"));
        Assert.That(Assert.Throws<ArgumentException>(() => rnn.Backward(output, default, new float[5], default))!.ParamName, Is.EqualTo("gradInput"));

        rnn.Forward(new float[2 * 2 * 3], 2, 2, new float[2 * 2 * 34], hN);
        var ex = Assert.Throws<InvalidOperationException>(() => rnn.Backward(output, default, default, default))!;
        TestContext.Out.WriteLine(ex.Message);

        rnn.Forward(x, 3, 2, output, hN, training: true);
        rnn.Parameters["weight_hh_l0"][0] = 0.5f;
        ex = Assert.Throws<InvalidOperationException>(() => rnn.Backward(output, default, default, default))!;
        Assert.That(ex.Message, Does.Contain("parameters changed"));

        var cell = new ReluCell(1);
        Assert.Throws<InvalidOperationException>(() => cell.Backward(new float[17], default, default));
    }

    [Test]
    public void ATrainingStepAllocatesNothing()
    {
        var rnn = new TwoLayerRnn(4);
        var head = new Dynamic.Linear(33, 1, seed: 1);
        var optimizer = new Adam(new[] { (rnn.Parameters, rnn.Gradients), (head.Parameters, head.Gradients) }, lr: 1e-3f);
        var clip = new[] { rnn.Gradients, head.Gradients };
        var random = new Random(_seed);
        const int T = 12, B = 4;
        float[] x = Numerics.Uniform(random, T * B * 5), target = Numerics.Uniform(random, B);
        float[] output = new float[T * B * 33], hN = new float[2 * B * 33], last = new float[B * 33], prediction = new float[B];
        float[] gradPrediction = new float[B], gradLast = new float[B * 33], gradOutput = new float[T * B * 33];
        void Step()
        {
            optimizer.ZeroGrad();
            rnn.Forward(x, T, B, output, hN, default, training: true);
            output.AsSpan((T - 1) * B * 33).CopyTo(last);
            head.Forward(last, B, prediction, training: true);
            TrainingFunctions.MseLoss(prediction, target, gradPrediction);
            head.Backward(gradPrediction, gradLast);
            gradLast.CopyTo(gradOutput.AsSpan((T - 1) * B * 33));
            rnn.Backward(gradOutput, default, default, default);
            TrainingFunctions.ClipGradNorm(clip, 1f);
            optimizer.Step();
        }
        Numerics.WarmUp(Step);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
            Step();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0), "bytes allocated by 50 training steps");
    }
}

using System;
using System.Text;
using NUnit.Framework;

namespace RnnGen.Tests.Support;

/// <summary>
/// The comparisons with PyTorch that RNN and GRU share (both are <see cref="IRnnModule"/> / <see cref="IRnnCellModule"/>):
/// forward within 1e-5 · max(1, |reference|) on unscaled inputs, and with dropout 0 the gradients of every parameter, the
/// input and h0 against autograd within 1e-4 relative (norm-wise), for loss = Σ output · gradOutput + Σ hN · gradHn with
/// random upstream gradients. LSTMs have their own (c as well as h), in LstmParityTests.
/// </summary>
/// <remarks>
/// Gradient inputs are scaled so that pre-activations have about unit spread at PyTorch's initialisation (bound
/// 1/√hidden): deep in tanh's saturation the gradient factor 1 − y² is ill-conditioned in float32 (an absolute error of
/// ~7e-7 from the last bits of y, ours and PyTorch's alike), so relative comparisons there measure rounding, not
/// correctness. The forward comparisons use unscaled inputs.
/// </remarks>
internal static class ParityChecks
{
    /// <summary>
    /// Every drawn sequence module of <paramref name="kind"/> (PyTorch's name, "RNN" or "GRU") against PyTorch: forward on
    /// every configuration, gradients on those with dropout 0; each on this machine's expected kernel path.
    /// </summary>
    public static void SequencesMatchPyTorch(string kind, int seed, Random random)
    {
        var report = new StringBuilder();
        double worstForward = 0, worstGradient = 0;
        int configurations = 0, gradients = 0;
        foreach (var (config, type) in DrawnModules.OfKind(kind))
        {
            var module = (IRnnModule)Activator.CreateInstance(type, random.Next())!;
            double forward = ForwardError(config, module, random, out string shape);
            worstForward = Math.Max(worstForward, forward);
            configurations++;
            report.AppendLine($"forward {forward:E2}  {config} {shape}");
            Assert.That(forward, Is.LessThanOrEqualTo(Numerics.ForwardTolerance), $"seed {seed}: forward {config} {shape}");
            Assert.That(module.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), $"seed {seed}: kernel path");
            if (config.Dropout != 0)
                continue;
            double gradient = AwayFromReluKinks(config, out string detail, (out string d) => GradientError(config, module, random, seed, out d));
            worstGradient = Math.Max(worstGradient, gradient);
            gradients++;
            report.AppendLine($"gradient {gradient:E2}  {config} {detail}");
            Assert.That(gradient, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {seed}: gradients {config} {detail}");
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {seed}, path {ExpectedPath.Get()}: {configurations} {kind} configurations, max scaled forward error vs PyTorch {worstForward:E2}; {gradients} with dropout 0, max relative gradient error vs autograd {worstGradient:E2}");
        Assert.That(configurations, Is.GreaterThan(0));
    }

    /// <summary>Every drawn cell of <paramref name="kind"/> ("RNNCell" or "GRUCell") against PyTorch: forward and gradients.</summary>
    public static void CellsMatchPyTorch(string kind, int seed, Random random)
    {
        var report = new StringBuilder();
        double worstForward = 0, worstGradient = 0;
        int configurations = 0;
        foreach (var (config, type) in DrawnModules.OfKind(kind))
        {
            var cell = (IRnnCellModule)Activator.CreateInstance(type, random.Next())!;
            double forward = CellForwardError(config, cell, random, out string shape);
            Assert.That(forward, Is.LessThanOrEqualTo(Numerics.ForwardTolerance), $"seed {seed}: forward {config} {shape}");
            Assert.That(cell.LastKernelPath, Is.EqualTo(ExpectedPath.Get()), $"seed {seed}: kernel path");
            double gradient = AwayFromReluKinks(config, out string detail, (out string d) => CellGradientError(config, cell, random, seed, out d));
            Assert.That(gradient, Is.LessThanOrEqualTo(Numerics.GradientTolerance), $"seed {seed}: gradients {config} {detail}");
            worstForward = Math.Max(worstForward, forward);
            worstGradient = Math.Max(worstGradient, gradient);
            configurations++;
            report.AppendLine($"forward {forward:E2} ({shape}), gradient {gradient:E2} ({detail})  {config}");
        }
        TestContext.Out.WriteLine(report.ToString());
        Report.Line($"seed {seed}, path {ExpectedPath.Get()}: {configurations} {kind} configurations, max scaled forward error vs PyTorch {worstForward:E2}, max relative gradient error vs autograd {worstGradient:E2}");
        Assert.That(configurations, Is.GreaterThan(0));
    }

    /// <summary>One inference forward against PyTorch's on random input, sequence length, batch and h0 (custom or default).</summary>
    public static double ForwardError(RnnConfig config, IRnnModule module, Random random, out string shape)
    {
        // Large shapes get shorter sequences so that the emulated and scalar re-runs stay quick.
        bool large = (long)config.HiddenSize * Math.Max(config.InputSize, config.HiddenSize) * config.NumLayers * config.Directions > 60_000;
        int seqLen = random.Next(1, large ? 9 : 21), batch = random.Next(1, large ? 5 : 9);
        bool customH0 = random.Next(2) == 1;
        int stateLength = config.NumLayers * config.Directions * batch * config.HiddenSize;
        float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, 2f);
        float[]? h0 = customH0 ? Numerics.Uniform(random, stateLength) : null;
        shape = $"seqLen {seqLen}, batch {batch}, h0 {(customH0 ? "custom" : "default")}";

        var output = new float[seqLen * batch * config.Directions * config.HiddenSize];
        var hN = new float[stateLength];
        module.Forward(input, seqLen, batch, output, hN, h0);
        var (refOutput, refHN) = Torch.RnnForward(config, module.Parameters, input, seqLen, batch, h0);
        return Math.Max(Numerics.MaxScaledError(output, refOutput), Numerics.MaxScaledError(hN, refHN));
    }

    /// <summary>One cell step against PyTorch's on random input, batch and hx (custom or default).</summary>
    public static double CellForwardError(RnnConfig config, IRnnCellModule cell, Random random, out string shape)
    {
        int batch = random.Next(1, 9);
        bool customHx = random.Next(2) == 1;
        float[] input = Numerics.Uniform(random, batch * config.InputSize, 2f);
        float[]? hx = customHx ? Numerics.Uniform(random, batch * config.HiddenSize) : null;
        shape = $"batch {batch}, hx {(customHx ? "custom" : "default")}";
        var hNext = new float[batch * config.HiddenSize];
        cell.Forward(input, batch, hx, hNext);
        return Numerics.MaxScaledError(hNext, Torch.CellForward(config, cell.Parameters, input, batch, hx));
    }

    /// <summary>
    /// A training forward and backward against autograd; returns the largest relative gradient error (input, parameters,
    /// h0 when given) and asserts the training forward's output and hN.
    /// </summary>
    public static double GradientError(RnnConfig config, IRnnModule module, Random random, int seed, out string detail)
    {
        bool large = (long)config.HiddenSize * Math.Max(config.InputSize, config.HiddenSize) * config.NumLayers * config.Directions > 60_000;
        int seqLen = random.Next(1, large ? 7 : 16), batch = random.Next(1, large ? 4 : 7);
        bool customH0 = random.Next(2) == 1, withGradHn = random.Next(2) == 1;
        int stateLength = config.NumLayers * config.Directions * batch * config.HiddenSize;
        float[] input = Numerics.Uniform(random, seqLen * batch * config.InputSize, InputBound(config));
        float[]? h0 = customH0 ? Numerics.Uniform(random, stateLength) : null;
        float[] gradOutput = Numerics.Uniform(random, seqLen * batch * config.Directions * config.HiddenSize);
        float[]? gradHn = withGradHn ? Numerics.Uniform(random, stateLength) : null;
        detail = $"seqLen {seqLen}, batch {batch}, h0 {(customH0 ? "custom" : "default")}, gradHn {(withGradHn ? "given" : "none")}";

        var output = new float[gradOutput.Length];
        var hN = new float[stateLength];
        var gradInput = new float[input.Length];
        var gradH0 = customH0 ? new float[stateLength] : Array.Empty<float>();
        module.ZeroGrad();
        module.Forward(input, seqLen, batch, output, hN, h0, training: true);
        module.Backward(gradOutput, gradHn, gradInput, gradH0);

        Torch.Gradients reference = Torch.RnnBackward(config, module.Parameters, input, seqLen, batch, h0, gradOutput, gradHn);
        Numerics.AssertClose(output, reference.Output, $"seed {seed}: training forward output {config} {detail}");
        Numerics.AssertClose(hN, reference.HN, $"seed {seed}: training forward hN {config} {detail}");
        double err = Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParameterError(module.Gradients, reference, out string which));
        if (customH0)
            err = Math.Max(err, Numerics.RelativeNormError(gradH0, reference.H0!));
        detail += $" (worst parameter {which})";
        return err;
    }

    private delegate double GradientDraw(out string detail);

    /// <summary>
    /// One gradient comparison, and for a ReLU module a second draw of inputs where the first misses the tolerance. ReLU
    /// has no derivative at 0, and two correct float32 computations can put a pre-activation within rounding of 0 on
    /// either side of it: in one CI run (seed 1844820715, a three-layer ReLU RNN) one output was 2.98e-8 in PyTorch and 0
    /// here, on every kernel path; that unit's derivative flipped (1 there, 0 here) and the difference ran back through
    /// the time steps into most of a bias's gradient (3.7e-2 relative). Such a draw is rare (none in 160 runs of the RNN
    /// test over fixed seeds), two in a row rarer still, while a wrong ReLU gradient misses on every draw. The first
    /// draw's error is kept in the detail.
    /// </summary>
    private static double AwayFromReluKinks(RnnConfig config, out string detail, GradientDraw draw)
    {
        double gradient = draw(out detail);
        if (gradient <= Numerics.GradientTolerance || config.Nonlinearity != Nonlinearity.Relu)
            return gradient;
        string first = $"{detail}: {gradient:E2}";
        gradient = draw(out detail);
        detail += $"; redrawn after a first draw ({first})";
        TestContext.Out.WriteLine($"ReLU kink redrawn: {config} {detail}");
        return gradient;
    }

    /// <summary>A training step and backward against autograd; returns the largest relative gradient error and asserts hNext.</summary>
    public static double CellGradientError(RnnConfig config, IRnnCellModule cell, Random random, int seed, out string detail)
    {
        int batch = random.Next(1, 9);
        bool customHx = random.Next(2) == 1;
        float[] input = Numerics.Uniform(random, batch * config.InputSize, InputBound(config));
        float[]? hx = customHx ? Numerics.Uniform(random, batch * config.HiddenSize) : null;
        float[] gradHNext = Numerics.Uniform(random, batch * config.HiddenSize);
        var hNext = new float[batch * config.HiddenSize];
        var gradInput = new float[input.Length];
        var gradHx = customHx ? new float[hNext.Length] : Array.Empty<float>();
        cell.ZeroGrad();
        cell.Forward(input, batch, hx, hNext, training: true);
        cell.Backward(gradHNext, gradInput, gradHx);
        Torch.Gradients reference = Torch.CellBackward(config, cell.Parameters, input, batch, hx, gradHNext);
        detail = $"batch {batch}, hx {(customHx ? "custom" : "default")}";
        double err = Math.Max(Numerics.RelativeNormError(gradInput, reference.Input), ParameterError(cell.Gradients, reference, out string which));
        if (customHx)
            err = Math.Max(err, Numerics.RelativeNormError(gradHx, reference.H0!));
        Numerics.AssertClose(hNext, reference.Output, $"seed {seed}: training forward {config} {detail}");
        detail += $" (worst parameter {which})";
        return err;
    }

    /// <summary>An input bound giving pre-activations of about unit spread: x·W has spread b·√(K/H)/3.</summary>
    public static float InputBound(RnnConfig config) => MathF.Min(2f, 3f * MathF.Sqrt((float)config.HiddenSize / config.InputSize));

    /// <summary>The largest relative error over the parameter gradients, and which parameter it is.</summary>
    public static double ParameterError(ParameterSet gradients, Torch.Gradients reference, out string worstName)
    {
        double worst = 0;
        worstName = "";
        foreach (string name in gradients.Names)
        {
            double err = Numerics.RelativeNormError(gradients.GetReadOnly(name), reference.Parameters[name]);
            if (err >= worst)
            {
                worst = err;
                worstName = name;
            }
        }
        return worst;
    }

    /// <summary>The largest relative error over the parameter gradients.</summary>
    public static double ParameterError(ParameterSet gradients, Torch.Gradients reference) => ParameterError(gradients, reference, out _);
}

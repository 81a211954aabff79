using System;
using NUnit.Framework;
using RnnGen.Tests.Support;

namespace RnnGen.Tests;

/// <summary>
/// Generated GRUs and GRU cells against PyTorch 2.10 on this run's random configurations (torch.nn.GRU, torch.nn.GRUCell;
/// gate rows r, z, n with b_hn inside the reset product): output and hN within 1e-5 · max(1, |reference|), and with dropout
/// 0 the gradients of every parameter, the input and h0 against autograd within 1e-4 relative (norm-wise;
/// <see cref="ParityChecks"/>); and the GRUs declared in this project against the generic kernels.
/// </summary>
[Category("Numeric")]
[NonParallelizable]
public class GruParityTests
{
    private readonly int _seed = DrawnModules.Seed;

    [Test]
    public void RandomGruConfigurationsMatchPyTorch() => ParityChecks.SequencesMatchPyTorch("GRU", _seed, new Random(_seed ^ 0x6e0));

    [Test]
    public void RandomGruCellConfigurationsMatchPyTorch() => ParityChecks.CellsMatchPyTorch("GRUCell", _seed, new Random(_seed ^ 0x6ec1));

    [Test]
    public void DeclaredGrusMatchTheGenericKernelsAndCarryStateInPlace()
    {
        var random = new Random(_seed);
        var gru = new DeepGru(random.Next());
        var reference = new Dynamic.Gru(17, 100, numLayers: 2, bidirectional: true, seed: 0);
        reference.Parameters.CopyFrom(gru.Parameters);
        float[] x = Numerics.Uniform(random, 6 * 3 * 17), h = Numerics.Uniform(random, 4 * 3 * 100);
        var (output, hN) = gru.Forward(x, 6, 3, h);
        var (refOutput, refHN) = reference.Forward(x, 6, 3, h);
        Numerics.AssertClose(output, refOutput, "output");
        Numerics.AssertClose(hN, refHN, "hN");
        var inPlace = new float[output.Length];
        gru.Forward(x, 6, 3, inPlace, h, h);
        Assert.That(inPlace, Is.EqualTo(output));
        Assert.That(h, Is.EqualTo(hN));

        var cell = new AmpGruCell(1);
        var cellReference = new Dynamic.GruCell(1, 32, seed: 0);
        cellReference.Parameters.CopyFrom(cell.Parameters);
        float[] sample = new float[1], state = new float[32];
        for (int t = 0; t < 20; t++)
        {
            sample[0] = MathF.Cos(t);
            float[] expected = cellReference.Forward(sample, 1, state);
            cell.Forward(sample, 1, state, state);
            Numerics.AssertClose(state, expected, $"h at step {t}");
        }
        Assert.That(cell.LastKernelPath, Is.EqualTo(ExpectedPath.Get()));
    }
}

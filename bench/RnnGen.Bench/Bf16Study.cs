using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using RnnGen.Bench.Peers;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Bench;

/// <summary>
/// The "Streaming at the limit" study of an opt-in BF16 weight copy for <c>LSTM(100→200)</c>'s one step, whose
/// weights (W_ih and W_hh: 800 × 300 floats, 960 KB; 998 KB packed) stream from L2 each step. Speed: the step's product
/// <c>pre[800] = x[300] · Wᵀ</c> over float32 panels against the same panels in bfloat16 (half the bytes), widened to float32
/// in registers (.NET 10 exposes no <c>vdpbf16ps</c>: zero-extend the halves to 32 bits and shift them up, then the
/// same fused multiply-adds); one row, register tiles of four vectors and two sets of accumulators, in the order the generated step reads them. The
/// error is <see cref="Error"/> (probe <c>bf16</c>): the module's float kernels on BF16-rounded weights against
/// PyTorch's float step on the original weights. Not in the compare table: it is a study, run by filter.
/// </summary>
public class Bf16Study
{
    // 100 inputs + 200 state; 4 gates × 200 units padded to 208 (whole vectors), as the AVX-512 step packs them.
    private const int Inputs = 300, Columns = 832, Tile = 64; // 4 vectors of 16 floats

    private float[] _x = null!, _w = null!, _out = null!;
    private ushort[] _w16 = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _x = Enumerable.Range(0, Inputs).Select(_ => random.NextSingle() - 0.5f).ToArray();
        _w = Enumerable.Range(0, Inputs * Columns).Select(_ => (random.NextSingle() - 0.5f) * 0.1f).ToArray();
        _w16 = _w.Select(ToBf16).ToArray();
        _out = new float[Columns];
        Float32();
        float[] a = (float[])_out.Clone();
        Bfloat16();
        for (int i = 0; i < Columns; i++)
            if (MathF.Abs(a[i] - _out[i]) > 0.02f * (1 + MathF.Abs(a[i])))
                throw new InvalidOperationException($"bf16 product {i}: {_out[i]}, float32 {a[i]}");
    }

    [Benchmark(Baseline = true, Description = "float32 weights (998 KB)")]
    public float Float32()
    {
        if (!Avx512F.IsSupported) throw new PlatformNotSupportedException("AVX-512");
        ref float x = ref _x[0];
        for (int col = 0; col < Columns; col += Tile)
        {
            ref float w = ref _w[col * Inputs]; // panel: Inputs rows of the tile's 64 columns
            // Two sets of accumulators (even and odd k), as the generated steps deal products: eight FMA chains.
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (int k = 0; k < Inputs; k += 2)
            {
                var xk = Vector512.Create(Unsafe.Add(ref x, k));
                a0 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref w), a0);
                a1 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref w, 16), a1);
                a2 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref w, 32), a2);
                a3 = Vector512.FusedMultiplyAdd(xk, Vector512.LoadUnsafe(ref w, 48), a3);
                var xl = Vector512.Create(Unsafe.Add(ref x, k + 1));
                b0 = Vector512.FusedMultiplyAdd(xl, Vector512.LoadUnsafe(ref w, 64), b0);
                b1 = Vector512.FusedMultiplyAdd(xl, Vector512.LoadUnsafe(ref w, 80), b1);
                b2 = Vector512.FusedMultiplyAdd(xl, Vector512.LoadUnsafe(ref w, 96), b2);
                b3 = Vector512.FusedMultiplyAdd(xl, Vector512.LoadUnsafe(ref w, 112), b3);
                w = ref Unsafe.Add(ref w, 2 * Tile);
            }
            Store(col, a0 + b0, a1 + b1, a2 + b2, a3 + b3);
        }
        return _out[0];
    }

    [Benchmark(Description = "bfloat16 weights (499 KB), widened in registers")]
    public float Bfloat16()
    {
        if (!Avx512F.IsSupported) throw new PlatformNotSupportedException("AVX-512");
        ref float x = ref _x[0];
        for (int col = 0; col < Columns; col += Tile)
        {
            ref ushort w = ref _w16[col * Inputs];
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (int k = 0; k < Inputs; k += 2)
            {
                var xk = Vector512.Create(Unsafe.Add(ref x, k));
                Vector512<ushort> low = Vector512.LoadUnsafe(ref w), high = Vector512.LoadUnsafe(ref w, 32);
                a0 = Vector512.FusedMultiplyAdd(xk, Widen(Vector512.WidenLower(low)), a0);
                a1 = Vector512.FusedMultiplyAdd(xk, Widen(Vector512.WidenUpper(low)), a1);
                a2 = Vector512.FusedMultiplyAdd(xk, Widen(Vector512.WidenLower(high)), a2);
                a3 = Vector512.FusedMultiplyAdd(xk, Widen(Vector512.WidenUpper(high)), a3);
                var xl = Vector512.Create(Unsafe.Add(ref x, k + 1));
                low = Vector512.LoadUnsafe(ref w, 64);
                high = Vector512.LoadUnsafe(ref w, 96);
                b0 = Vector512.FusedMultiplyAdd(xl, Widen(Vector512.WidenLower(low)), b0);
                b1 = Vector512.FusedMultiplyAdd(xl, Widen(Vector512.WidenUpper(low)), b1);
                b2 = Vector512.FusedMultiplyAdd(xl, Widen(Vector512.WidenLower(high)), b2);
                b3 = Vector512.FusedMultiplyAdd(xl, Widen(Vector512.WidenUpper(high)), b3);
                w = ref Unsafe.Add(ref w, 2 * Tile);
            }
            Store(col, a0 + b0, a1 + b1, a2 + b2, a3 + b3);
        }
        return _out[0];
    }

    /// <summary>bfloat16 halves, zero-extended to 32 bits, are the high halves of their float32 values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(Vector512<uint> halves) => Vector512.ShiftLeft(halves, 16).AsSingle();

    private void Store(int col, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
    {
        a0.StoreUnsafe(ref _out[col]);
        a1.StoreUnsafe(ref _out[col], 16);
        a2.StoreUnsafe(ref _out[col], 32);
        a3.StoreUnsafe(ref _out[col], 48);
    }

    /// <summary>float32 → bfloat16, rounding to nearest even (finite inputs).</summary>
    private static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    private static float FromBf16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>
    /// One step of <c>Lstm(100, 200)</c> from random h0, c0 and input: RnnGen with every parameter rounded to bfloat16,
    /// against PyTorch's float step with the original parameters; prints the largest absolute and relative differences
    /// of h1 and c1, and, as the floor, RnnGen's float step against the same PyTorch step.
    /// </summary>
    public static void Error()
    {
        TorchPeer.SingleThreaded();
        var module = new Lstm100x200(seed: 5);
        var random = new Random(7);
        float[] x = Enumerable.Range(0, 100).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        float[] h0 = Enumerable.Range(0, 200).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        float[] c0 = Enumerable.Range(0, 200).Select(_ => random.NextSingle() * 2 - 1).ToArray();

        var torchLstm = TorchPeer.Load(nn.LSTM(100, 200), module.Parameters);
        var (_, th, tc) = torchLstm.forward(torch.tensor(x, new long[] { 1, 1, 100 }),
            (torch.tensor(h0, new long[] { 1, 1, 200 }), torch.tensor(c0, new long[] { 1, 1, 200 })));
        float[] hTorch = TorchPeer.ToArray(th), cTorch = TorchPeer.ToArray(tc);

        (float[] H, float[] C) Step()
        {
            float[] output = new float[200], h = new float[200], c = new float[200];
            module.Forward(x, 1, 1, output, h, c, h0, c0);
            return (h, c);
        }
        var (hFloat, cFloat) = Step();
        Span<float> parameters = module.Parameters.AsSpan();
        for (int i = 0; i < parameters.Length; i++)
            parameters[i] = FromBf16(ToBf16(parameters[i]));
        var (hBf16, cBf16) = Step();

        static string Diff(float[] a, float[] b)
        {
            double abs = 0, largest = 0;
            for (int i = 0; i < a.Length; i++)
            {
                abs = Math.Max(abs, Math.Abs(a[i] - b[i]));
                largest = Math.Max(largest, Math.Abs(b[i]));
            }
            return FormattableString.Invariant($"max |diff| {abs:E2} ({abs / largest:E2} of the largest |value|, {largest:F3})");
        }
        Console.WriteLine($"Lstm(100, 200), one step from random h0, c0, x (seed 5/7), against PyTorch {torch.__version__} float32:");
        Console.WriteLine($"  float32 weights: h1 {Diff(hFloat, hTorch)}; c1 {Diff(cFloat, cTorch)}");
        Console.WriteLine($"  bfloat16 weights: h1 {Diff(hBf16, hTorch)}; c1 {Diff(cBf16, cTorch)}");
    }
}

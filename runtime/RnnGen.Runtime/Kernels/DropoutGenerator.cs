using System;
using System.ComponentModel;

namespace RnnGen.__Internals;

/// <summary>
/// The random source of dropout masks: xoshiro128** (Blackman and Vigna), seeded through SplitMix64, so a
/// seed gives the same masks on every machine and .NET version (unlike <see cref="Random"/>'s unseeded form).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DropoutGenerator
{
    private uint _s0, _s1, _s2, _s3;

    /// <summary>A generator in the state <paramref name="seed"/> selects.</summary>
    public DropoutGenerator(long seed) => Reseed(seed);

    /// <summary>Restarts the sequence from <paramref name="seed"/>.</summary>
    public void Reseed(long seed)
    {
        ulong x = unchecked((ulong)seed);
        ulong a = SplitMix(ref x), b = SplitMix(ref x);
        _s0 = (uint)a; _s1 = (uint)(a >> 32); _s2 = (uint)b; _s3 = (uint)(b >> 32);
        if ((_s0 | _s1 | _s2 | _s3) == 0)
            _s0 = 1;
    }

    /// <summary>A float uniform in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt32() >> 8) * (1f / (1 << 24));

    /// <summary>
    /// Fills <paramref name="mask"/> with inverted dropout factors: 0 with probability <paramref name="p"/>,
    /// else 1 / (1 − p), as PyTorch scales kept activations in training.
    /// </summary>
    public void FillMask(Span<float> mask, float p)
    {
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++)
            mask[i] = NextSingle() < p ? 0f : keep;
    }

    private uint NextUInt32()
    {
        uint result = BitRotate(_s1 * 5, 7) * 9;
        uint t = _s1 << 9;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitRotate(_s3, 11);
        return result;
    }

    private static uint BitRotate(uint x, int k) => (x << k) | (x >> (32 - k));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

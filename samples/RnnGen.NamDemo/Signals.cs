using System;

namespace RnnGen.NamDemo;

/// <summary>Test signals for an amp model.</summary>
internal static class Signals
{
    /// <summary>
    /// Karplus–Strong plucked strings: a delay line of one period filled with noise, fed back through a two-point
    /// average (a low-pass that makes the tone decay as a string does). A few notes of a riff, one every half second,
    /// peaking near 0.5: a guitar's level at an amp's input.
    /// </summary>
    public static float[] PluckedStrings(int sampleRate, double seconds, int seed)
    {
        double[] notes = { 82.41, 110.00, 146.83, 110.00, 98.00, 123.47, 164.81, 82.41 }; // E2 A2 D3 A2 G2 B2 E3 E2
        var random = new Random(seed);
        var signal = new float[(int)(seconds * sampleRate)];
        int noteLength = sampleRate / 2;
        for (int n = 0; n * noteLength < signal.Length; n++)
        {
            int period = (int)Math.Round(sampleRate / notes[n % notes.Length]);
            var delay = new float[period];
            for (int i = 0; i < period; i++)
                delay[i] = (float)(random.NextDouble() * 2 - 1);
            for (int pass = 0; pass < 4; pass++) // a softer pick: low-pass the noise burst
                for (int i = 0; i < period; i++)
                    delay[i] = 0.5f * (delay[i] + delay[(i + 1) % period]);
            int end = Math.Min(signal.Length, (n + 1) * noteLength + sampleRate / 4); // let it ring into the next note
            for (int i = n * noteLength, k = 0; i < end; i++, k++)
            {
                int j = k % period;
                float next = delay[(j + 1) % period];
                signal[i] += 0.8f * delay[j];
                delay[j] = 0.996f * 0.5f * (delay[j] + next);
            }
        }
        return signal;
    }
}

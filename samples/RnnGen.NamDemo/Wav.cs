using System;
using System.Buffers.Binary;
using System.IO;

namespace RnnGen.NamDemo;

/// <summary>A minimal 16-bit PCM WAV writer and reader (RIFF, "fmt " chunk of 16 bytes, "data" chunk), stereo.</summary>
internal static class Wav
{
    public static float Clip(float x) => Math.Clamp(x, -1f, 1f);

    public static void WriteStereo16(string path, int sampleRate, ReadOnlySpan<float> left, ReadOnlySpan<float> right)
    {
        if (left.Length != right.Length)
            throw new ArgumentException("The channels must have the same length.", nameof(right));
        const int Channels = 2, BytesPerSample = 2;
        int dataBytes = left.Length * Channels * BytesPerSample;
        var bytes = new byte[44 + dataBytes];
        Span<byte> b = bytes;
        "RIFF"u8.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], 36 + dataBytes);
        "WAVE"u8.CopyTo(b[8..]);
        "fmt "u8.CopyTo(b[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(b[16..], 16);                                   // chunk size
        BinaryPrimitives.WriteInt16LittleEndian(b[20..], 1);                                    // PCM
        BinaryPrimitives.WriteInt16LittleEndian(b[22..], Channels);
        BinaryPrimitives.WriteInt32LittleEndian(b[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(b[28..], sampleRate * Channels * BytesPerSample); // bytes per second
        BinaryPrimitives.WriteInt16LittleEndian(b[32..], Channels * BytesPerSample);            // block align
        BinaryPrimitives.WriteInt16LittleEndian(b[34..], 8 * BytesPerSample);                   // bits per sample
        "data"u8.CopyTo(b[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(b[40..], dataBytes);
        for (int i = 0; i < left.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(b[(44 + 4 * i)..], ToPcm(left[i]));
            BinaryPrimitives.WriteInt16LittleEndian(b[(46 + 4 * i)..], ToPcm(right[i]));
        }
        File.WriteAllBytes(path, bytes);
    }

    public static (int SampleRate, float[] Left, float[] Right) ReadStereo16(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        ReadOnlySpan<byte> b = bytes;
        if (b.Length < 12 || !b[..4].SequenceEqual("RIFF"u8) || !b[8..12].SequenceEqual("WAVE"u8))
            throw new InvalidDataException($"'{path}' is not a RIFF/WAVE file.");
        int sampleRate = 0;
        int at = 12;
        while (at + 8 <= b.Length)
        {
            ReadOnlySpan<byte> id = b.Slice(at, 4);
            int size = BinaryPrimitives.ReadInt32LittleEndian(b[(at + 4)..]);
            if (size < 0 || at + 8 + (long)size > b.Length)
                throw new InvalidDataException($"'{path}': a chunk runs past the end of the file.");
            ReadOnlySpan<byte> body = b.Slice(at + 8, size);
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || BinaryPrimitives.ReadInt16LittleEndian(body) != 1 || BinaryPrimitives.ReadInt16LittleEndian(body[2..]) != 2
                    || BinaryPrimitives.ReadInt16LittleEndian(body[14..]) != 16)
                    throw new InvalidDataException($"'{path}' is not 16-bit stereo PCM.");
                sampleRate = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (sampleRate == 0)
                    throw new InvalidDataException($"'{path}': the data chunk comes before the format chunk.");
                int frames = size / 4;
                var left = new float[frames];
                var right = new float[frames];
                for (int i = 0; i < frames; i++)
                {
                    left[i] = BinaryPrimitives.ReadInt16LittleEndian(body[(4 * i)..]) / 32767f;
                    right[i] = BinaryPrimitives.ReadInt16LittleEndian(body[(4 * i + 2)..]) / 32767f;
                }
                return (sampleRate, left, right);
            }
            at += 8 + size + (size & 1); // chunks are padded to even sizes
        }
        throw new InvalidDataException($"'{path}' has no data chunk.");
    }

    private static short ToPcm(float x) => (short)MathF.Round(Clip(x) * 32767f);
}

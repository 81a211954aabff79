using System;
using System.Buffers.Binary;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using static RnnGen.Tests.Support.SafetensorsBuilder;

namespace RnnGen.Tests.Support;

/// <summary>
/// The mutations of safetensors files that the fuzz tests apply (SafetensorsFuzzTests, and RnnGen.Generator.Tests'
/// WeightsHeaderTests, which compares the generator's reader with the runtime's); each returns a new array.
/// </summary>
internal static class SafetensorsMutator
{
    private static readonly byte[] s_interestingBytes = "{}[],:\"-.0189eE \t\n\\u"u8.ToArray().Concat(new byte[] { 0x00, 0x7f, 0x80, 0xc3, 0xef, 0xff }).ToArray();

    private static readonly ulong[] s_interestingLengths =
    {
        0, 1, 2, 7, 8, 9, 100_000_000, 100_000_001, uint.MaxValue, (ulong)uint.MaxValue + 1, long.MaxValue, ulong.MaxValue, ulong.MaxValue - 7,
    };

    private static readonly string[] s_interestingNumbers =
    {
        "0", "1", "2", "3", "4", "7", "8", "12", "16", "-1", "-0", "1.0", "1e3", "0.5", "255", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999999",
        "1099511627776", "4611686018427387904", "00", "01", "+1", "NaN", "null", "\"8\"", "[]",
    };

    private static readonly string[] s_dtypes =
    {
        "F32", "F16", "BF16", "F64", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0",
        "F4", "F6_E2M3", "F6_E3M2", "C64", "f32", "F31", "", "float32",
    };

    private static readonly string[] s_shapes =
    {
        "[]", "[0]", "[1]", "[0,3]", "[4294967296,4294967296]", "[18446744073709551615,0]", "[0,18446744073709551615]",
        "[18446744073709551615,18446744073709551615,0]", "[9223372036854775807]", "[1,1,1,1,1,1,1,1,1,1,1,1]", "[-1]", "[2.5]", "[\"3\"]", "[[1]]", "{}", "3",
    };

    private static readonly string[] s_tokens =
    {
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "0", "-", "\\", "\"__metadata__\":{}", "\"dtype\":\"F32\",", "\"shape\":[1],",
        "\"data_offsets\":[0,4],", "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},", "\uFEFF", "\u00e9", "/*", "\\ud800",
    };

    private static readonly Regex s_number = new(@"-?\d+(\.\d+)?([eE][+-]?\d+)?", RegexOptions.Compiled);
    private static readonly Regex s_dtype = new("\"dtype\":\"[^\"]*\"", RegexOptions.Compiled);
    private static readonly Regex s_shape = new(@"""shape"":\[[^\]]*\]", RegexOptions.Compiled);
    private static readonly Regex s_offsets = new(@"""data_offsets"":\[[^\]]*\]", RegexOptions.Compiled);
    private static readonly Regex s_field = new(@"""(dtype|shape|data_offsets)"":(\[[^\]]*\]|""[^""]*""),?", RegexOptions.Compiled);
    private static readonly Regex s_entry = new(@"""[^""]*"":\{""dtype""[^}]*\}", RegexOptions.Compiled);

    public static byte[] Mutate(Random random, byte[] seed, byte[] other)
    {
        if (random.Next(8) == 0)
            return MutateData(random, seed);
        byte[] bytes = seed;
        int count = 1 + random.Next(3);
        for (int m = 0; m < count; m++)
            bytes = random.Next(2) == 0 ? MutateHeader(random, bytes) : MutateBytes(random, bytes, other);
        return bytes;
    }

    /// <summary>Random bytes in the data buffer only: the file stays valid, the values change (NaN, infinities, subnormals).</summary>
    private static byte[] MutateData(Random random, byte[] seed)
    {
        byte[] b = (byte[])seed.Clone();
        int start = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(b);
        for (int n = 1 + random.Next(8); n > 0 && start < b.Length; n--)
            b[random.Next(start, b.Length)] = (byte)random.Next(256);
        return b;
    }

    private static byte[] MutateBytes(Random random, byte[] bytes, byte[] other)
    {
        byte[] b = (byte[])bytes.Clone();
        int headerEnd = b.Length >= 8 ? (int)Math.Min((ulong)b.Length, 8 + Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(b), (ulong)b.Length)) : b.Length;
        int Position() => b.Length == 0 ? 0 : random.Next(5) < 4 && headerEnd > 0 ? random.Next(headerEnd) : random.Next(b.Length);
        switch (random.Next(8))
        {
            case 0 when b.Length > 0:
                b[Position()] ^= (byte)(1 << random.Next(8));
                return b;
            case 1 when b.Length > 0:
                b[Position()] = s_interestingBytes[random.Next(s_interestingBytes.Length)];
                return b;
            case 2:
                return b[..random.Next(b.Length + 1)];
            case 3:
                return b[..random.Next(b.Length + 1)].Concat(other[random.Next(other.Length + 1)..]).ToArray();
            case 4 when b.Length >= 8:
                ulong length = random.Next(2) == 0
                    ? s_interestingLengths[random.Next(s_interestingLengths.Length)]
                    : (ulong)((long)BinaryPrimitives.ReadUInt64LittleEndian(b) + random.Next(-9, 10));
                BinaryPrimitives.WriteUInt64LittleEndian(b, length);
                return b;
            case 5:
            {
                int at = random.Next(b.Length + 1);
                var insert = new byte[1 + random.Next(16)];
                random.NextBytes(insert);
                return b[..at].Concat(insert).Concat(b[at..]).ToArray();
            }
            case 6 when b.Length > 0:
            {
                int at = random.Next(b.Length);
                return b[..at].Concat(b[Math.Min(b.Length, at + 1 + random.Next(16))..]).ToArray();
            }
            default:
                if (b.Length > 0)
                    b[random.Next(b.Length)] = (byte)random.Next(256);
                return b;
        }
    }

    /// <summary>Edits the JSON text of the header, then writes its true length (mostly) or a lie.</summary>
    private static byte[] MutateHeader(Random random, byte[] bytes)
    {
        if (bytes.Length < 8)
            return bytes;
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (declared > (ulong)(bytes.Length - 8))
            return bytes;
        string header = Encoding.UTF8.GetString(bytes, 8, (int)declared);
        byte[] data = bytes[(8 + (int)declared)..];
        header = random.Next(10) switch
        {
            0 or 1 => Fuzzing.ReplaceOne(random, header, s_number, _ => s_interestingNumbers[random.Next(s_interestingNumbers.Length)]),
            2 => Fuzzing.ReplaceOne(random, header, s_number, m => ulong.TryParse(m.Value, out ulong v) ? (v + (ulong)random.Next(1, 9) * (random.Next(2) == 0 ? 1UL : ulong.MaxValue)).ToString() : m.Value),
            3 => Fuzzing.ReplaceOne(random, header, s_dtype, _ => $"\"dtype\":\"{s_dtypes[random.Next(s_dtypes.Length)]}\""),
            4 => Fuzzing.ReplaceOne(random, header, s_shape, _ => $"\"shape\":{s_shapes[random.Next(s_shapes.Length)]}"),
            5 => Fuzzing.ReplaceOne(random, header, s_field, _ => ""),
            6 => Fuzzing.ReplaceOne(random, header, s_entry, m => m.Value + "," + m.Value),
            7 => SwapOffsets(random, header),
            8 => Fuzzing.Insert(random, header, s_tokens[random.Next(s_tokens.Length)]),
            _ => random.Next(2) == 0 && header.Length > 0
                ? header.Remove(random.Next(header.Length), 1)
                : Fuzzing.Insert(random, header, "\"deep\":" + new string('[', 100 + random.Next(60)) + new string(']', 100 + random.Next(60)) + ","),
        };
        byte[] text = Encoding.UTF8.GetBytes(header);
        if (random.Next(4) == 0)
            text = text.Concat(Enumerable.Repeat((byte)' ', random.Next(9))).ToArray();
        ulong length = random.Next(5) == 0 ? (ulong)(text.Length + random.Next(-3, 4)) : (ulong)text.Length;
        return Assemble(text, data, length);
    }

    private static string SwapOffsets(Random random, string text)
    {
        MatchCollection matches = s_offsets.Matches(text);
        if (matches.Count < 2)
            return text;
        int i = random.Next(matches.Count), j = random.Next(matches.Count);
        if (i == j)
            return text;
        (Match a, Match b) = i < j ? (matches[i], matches[j]) : (matches[j], matches[i]);
        return text[..a.Index] + b.Value + text[(a.Index + a.Length)..b.Index] + a.Value + text[(b.Index + b.Length)..];
    }
}

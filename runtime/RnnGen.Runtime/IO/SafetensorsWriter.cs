using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace RnnGen.IO;

/// <summary>
/// Writes float32 tensors laid out byte for byte as the reference writer (huggingface/safetensors,
/// <c>prepare</c> in tensor.rs, which Python's <c>save_file</c> calls) lays them out: tensors sorted by dtype
/// alignment descending, then by name (byte order of the UTF-8); the header compact serde_json (no spaces),
/// <c>__metadata__</c> first, each entry <c>{"dtype":..,"shape":[..],"data_offsets":[begin,end]}</c>, padded with
/// spaces to a multiple of 8 bytes; then the data, little-endian, back to back. The reference orders
/// <c>__metadata__</c>'s entries as a Rust HashMap happens to; here they are sorted by key, so the output is
/// deterministic and equal to the reference's whenever the metadata has at most one entry.
/// </summary>
internal static class SafetensorsWriter
{
    public readonly record struct Tensor(string Key, ParameterSet Parameters, string Name);

    public static byte[] Serialize(List<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        // All tensors are F32, one alignment class, so the order is by name alone.
        var keyed = new (byte[] Utf8, Tensor Tensor)[tensors.Count];
        for (int i = 0; i < keyed.Length; i++)
            keyed[i] = (Encoding.UTF8.GetBytes(tensors[i].Key), tensors[i]);
        Array.Sort(keyed, static (a, b) => a.Utf8.AsSpan().SequenceCompareTo(b.Utf8));

        var json = new StringBuilder();
        json.Append('{');
        bool first = true;
        if (metadata is not null)
        {
            var names = new List<string>(metadata.Keys);
            names.Sort(CompareUtf8);
            json.Append("\"__metadata__\":{");
            for (int i = 0; i < names.Count; i++)
            {
                if (i > 0)
                    json.Append(',');
                AppendString(json, names[i]);
                json.Append(':');
                AppendString(json, metadata[names[i]]);
            }
            json.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var (_, t) in keyed)
        {
            if (!first)
                json.Append(',');
            first = false;
            AppendString(json, t.Key);
            json.Append(":{\"dtype\":\"F32\",\"shape\":[");
            ReadOnlySpan<int> shape = t.Parameters.GetShape(t.Name);
            for (int d = 0; d < shape.Length; d++)
            {
                if (d > 0)
                    json.Append(',');
                AppendNumber(json, shape[d]);
            }
            long bytes = 4L * t.Parameters.GetReadOnly(t.Name).Length;
            json.Append("],\"data_offsets\":[");
            AppendNumber(json, offset);
            json.Append(',');
            AppendNumber(json, offset + bytes);
            json.Append("]}");
            offset += bytes;
        }
        json.Append('}');

        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        int padded = (header.Length + 7) / 8 * 8;
        var file = new byte[checked(8 + padded + (int)offset)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        header.CopyTo(file.AsSpan(8));
        file.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        Span<byte> data = file.AsSpan(8 + padded);
        foreach (var (_, t) in keyed)
        {
            ReadOnlySpan<float> values = t.Parameters.GetReadOnly(t.Name);
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(values).CopyTo(data);
            }
            else
            {
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(data.Slice(4 * i, 4), values[i]);
            }
            data = data[(4 * values.Length)..];
        }
        return file;
    }

    private static void AppendNumber(StringBuilder json, long value) =>
        json.Append(value.ToString(CultureInfo.InvariantCulture));

    private static int CompareUtf8(string a, string b) =>
        Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));

    /// <summary>A JSON string as serde_json writes it: only '"', '\' and control characters escaped; \u00xx in lower-case hex.</summary>
    private static void AppendString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                case < ' ': json.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: json.Append(c); break;
            }
        }
        json.Append('"');
    }
}

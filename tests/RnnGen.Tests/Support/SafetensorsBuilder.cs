using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace RnnGen.Tests.Support;

/// <summary>
/// Builds safetensors bytes by hand for the tests, independently of RnnGen's writer: entries in the order given,
/// offsets back to back unless stated, the header as written (no sorting, no escaping: keys are plain ASCII).
/// </summary>
internal static class SafetensorsBuilder
{
    public sealed record Tensor(string Key, string Dtype, long[] Shape, byte[] Data);

    public static Tensor F32(string key, long[] shape, Func<int, float> value)
    {
        int count = (int)shape.Aggregate(1L, (a, b) => a * b);
        var data = new byte[4 * count];
        for (int i = 0; i < count; i++)
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), value(i));
        return new Tensor(key, "F32", shape, data);
    }

    /// <summary>A tensor with the bytes of <paramref name="shape"/> × <paramref name="elementSize"/>, all set to <paramref name="fill"/>.</summary>
    public static Tensor Raw(string key, string dtype, long[] shape, int elementSize, byte fill = 0)
    {
        int count = (int)shape.Aggregate(1L, (a, b) => a * b);
        var data = new byte[elementSize * count];
        data.AsSpan().Fill(fill);
        return new Tensor(key, dtype, shape, data);
    }

    /// <summary>The state_dict of a module with these parameters, values from <paramref name="value"/>(parameter, element).</summary>
    public static List<Tensor> StateDict(ParameterSet parameters, string prefix, Func<int, int, float> value) =>
        parameters.Names.Select((name, p) => F32(prefix + name, parameters.GetShape(name).ToArray().Select(d => (long)d).ToArray(), i => value(p, i))).ToList();

    public static string HeaderJson(IEnumerable<Tensor> tensors, string? metadataJson = null)
    {
        var parts = new List<string>();
        if (metadataJson is not null)
            parts.Add($"\"__metadata__\":{metadataJson}");
        long offset = 0;
        foreach (Tensor t in tensors)
        {
            string shape = string.Join(",", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            parts.Add($"\"{t.Key}\":{{\"dtype\":\"{t.Dtype}\",\"shape\":[{shape}],\"data_offsets\":[{offset},{offset + t.Data.Length}]}}");
            offset += t.Data.Length;
        }
        return "{" + string.Join(",", parts) + "}";
    }

    public static byte[] Build(IEnumerable<Tensor> tensors, string? metadataJson = null)
    {
        var list = tensors.ToList();
        return Assemble(HeaderJson(list, metadataJson), list.SelectMany(t => t.Data).ToArray());
    }

    /// <summary>8-byte length (the header's own unless <paramref name="declaredLength"/> lies), header, data.</summary>
    public static byte[] Assemble(string header, byte[] data, ulong? declaredLength = null) =>
        Assemble(Encoding.UTF8.GetBytes(header), data, declaredLength);

    public static byte[] Assemble(byte[] header, byte[] data, ulong? declaredLength = null)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declaredLength ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }
}

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text.Json;
using System.IO;
using System.Text.Unicode;

namespace RnnGen.IO;

/// <summary>One tensor as the header declares it; offsets are relative to the data buffer after the header.</summary>
internal sealed record SafetensorsEntry(string Key, SafetensorsDtype Dtype, ulong[] Shape, ulong Begin, ulong End);

/// <summary>A parsed and validated header: tensors in header order, the metadata, and where the data buffer starts.</summary>
internal sealed record SafetensorsLayout(List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata, int DataStart);

/// <summary>
/// Reads the 8-byte length and the JSON header of a safetensors file and validates them against the file's
/// length, refusing what the reference reader (huggingface/safetensors, <c>SafeTensors::read_metadata</c> and
/// <c>Metadata::validate</c> in tensor.rs) refuses:
/// a file under 8 bytes; a header length above 100,000,000 or past the end of the file; a header that is not
/// UTF-8 or not a JSON object; a tensor entry without <c>dtype</c> (a known name), <c>shape</c> (unsigned
/// integers) or <c>data_offsets</c> (exactly two unsigned integers); offsets that, sorted, do not tile the data
/// buffer from 0 without gap or overlap, or begin after end; a byte size other than elements × dtype size; an
/// overflow computing either; bytes after the last tensor. Like the reference it accepts any key order, unknown
/// fields inside a tensor entry, whitespace around the JSON (the writer pads with spaces), empty tensors and
/// unaligned data. Stricter than the reference in one place: a key that appears twice (a tensor, a metadata
/// entry or a field) is refused, where serde would keep the last tensor or metadata value.
/// </summary>
/// <remarks>
/// Nothing is allocated from a size the header declares before that size is checked against the file: the
/// header is a slice of the file, the entries are bounded by the header's length, and element counts are only
/// compared, never allocated, here.
/// </remarks>
internal static class SafetensorsHeader
{
    public const ulong MaxHeaderLength = 100_000_000;

    /// <summary>serde_json's recursion limit; unknown fields may nest this deep and are skipped.</summary>
    private const int MaxDepth = 128;

    public static SafetensorsLayout Parse(ReadOnlySpan<byte> file, string source)
    {
        if (file.Length < 8)
            throw Invalid(source, $"the file is {file.Length} bytes, shorter than the 8-byte header length that starts every safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderLength)
            throw Invalid(source, $"the header length is {headerLength} bytes, above the 100,000,000-byte limit safetensors sets");
        if (headerLength > (ulong)(file.Length - 8))
            throw Invalid(source, $"the header length is {headerLength} bytes, but only {file.Length - 8} bytes follow the length field");
        int dataStart = 8 + (int)headerLength;
        ReadOnlySpan<byte> header = file[8..dataStart];
        if (!Utf8.IsValid(header))
            throw Invalid(source, "the header is not valid UTF-8");

        var (entries, metadata) = ReadJson(header, source);
        ulong dataLength = (ulong)(file.Length - dataStart);
        Validate(entries, dataLength, source);
        return new SafetensorsLayout(entries, metadata, dataStart);
    }

    public static InvalidDataException Invalid(string source, string reason) =>
        new($"'{source}' is not a valid safetensors file: {reason}.");

    private static (List<SafetensorsEntry>, Dictionary<string, string>) ReadJson(ReadOnlySpan<byte> header, string source)
    {
        // serde_json does not skip a byte-order mark (U+FEFF is not JSON whitespace); Utf8JsonReader would.
        if (header.StartsWith("\uFEFF"u8))
            throw Invalid(source, "the header starts with a byte-order mark; a JSON object was expected");
        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Invalid(source, "the header is not a JSON object");
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string key = reader.GetString()!;
                if (key == "__metadata__")
                {
                    if (sawMetadata)
                        throw Invalid(source, "the header has \"__metadata__\" twice");
                    sawMetadata = true;
                    ReadMetadata(ref reader, metadata, source);
                    continue;
                }
                if (!keys.Add(key))
                    throw Invalid(source, $"the header has the tensor \"{key}\" twice");
                entries.Add(ReadEntry(ref reader, key, source));
            }
            // Only whitespace may follow the object (the writer pads with spaces); anything else makes Read throw.
            if (reader.Read())
                throw Invalid(source, "the header has content after its JSON object");
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"the header is not valid JSON ({e.Message})");
        }
        catch (InvalidOperationException e)
        {
            // GetString on an escape that is not valid UTF-16 (a lone surrogate).
            throw Invalid(source, $"the header has a string that is not valid text ({e.Message})");
        }
        return (entries, metadata);
    }

    /// <summary>Reads one token, failing on the end of input (the reader is given the whole header).</summary>
    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
            throw new JsonException("unexpected end of the header");
        return reader.TokenType;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string source)
    {
        JsonTokenType token = Next(ref reader);
        if (token == JsonTokenType.Null)
            return; // serde's Option: null is no metadata
        if (token != JsonTokenType.StartObject)
            throw Invalid(source, "\"__metadata__\" is not an object of strings");
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            if (Next(ref reader) != JsonTokenType.String)
                throw Invalid(source, $"the metadata value \"{name}\" is not a string");
            if (!metadata.TryAdd(name, reader.GetString()!))
                throw Invalid(source, $"the metadata has \"{name}\" twice");
        }
    }

    private static SafetensorsEntry ReadEntry(ref Utf8JsonReader reader, string key, string source)
    {
        if (Next(ref reader) != JsonTokenType.StartObject)
            throw Invalid(source, $"the entry of tensor \"{key}\" is not an object");
        SafetensorsDtype? dtype = null;
        ulong[]? shape = null;
        ulong[]? offsets = null;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string field = reader.GetString()!;
            switch (field)
            {
                case "dtype":
                    if (dtype is not null)
                        throw Invalid(source, $"tensor \"{key}\" has \"dtype\" twice");
                    if (Next(ref reader) != JsonTokenType.String)
                        throw Invalid(source, $"the dtype of tensor \"{key}\" is not a string");
                    string name = reader.GetString()!;
                    if (!SafetensorsDtypes.TryParse(name, out SafetensorsDtype parsed))
                        throw Invalid(source, $"tensor \"{key}\" has the unknown dtype \"{name}\"");
                    dtype = parsed;
                    break;
                case "shape":
                    if (shape is not null)
                        throw Invalid(source, $"tensor \"{key}\" has \"shape\" twice");
                    shape = ReadUnsignedArray(ref reader, key, "shape", source);
                    break;
                case "data_offsets":
                    if (offsets is not null)
                        throw Invalid(source, $"tensor \"{key}\" has \"data_offsets\" twice");
                    offsets = ReadUnsignedArray(ref reader, key, "data_offsets", source);
                    if (offsets.Length != 2)
                        throw Invalid(source, $"the data_offsets of tensor \"{key}\" are {offsets.Length} numbers, not [begin, end]");
                    break;
                default:
                    // serde ignores fields it does not know; so does the reference reader.
                    Next(ref reader);
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Invalid(source, $"the entry of tensor \"{key}\" has no \"{missing}\"");
        }
        return new SafetensorsEntry(key, dtype.Value, shape, offsets[0], offsets[1]);
    }

    private static ulong[] ReadUnsignedArray(ref Utf8JsonReader reader, string key, string field, string source)
    {
        if (Next(ref reader) != JsonTokenType.StartArray)
            throw Invalid(source, $"the {field} of tensor \"{key}\" is not an array");
        var values = new List<ulong>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !TryParseDigits(reader.ValueSpan, out ulong value))
                throw Invalid(source, $"the {field} of tensor \"{key}\" holds something other than an integer from 0 to 2^64-1");
            values.Add(value);
        }
        return values.ToArray();
    }

    /// <summary>
    /// A JSON number that serde accepts as a usize: digits only (no sign, fraction or exponent; "-0" is a float to
    /// serde_json), within 64 bits. Utf8JsonReader has already refused leading zeros.
    /// </summary>
    private static bool TryParseDigits(ReadOnlySpan<byte> digits, out ulong value)
    {
        value = 0;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9 || value > (ulong.MaxValue - d) / 10)
                return false;
            value = value * 10 + d;
        }
        return digits.Length > 0;
    }

    /// <summary>
    /// The reference's <c>Metadata::validate</c>: sorted by (begin, end), each tensor starts where the previous
    /// ended (the first at 0) and does not end before it begins; elements × size, computed without overflow,
    /// equals its byte span; and the last tensor ends exactly at the end of the file.
    /// </summary>
    private static void Validate(List<SafetensorsEntry> entries, ulong dataLength, string source)
    {
        var sorted = entries.ToArray();
        Array.Sort(sorted, static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        ulong start = 0;
        foreach (SafetensorsEntry e in sorted)
        {
            if (e.Begin != start || e.End < e.Begin)
                throw Invalid(source, e.End < e.Begin
                    ? $"tensor \"{e.Key}\" has data_offsets [{e.Begin}, {e.End}] that end before they begin"
                    : $"tensor \"{e.Key}\" has data_offsets [{e.Begin}, {e.End}], but the tensors must tile the data buffer and this one should begin at {start}");
            start = e.End;
            if (!TryElementCount(e.Shape, out ulong elements))
                throw Invalid(source, $"the shape [{string.Join(", ", e.Shape)}] of tensor \"{e.Key}\" overflows 64 bits");
            ulong bits = (ulong)SafetensorsDtypes.BitSize(e.Dtype);
            if (elements > ulong.MaxValue / bits)
                throw Invalid(source, $"the byte size of tensor \"{e.Key}\" ({e.Dtype}, shape [{string.Join(", ", e.Shape)}]) overflows 64 bits");
            if (elements * bits % 8 != 0)
                throw Invalid(source, $"tensor \"{e.Key}\" ({e.Dtype}, shape [{string.Join(", ", e.Shape)}]) does not fill whole bytes");
            ulong bytes = elements * bits / 8;
            if (e.End - e.Begin != bytes)
                throw Invalid(source, $"tensor \"{e.Key}\" ({e.Dtype}, shape [{string.Join(", ", e.Shape)}]) needs {bytes} bytes, but its data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin}");
        }
        if (start != dataLength)
            throw Invalid(source, start < dataLength
                ? $"the tensors end at byte {start} of the data buffer, but it holds {dataLength} bytes (trailing bytes after the last tensor)"
                : $"the tensors end at byte {start} of the data buffer, but it holds only {dataLength} bytes (the file is truncated)");
    }

    /// <summary>The product of the dimensions, left to right, failing on overflow as the reference's try_fold does.</summary>
    private static bool TryElementCount(ulong[] shape, out ulong elements)
    {
        elements = 1;
        foreach (ulong d in shape)
        {
            if (d != 0 && elements > ulong.MaxValue / d)
                return false;
            elements *= d;
        }
        return true;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RnnGen.Generator.Parsing;

/// <summary>One tensor of a safetensors file: its dtype name, shape, and where its bytes lie in the whole file.</summary>
internal readonly record struct SafetensorsTensor(string Key, string Dtype, ulong[] Shape, int Offset, int Length);

/// <summary>
/// The generator's safetensors reader: the same rules as the runtime's <c>RnnGen.IO.SafetensorsHeader</c> (which follows
/// the reference reader, huggingface/safetensors' <c>read_metadata</c> and <c>Metadata::validate</c>), so that a file the
/// generator bakes is exactly a file <c>SafetensorsFile.Read</c> accepts, with the same reasons in the messages. The runtime
/// reads JSON with System.Text.Json's <c>Utf8JsonReader</c>, which netstandard2.0 does not have; this is a small strict JSON
/// reader of the same grammar (RFC 8259: no comments, no trailing commas, no leading zeros, whitespace only around the
/// object, nesting up to 128 like serde_json) with the same checks at the same points.
/// </summary>
internal static class SafetensorsHeader
{
    public const ulong MaxHeaderLength = 100_000_000;

    /// <summary>The dtypes RnnGen converts to float32: what <c>tensor.float()</c> converts without surprise.</summary>
    public const string LoadableList = "F32, F16, BF16 and F64";

    /// <summary>serde_json's recursion limit, which the runtime's reader also sets.</summary>
    private const int MaxDepth = 128;

    /// <summary>The names the reference's Dtype enum accepts, with bits per element.</summary>
    private static readonly Dictionary<string, int> s_bits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8, ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6, ["U8"] = 8, ["I8"] = 8, ["F8_E5M2"] = 8, ["F8_E4M3"] = 8,
        ["F8_E8M0"] = 8, ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16, ["I32"] = 32, ["U32"] = 32, ["F32"] = 32,
        ["F64"] = 64, ["C64"] = 64, ["I64"] = 64, ["U64"] = 64,
    };

    public static bool IsLoadable(string dtype) => dtype is "F32" or "F16" or "BF16" or "F64";

    public static int ByteSize(string dtype) => s_bits[dtype] / 8;

    /// <summary>Parses and validates <paramref name="file"/>; on failure <paramref name="error"/> is the reason (as the runtime words it).</summary>
    public static bool TryParse(byte[] file, out List<SafetensorsTensor> tensors, out string? error)
    {
        tensors = new List<SafetensorsTensor>();
        try
        {
            tensors = Parse(file);
            error = null;
            return true;
        }
        catch (FormatError e)
        {
            error = e.Message;
            return false;
        }
    }

    private static List<SafetensorsTensor> Parse(byte[] file)
    {
        if (file.Length < 8)
            throw new FormatError($"the file is {file.Length} bytes, shorter than the 8-byte header length that starts every safetensors file");
        ulong headerLength = 0;
        for (int i = 7; i >= 0; i--)
            headerLength = (headerLength << 8) | file[i];
        if (headerLength > MaxHeaderLength)
            throw new FormatError($"the header length is {headerLength} bytes, above the 100,000,000-byte limit safetensors sets");
        if (headerLength > (ulong)(file.Length - 8))
            throw new FormatError($"the header length is {headerLength} bytes, but only {file.Length - 8} bytes follow the length field");
        int dataStart = 8 + (int)headerLength;
        if (!IsValidUtf8(file, 8, dataStart))
            throw new FormatError("the header is not valid UTF-8");

        var entries = new JsonHeaderReader(file, 8, dataStart).ReadHeader();
        Validate(entries, (ulong)(file.Length - dataStart));
        var tensors = new List<SafetensorsTensor>(entries.Count);
        foreach (Entry e in entries)
            tensors.Add(new SafetensorsTensor(e.Key, e.Dtype, e.Shape, dataStart + (int)e.Begin, (int)(e.End - e.Begin)));
        return tensors;
    }

    private sealed record Entry(string Key, string Dtype, ulong[] Shape, ulong Begin, ulong End);

    private sealed class FormatError(string message) : Exception(message);

    /// <summary>The reference's <c>Metadata::validate</c>, as the runtime words it.</summary>
    private static void Validate(List<Entry> entries, ulong dataLength)
    {
        var sorted = entries.ToArray();
        // A stable order for equal keys does not matter: equal (begin, end) pairs tile the same way.
        Array.Sort(sorted, static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        ulong start = 0;
        foreach (Entry e in sorted)
        {
            if (e.Begin != start || e.End < e.Begin)
                throw new FormatError(e.End < e.Begin
                    ? $"tensor \"{e.Key}\" has data_offsets [{e.Begin}, {e.End}] that end before they begin"
                    : $"tensor \"{e.Key}\" has data_offsets [{e.Begin}, {e.End}], but the tensors must tile the data buffer and this one should begin at {start}");
            start = e.End;
            string shape = string.Join(", ", e.Shape);
            if (!TryElementCount(e.Shape, out ulong elements))
                throw new FormatError($"the shape [{shape}] of tensor \"{e.Key}\" overflows 64 bits");
            ulong bits = (ulong)s_bits[e.Dtype];
            if (elements > ulong.MaxValue / bits)
                throw new FormatError($"the byte size of tensor \"{e.Key}\" ({e.Dtype}, shape [{shape}]) overflows 64 bits");
            if (elements * bits % 8 != 0)
                throw new FormatError($"tensor \"{e.Key}\" ({e.Dtype}, shape [{shape}]) does not fill whole bytes");
            ulong bytes = elements * bits / 8;
            if (e.End - e.Begin != bytes)
                throw new FormatError($"tensor \"{e.Key}\" ({e.Dtype}, shape [{shape}]) needs {bytes} bytes, but its data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin}");
        }
        if (start != dataLength)
            throw new FormatError(start < dataLength
                ? $"the tensors end at byte {start} of the data buffer, but it holds {dataLength} bytes (trailing bytes after the last tensor)"
                : $"the tensors end at byte {start} of the data buffer, but it holds only {dataLength} bytes (the file is truncated)");
    }

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

    /// <summary>Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as .NET's Utf8.IsValid and Rust's str::from_utf8.</summary>
    private static bool IsValidUtf8(byte[] b, int start, int end)
    {
        int i = start;
        while (i < end)
        {
            byte c = b[i];
            if (c < 0x80)
            {
                i++;
                continue;
            }
            int n, min;
            if ((c & 0xE0) == 0xC0) { n = 1; min = 0x80; }
            else if ((c & 0xF0) == 0xE0) { n = 2; min = 0x800; }
            else if ((c & 0xF8) == 0xF0) { n = 3; min = 0x10000; }
            else return false;
            if (i + n >= end)
                return false;
            int cp = c & (0x3F >> n);
            for (int k = 1; k <= n; k++)
            {
                byte t = b[i + k];
                if ((t & 0xC0) != 0x80)
                    return false;
                cp = (cp << 6) | (t & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return false;
            i += n + 1;
        }
        return true;
    }

    /// <summary>
    /// A pull reader over the header bytes that checks the safetensors structure as it goes, in the order the runtime's
    /// token-by-token reader meets things, so that the first problem reported is the same one.
    /// </summary>
    private sealed class JsonHeaderReader(byte[] bytes, int start, int end)
    {
        private readonly byte[] _b = bytes;
        private readonly int _end = end;
        private int _pos = start;
        private int _depth;

        public List<Entry> ReadHeader()
        {
            // serde_json does not skip a byte-order mark (U+FEFF is not JSON whitespace).
            if (_end - _pos >= 3 && _b[_pos] == 0xEF && _b[_pos + 1] == 0xBB && _b[_pos + 2] == 0xBF)
                throw new FormatError("the header starts with a byte-order mark; a JSON object was expected");
            SkipWhitespace();
            if (_pos >= _end)
                throw Syntax("the header holds no JSON value");
            if (Peek() != '{')
            {
                // The runtime's first Read either fails (not JSON) or yields a token that is not an object.
                if (Peek() != '[')
                    SkipValue();
                throw new FormatError("the header is not a JSON object");
            }
            var entries = new List<Entry>();
            var keys = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            if (BeginObject())
            {
                do
                {
                    string key = ReadMemberName();
                    if (key == "__metadata__")
                    {
                        if (sawMetadata)
                            throw new FormatError("the header has \"__metadata__\" twice");
                        sawMetadata = true;
                        ReadMetadata();
                        continue;
                    }
                    if (!keys.Add(key))
                        throw new FormatError($"the header has the tensor \"{key}\" twice");
                    entries.Add(ReadEntry(key));
                }
                while (NextMember());
            }
            SkipWhitespace();
            if (_pos != _end)
                throw Syntax("content after the JSON object");
            return entries;
        }

        private void ReadMetadata()
        {
            SkipWhitespace();
            char next = Peek();
            if (next == 'n')
            {
                ExpectLiteral("null");
                return; // serde's Option: null is no metadata
            }
            if (next != '{')
            {
                if (next != '[')
                    SkipValue();
                throw new FormatError("\"__metadata__\" is not an object of strings");
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            if (!BeginObject())
                return;
            do
            {
                string name = ReadMemberName();
                SkipWhitespace();
                if (Peek() != '"')
                {
                    if (Peek() is not ('{' or '['))
                        SkipValue();
                    throw new FormatError($"the metadata value \"{name}\" is not a string");
                }
                ReadString(decode: true);
                if (!names.Add(name))
                    throw new FormatError($"the metadata has \"{name}\" twice");
            }
            while (NextMember());
        }

        private Entry ReadEntry(string key)
        {
            SkipWhitespace();
            if (Peek() != '{')
            {
                if (Peek() != '[')
                    SkipValue();
                throw new FormatError($"the entry of tensor \"{key}\" is not an object");
            }
            string? dtype = null;
            ulong[]? shape = null;
            ulong[]? offsets = null;
            if (BeginObject())
            {
                do
                {
                    string field = ReadMemberName();
                    switch (field)
                    {
                        case "dtype":
                            if (dtype is not null)
                                throw new FormatError($"tensor \"{key}\" has \"dtype\" twice");
                            SkipWhitespace();
                            if (Peek() != '"')
                            {
                                if (Peek() is not ('{' or '['))
                                    SkipValue();
                                throw new FormatError($"the dtype of tensor \"{key}\" is not a string");
                            }
                            string name = ReadString(decode: true)!;
                            if (!s_bits.ContainsKey(name))
                                throw new FormatError($"tensor \"{key}\" has the unknown dtype \"{name}\"");
                            dtype = name;
                            break;
                        case "shape":
                            if (shape is not null)
                                throw new FormatError($"tensor \"{key}\" has \"shape\" twice");
                            shape = ReadUnsignedArray(key, "shape");
                            break;
                        case "data_offsets":
                            if (offsets is not null)
                                throw new FormatError($"tensor \"{key}\" has \"data_offsets\" twice");
                            offsets = ReadUnsignedArray(key, "data_offsets");
                            if (offsets.Length != 2)
                                throw new FormatError($"the data_offsets of tensor \"{key}\" are {offsets.Length} numbers, not [begin, end]");
                            break;
                        default:
                            // serde ignores fields it does not know; so does the reference reader.
                            SkipWhitespace();
                            SkipValue();
                            break;
                    }
                }
                while (NextMember());
            }
            if (dtype is null || shape is null || offsets is null)
            {
                string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
                throw new FormatError($"the entry of tensor \"{key}\" has no \"{missing}\"");
            }
            return new Entry(key, dtype, shape, offsets[0], offsets[1]);
        }

        private ulong[] ReadUnsignedArray(string key, string field)
        {
            SkipWhitespace();
            if (Peek() != '[')
            {
                if (Peek() != '{')
                    SkipValue();
                throw new FormatError($"the {field} of tensor \"{key}\" is not an array");
            }
            var values = new List<ulong>();
            if (!BeginArray())
                return values.ToArray();
            do
            {
                SkipWhitespace();
                char c = Peek();
                int begin = _pos;
                if (c is '-' or (>= '0' and <= '9'))
                    SkipNumber();
                else if (c is not ('{' or '['))
                    SkipValue();
                if (!TryParseDigits(begin, _pos, out ulong value))
                    throw new FormatError($"the {field} of tensor \"{key}\" holds something other than an integer from 0 to 2^64-1");
                values.Add(value);
            }
            while (NextElement());
            return values.ToArray();
        }

        /// <summary>Digits only (no sign, fraction or exponent; "-0" is a float to serde_json), within 64 bits.</summary>
        private bool TryParseDigits(int begin, int end, out ulong value)
        {
            value = 0;
            for (int i = begin; i < end; i++)
            {
                uint d = (uint)(_b[i] - '0');
                if (d > 9 || value > (ulong.MaxValue - d) / 10)
                    return false;
                value = value * 10 + d;
            }
            return end > begin;
        }

        /// <summary>Enters the object at the current '{'; false (and past its '}') when it is empty.</summary>
        private bool BeginObject() => Begin('}');

        /// <summary>Enters the array at the current '['; false (and past its ']') when it is empty.</summary>
        private bool BeginArray() => Begin(']');

        private bool Begin(char close)
        {
            // Utf8JsonReader with MaxDepth 128 refuses to open a container when 128 are open.
            if (_depth >= MaxDepth)
                throw Syntax($"nesting deeper than {MaxDepth}");
            _depth++;
            _pos++;
            SkipWhitespace();
            if (Peek() != close)
                return true;
            _pos++;
            _depth--;
            return false;
        }

        /// <summary>A member's name and its ':'; the caller reads the value.</summary>
        private string ReadMemberName()
        {
            SkipWhitespace();
            if (Peek() != '"')
                throw Syntax(_pos >= _end ? "unexpected end of the header" : "expected a property name");
            string name = ReadString(decode: true)!;
            SkipWhitespace();
            if (Peek() != ':')
                throw Syntax("expected ':' after a property name");
            _pos++;
            return name;
        }

        /// <summary>After a member's value: true at ',' (another member follows), false at '}'.</summary>
        private bool NextMember() => Next('}');

        /// <summary>After an element: true at ',' (another element follows), false at ']'.</summary>
        private bool NextElement() => Next(']');

        private bool Next(char close)
        {
            SkipWhitespace();
            char c = Peek();
            if (c == ',')
            {
                _pos++;
                // No trailing comma: a value must follow.
                SkipWhitespace();
                if (Peek() == close)
                    throw Syntax("a trailing comma");
                return true;
            }
            if (c != close)
                throw Syntax(_pos >= _end ? "unexpected end of the header" : $"expected ',' or '{close}'");
            _pos++;
            _depth--;
            return false;
        }

        private void SkipWhitespace()
        {
            while (_pos < _end && _b[_pos] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                _pos++;
        }

        private char Peek() => _pos < _end ? (char)_b[_pos] : '\0';

        private void ExpectLiteral(string literal)
        {
            if (_end - _pos < literal.Length)
                throw Syntax("unexpected end of the header");
            for (int i = 0; i < literal.Length; i++)
            {
                if (_b[_pos + i] != literal[i])
                    throw Syntax("an invalid literal");
            }
            // Like Utf8JsonReader, what follows a literal is checked by the next read, not here.
            _pos += literal.Length;
        }

        /// <summary>A number must be followed by whitespace, ',', ']', '}' or the end.</summary>
        private void CheckDelimiter()
        {
            if (_pos < _end && _b[_pos] is not ((byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)',' or (byte)']' or (byte)'}'))
                throw Syntax("a value runs into what follows it");
        }

        /// <summary>Skips one value of any kind, validating it; whitespace before it is already skipped.</summary>
        private void SkipValue()
        {
            switch (Peek())
            {
                case '{':
                    if (BeginObject())
                    {
                        do
                        {
                            ReadMemberName(); // the runtime decodes every property name, so lone surrogates fail here too
                            SkipWhitespace();
                            SkipValue();
                        }
                        while (NextMember());
                    }
                    return;
                case '[':
                    if (BeginArray())
                    {
                        do
                        {
                            SkipWhitespace();
                            SkipValue();
                        }
                        while (NextElement());
                    }
                    return;
                case '"':
                    ReadString(decode: false);
                    return;
                case 't':
                    ExpectLiteral("true");
                    return;
                case 'f':
                    ExpectLiteral("false");
                    return;
                case 'n':
                    ExpectLiteral("null");
                    return;
                case '-' or (>= '0' and <= '9'):
                    SkipNumber();
                    return;
                default:
                    throw Syntax(_pos >= _end ? "unexpected end of the header" : "an unexpected character");
            }
        }

        /// <summary>-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, followed by a delimiter.</summary>
        private void SkipNumber()
        {
            if (Peek() == '-')
                _pos++;
            if (Peek() == '0')
                _pos++;
            else if (Peek() is >= '1' and <= '9')
                SkipDigits();
            else
                throw Syntax("an invalid number");
            if (Peek() == '.')
            {
                _pos++;
                if (Peek() is not (>= '0' and <= '9'))
                    throw Syntax("an invalid number");
                SkipDigits();
            }
            if (Peek() is 'e' or 'E')
            {
                _pos++;
                if (Peek() is '+' or '-')
                    _pos++;
                if (Peek() is not (>= '0' and <= '9'))
                    throw Syntax("an invalid number");
                SkipDigits();
            }
            CheckDelimiter();
        }

        private void SkipDigits()
        {
            while (Peek() is >= '0' and <= '9')
                _pos++;
        }

        /// <summary>
        /// Reads the string at the current '"'. With <paramref name="decode"/>, returns its text and refuses one that is not
        /// valid UTF-16 (a lone surrogate escape), as the runtime's GetString does; without, checks only the syntax, as
        /// Utf8JsonReader does for a value it skips.
        /// </summary>
        private string? ReadString(bool decode)
        {
            _pos++; // the opening quote
            StringBuilder? text = decode ? new StringBuilder() : null;
            int run = _pos;
            while (true)
            {
                if (_pos >= _end)
                    throw Syntax("an unterminated string");
                byte c = _b[_pos];
                if (c == (byte)'"')
                {
                    text?.Append(Encoding.UTF8.GetString(_b, run, _pos - run));
                    _pos++;
                    if (text is not null && !IsWellFormed(text))
                        throw new FormatError("the header has a string that is not valid text (a lone surrogate escape)");
                    return text?.ToString();
                }
                if (c < 0x20)
                    throw Syntax("a control character in a string");
                if (c != (byte)'\\')
                {
                    _pos++;
                    continue;
                }
                text?.Append(Encoding.UTF8.GetString(_b, run, _pos - run));
                _pos++;
                char e = Peek();
                _pos++;
                switch (e)
                {
                    case '"': text?.Append('"'); break;
                    case '\\': text?.Append('\\'); break;
                    case '/': text?.Append('/'); break;
                    case 'b': text?.Append('\b'); break;
                    case 'f': text?.Append('\f'); break;
                    case 'n': text?.Append('\n'); break;
                    case 'r': text?.Append('\r'); break;
                    case 't': text?.Append('\t'); break;
                    case 'u':
                        int code = 0;
                        for (int k = 0; k < 4; k++)
                        {
                            int h = HexValue(Peek());
                            if (h < 0)
                                throw Syntax("an invalid \\u escape");
                            code = code * 16 + h;
                            _pos++;
                        }
                        text?.Append((char)code);
                        break;
                    default:
                        throw Syntax("an invalid escape");
                }
                run = _pos;
            }
        }

        private static int HexValue(char c) => c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };

        private static bool IsWellFormed(StringBuilder text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                if (char.IsHighSurrogate(text[i]))
                {
                    if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                        return false;
                    i++;
                }
                else if (char.IsLowSurrogate(text[i]))
                {
                    return false;
                }
            }
            return true;
        }

        private static FormatError Syntax(string what) => new($"the header is not valid JSON ({what})");
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using static RnnGen.Tests.Support.SafetensorsBuilder;

namespace RnnGen.Tests.Support;

/// <summary>
/// What the reference safetensors reader (huggingface/safetensors tensor.rs) accepts and refuses, one case each: run against
/// the runtime's reader (SafetensorsFormatTests) and against the generator's own (RnnGen.Generator.Tests' WeightsHeaderTests).
/// </summary>
internal static class SafetensorsCases
{
    // ---- What the reference reader accepts ----

    public static IEnumerable<TestCaseData> Accepted()
    {
        var a = F32("a", new long[] { 2 }, i => i + 1);
        var b = F32("b", new long[] { 1, 1 }, i => 5);
        byte[] data = a.Data.Concat(b.Data).ToArray();
        const string Entries = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}";
        yield return new TestCaseData(Assemble("{" + Entries + "}", data)).SetName("Accepts an unaligned header (not a multiple of 8)");
        yield return new TestCaseData(Assemble("{" + Entries + "}     ", data)).SetName("Accepts spaces after the JSON");
        yield return new TestCaseData(Assemble(" \t\r\n{" + Entries + "}\n\t ", data)).SetName("Accepts JSON whitespace around the object");
        yield return new TestCaseData(Assemble("{\"b\":{\"data_offsets\":[8,12],\"shape\":[1,1],\"dtype\":\"F32\"},\"a\":{\"shape\":[2],\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", data)).SetName("Accepts any key and field order");
        yield return new TestCaseData(Assemble("{\"__metadata__\":null," + Entries + "}", data)).SetName("Accepts null metadata");
        yield return new TestCaseData(Assemble("{" + Entries + ",\"__metadata__\":{\"k\":\"v\"}}", data)).SetName("Accepts metadata last");
        yield return new TestCaseData(Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":[{\"x\":[1,2]}]},\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}", data)).SetName("Accepts unknown fields in a tensor entry");
        yield return new TestCaseData(Assemble("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},\"z\":{\"dtype\":\"I64\",\"shape\":[4,0],\"data_offsets\":[0,0]}," + Entries + "}", data)).SetName("Accepts empty tensors sharing an offset");
        yield return new TestCaseData(Assemble("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}", new byte[8])).SetName("Accepts a scalar");
        yield return new TestCaseData(Assemble("{}", Array.Empty<byte>())).SetName("Accepts a file without tensors");
        yield return new TestCaseData(Assemble("{\"\\u0061\":{\"dtype\":\"F\\u00332\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}", data)).SetName("Accepts escaped keys and dtype names");
        yield return new TestCaseData(Assemble("{\"e\":{\"dtype\":\"U8\",\"shape\":[18446744073709551615,0],\"data_offsets\":[0,0]}}", Array.Empty<byte>())).SetName("Accepts a huge dimension times zero");
    }

    // ---- What the reference reader refuses ----

    private static TestCaseData Refused(byte[] bytes, string reason, string name) => new TestCaseData(bytes, reason).SetName("Refuses " + name);

    private static byte[] WithEntry(string entry, int dataLength = 8) => Assemble("{\"t\":" + entry + "}", new byte[dataLength]);

    public static IEnumerable<TestCaseData> Refusals()
    {
        const string Ok = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        yield return Refused(new byte[7], "shorter than the 8-byte header length", "a file under 8 bytes");
        yield return Refused(Assemble("{}", Array.Empty<byte>(), 100_000_001), "above the 100,000,000-byte limit", "a header length above 100,000,000");
        yield return Refused(Assemble("{}", Array.Empty<byte>(), ulong.MaxValue), "above the 100,000,000-byte limit", "a header length of 2^64-1");
        yield return Refused(Assemble("{}      ", Array.Empty<byte>(), 9), "only 8 bytes follow", "a header length past the end");
        yield return Refused(Assemble(new byte[] { (byte)'{', (byte)'"', 0xff, (byte)'"', (byte)':', (byte)'1', (byte)'}' }, Array.Empty<byte>()), "not valid UTF-8", "a header that is not UTF-8");
        yield return Refused(Assemble("\uFEFF{}", Array.Empty<byte>()), "byte-order mark", "a byte-order mark");
        yield return Refused(Assemble("not json", Array.Empty<byte>()), "not valid JSON", "a header that is not JSON");
        yield return Refused(Assemble("[]", Array.Empty<byte>()), "not a JSON object", "a header that is an array");
        yield return Refused(Assemble("\"{}\"", Array.Empty<byte>()), "not a JSON object", "a header that is a string");
        yield return Refused(Assemble("", Array.Empty<byte>()), "not valid JSON", "an empty header");
        yield return Refused(Assemble("{} x", Array.Empty<byte>()), "not valid JSON", "content after the object");
        yield return Refused(Assemble("{}{}", Array.Empty<byte>()), "not valid JSON", "two objects");
        yield return Refused(Assemble("{/*c*/}", Array.Empty<byte>()), "not valid JSON", "a comment");
        yield return Refused(Assemble("{\"t\":" + Ok + ",}", new byte[8]), "not valid JSON", "a trailing comma");
        yield return Refused(Assemble("{\"t\":" + Ok, new byte[8]), "not valid JSON", "an unclosed object");
        yield return Refused(Assemble("{\"\\ud800\":" + Ok + "}", new byte[8]), "not valid text", "a lone surrogate escape in a key");
        yield return Refused(Assemble("{\"t\":" + Ok + ",\"t\":" + Ok + "}", new byte[8]), "\"t\" twice", "a tensor key twice");
        yield return Refused(Assemble("{\"__metadata__\":{},\"__metadata__\":{}}", Array.Empty<byte>()), "twice", "metadata twice");
        yield return Refused(Assemble("{\"__metadata__\":{\"a\":1}}", Array.Empty<byte>()), "is not a string", "a metadata value that is a number");
        yield return Refused(Assemble("{\"__metadata__\":[]}", Array.Empty<byte>()), "not an object of strings", "metadata that is an array");
        yield return Refused(Assemble("{\"t\":[]}", Array.Empty<byte>()), "is not an object", "a tensor entry that is an array");
        yield return Refused(WithEntry("{\"shape\":[2],\"data_offsets\":[0,8]}"), "has no \"dtype\"", "an entry without dtype");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}"), "has no \"shape\"", "an entry without shape");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2]}"), "has no \"data_offsets\"", "an entry without data_offsets");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"), "\"dtype\" twice", "a field twice");
        yield return Refused(WithEntry("{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}"), "is not a string", "a dtype that is a number");
        yield return Refused(WithEntry("{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}"), "unknown dtype \"F31\"", "an unknown dtype");
        yield return Refused(WithEntry("{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}"), "unknown dtype \"f32\"", "a lower-case dtype");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}"), "is not an array", "a shape that is a number");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}"), "integer from 0", "a negative dimension");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}"), "integer from 0", "a fractional dimension");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}"), "integer from 0", "a dimension with an exponent");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}"), "integer from 0", "a dimension that is a string");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}"), "integer from 0", "a dimension of 2^64");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-0,8]}"), "integer from 0", "an offset of -0");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}"), "are 3 numbers", "three offsets");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}"), "are 1 numbers", "one offset");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}", 12), "should begin at 0", "data that does not start at 0");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}", 8), "end before they begin", "begin after end");
        yield return Refused(Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", new byte[20]), "should begin at 8", "a gap between tensors");
        yield return Refused(Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "should begin at 8", "overlapping tensors");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}"), "needs 12 bytes", "a byte size that is not elements times dtype size");
        yield return Refused(WithEntry(Ok, 9), "trailing bytes", "bytes after the last tensor");
        yield return Refused(WithEntry(Ok, 4), "truncated", "data cut short");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,8]}"), "overflows 64 bits", "a shape whose product overflows");
        yield return Refused(WithEntry("{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}"), "overflows 64 bits", "a byte size that overflows");
        yield return Refused(WithEntry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}"), "needs 8 bytes", "an end offset of 2^64-1");
        yield return Refused(WithEntry("{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}", 1), "whole bytes", "sub-byte elements that do not fill bytes");
    }
}

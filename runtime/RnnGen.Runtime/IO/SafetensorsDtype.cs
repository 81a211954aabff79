using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RnnGen.IO;

/// <summary>
/// The element types safetensors names, in the order of the reference implementation's <c>Dtype</c> enum
/// (huggingface/safetensors, tensor.rs): increasing alignment. The Python writer sorts tensors by this order,
/// descending, then by name, so the order is part of the byte layout a writer must reproduce.
/// </summary>
internal enum SafetensorsDtype
{
    BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, F16, BF16, I32, U32, F32, F64, C64, I64, U64,
}

/// <summary>Names, sizes and the conversions to float32 RnnGen supports (F32, F16, BF16, F64).</summary>
internal static class SafetensorsDtypes
{
    public static bool TryParse(string name, out SafetensorsDtype dtype)
    {
        // Exact, case-sensitive names, as the reference's serde enum accepts them.
        dtype = name switch
        {
            "BOOL" => SafetensorsDtype.BOOL,
            "F4" => SafetensorsDtype.F4,
            "F6_E2M3" => SafetensorsDtype.F6_E2M3,
            "F6_E3M2" => SafetensorsDtype.F6_E3M2,
            "U8" => SafetensorsDtype.U8,
            "I8" => SafetensorsDtype.I8,
            "F8_E5M2" => SafetensorsDtype.F8_E5M2,
            "F8_E4M3" => SafetensorsDtype.F8_E4M3,
            "F8_E8M0" => SafetensorsDtype.F8_E8M0,
            "I16" => SafetensorsDtype.I16,
            "U16" => SafetensorsDtype.U16,
            "F16" => SafetensorsDtype.F16,
            "BF16" => SafetensorsDtype.BF16,
            "I32" => SafetensorsDtype.I32,
            "U32" => SafetensorsDtype.U32,
            "F32" => SafetensorsDtype.F32,
            "F64" => SafetensorsDtype.F64,
            "C64" => SafetensorsDtype.C64,
            "I64" => SafetensorsDtype.I64,
            "U64" => SafetensorsDtype.U64,
            _ => (SafetensorsDtype)(-1),
        };
        return dtype >= 0;
    }

    public static string Name(SafetensorsDtype dtype) => dtype.ToString();

    /// <summary>Bits per element (the sub-byte float formats pack several elements per byte).</summary>
    public static int BitSize(SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F4 => 4,
        SafetensorsDtype.F6_E2M3 or SafetensorsDtype.F6_E3M2 => 6,
        SafetensorsDtype.BOOL or SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.F8_E5M2
            or SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E8M0 => 8,
        SafetensorsDtype.I16 or SafetensorsDtype.U16 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 => 16,
        SafetensorsDtype.I32 or SafetensorsDtype.U32 or SafetensorsDtype.F32 => 32,
        _ => 64, // F64, C64, I64, U64
    };

    /// <summary>Whether <see cref="ConvertToSingle"/> reads this dtype: the floating-point types <c>tensor.float()</c> converts without surprise.</summary>
    public static bool IsLoadable(SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.F32 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 or SafetensorsDtype.F64;

    public const string LoadableList = "F32, F16, BF16 and F64";

    /// <summary>
    /// Converts little-endian <paramref name="source"/> to float32 as PyTorch's <c>tensor.float()</c> does: F16 and
    /// BF16 widen exactly, F64 rounds to nearest, ties to even (a C# <c>(float)double</c> is that rounding).
    /// </summary>
    public static void ConvertToSingle(SafetensorsDtype dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        Debug.Assert(IsLoadable(dtype));
        Debug.Assert(source.Length == destination.Length * (BitSize(dtype) / 8));
        switch (dtype)
        {
            case SafetensorsDtype.F32:
                if (BitConverter.IsLittleEndian)
                {
                    // Unaligned reads are fine: MemoryMarshal.Cast over bytes makes no alignment assumption on x64 or ARM64.
                    MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                }
                else
                {
                    for (int i = 0; i < destination.Length; i++)
                        destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(4 * i, 4));
                }
                break;
            case SafetensorsDtype.F16:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i, 2)));
                break;
            case SafetensorsDtype.BF16:
                // bfloat16 is the top half of a float32: widening is a shift.
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i, 2)) << 16);
                break;
            case SafetensorsDtype.F64:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source.Slice(8 * i, 8));
                break;
        }
    }
}

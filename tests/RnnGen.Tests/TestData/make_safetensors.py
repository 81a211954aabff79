#!/usr/bin/env python3
"""Writes safetensors files byte for byte as Python's `safetensors` package writes them, using only the
standard library (struct, json, fractions), and the float32 values a correct reader must produce.

Layout of the reference writer (huggingface/safetensors, `prepare` in tensor.rs, called by
`safetensors.torch.save_file`):
  - tensors sorted by dtype alignment descending (the order of its Dtype enum: ... F16 < BF16 < I32 < U32 <
    F32 < F64 < C64 < I64 < U64), then by name;
  - header = serde_json compact: {"__metadata__":{...},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},...}
    padded with spaces to a multiple of 8 bytes; 8-byte little-endian header length first;
  - the data, little-endian, row-major, back to back.

Expected float32 values are computed here independently of RnnGen: F16 through struct's 'e' format (IEEE
binary16, round half to even) and back; BF16 and F64->F32 by exact rational rounding (round half to even)
written out below. Run: python3 make_safetensors.py [fuzz-corpus-dir]
"""
import json
import math
import os
import struct
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16",
               "F16", "BF16", "I32", "U32", "F32", "F64", "C64", "I64", "U64"]


def round_half_even(x, mantissa_bits, min_exponent, overflow_exponent):
    """x (a finite double) rounded to a binary format with `mantissa_bits` explicit fraction bits, normal
    exponents down to `min_exponent` (subnormals below), infinite from 2**overflow_exponent. Exact arithmetic."""
    if x == 0:
        return x
    sign = -1 if x < 0 else 1
    a = abs(Fraction(x))
    e = a.numerator.bit_length() - a.denominator.bit_length()  # 2**e <= a < 2**(e+2)
    if Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    quantum = Fraction(2) ** (max(e, min_exponent) - mantissa_bits)
    n = a / quantum
    q = n.numerator // n.denominator
    rest = n - q
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and q % 2 == 1):
        q += 1
    r = q * quantum
    if r >= Fraction(2) ** overflow_exponent:
        return sign * math.inf
    return sign * float(r) if r != 0 else math.copysign(0.0, sign)


def to_f32(x):
    return round_half_even(x, 23, -126, 128) if math.isfinite(x) else x


def to_bf16(x):
    return round_half_even(x, 7, -126, 128) if math.isfinite(x) else x


def f32_bits(x):
    """The float32 bit pattern of x, which must already be exactly representable in float32 (or inf/nan)."""
    if math.isnan(x):
        return "nan"
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    assert math.isinf(x) or struct.unpack("<f", struct.pack("<f", x))[0] == x, x
    return "%08x" % bits


def tensor(dtype, shape, values):
    """(raw little-endian bytes, expected float32 bit patterns) for values given as doubles."""
    if dtype == "F32":
        exact = [to_f32(v) for v in values]
        return b"".join(struct.pack("<f", v) for v in exact), [f32_bits(v) for v in exact]
    if dtype == "F64":
        return b"".join(struct.pack("<d", v) for v in values), [f32_bits(to_f32(v)) for v in values]
    if dtype == "F16":
        raw = b"".join(struct.pack("<e", v) for v in values)  # struct rounds half to even
        return raw, [f32_bits(struct.unpack("<e", raw[2 * i:2 * i + 2])[0]) for i in range(len(values))]
    if dtype == "BF16":
        rounded = [to_bf16(v) for v in values]
        raw = b""
        for v in rounded:
            bits = struct.unpack("<I", struct.pack("<f", v))[0]
            assert math.isnan(v) or bits & 0xFFFF == 0
            raw += struct.pack("<H", bits >> 16)
        return raw, [f32_bits(v) for v in rounded]
    if dtype == "I64":
        return b"".join(struct.pack("<q", int(v)) for v in values), None
    raise ValueError(dtype)


def write(path, tensors, metadata=None):
    """tensors: {name: (dtype, shape, values)}. Returns {name: {dtype, shape, f32_bits}}."""
    encoded = {name: (dtype, shape) + tensor(dtype, shape, values) for name, (dtype, shape, values) in tensors.items()}
    order = sorted(encoded, key=lambda n: (-DTYPE_ORDER.index(encoded[n][0]), n.encode("utf-8")))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name in order:
        dtype, shape, raw, _ = encoded[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(encoded[name][2])
    return {name: {"dtype": d, "shape": s, "f32_bits": bits} for name, (d, s, _, bits) in encoded.items() if bits is not None}


def lcg_values(seed, count):
    """Deterministic values in [-0.5, 0.5) that are exact in float32 (multiples of 2**-12)."""
    out = []
    state = seed
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) % 2 ** 64
        out.append(((state >> 40) % 4096) / 4096.0 - 0.5)
    return out


def main():
    expected = {}

    # 1. Mixed dtypes with metadata: what a reader must convert, and how.
    f64 = [1.0, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1 + 2 ** -24 + 2 ** -50, 0.1, -0.0, 2.0 ** -149, 2.0 ** -150,
           3 * 2.0 ** -151, 1e-45, 3.4028235677973366e38, 3.4028235e38, 1e39, -1e300, math.inf, math.nan,
           123456789.123]
    f16 = [1.0, 0.5, -2.0, 65504.0, 1 / 3, 0.1, 2.0 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -math.inf, 6.1e-5, 3e-8]
    bf16 = [1.0, 1 / 3, 0.1, -3.140625, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1e38, 2.0 ** -133, 1e-40, -0.0, 3.3e38]
    expected["python_mixed_dtypes.safetensors"] = write(
        os.path.join(HERE, "python_mixed_dtypes.safetensors"),
        {
            "f64.rounding": ("F64", [len(f64)], f64),
            "f32.plain": ("F32", [2, 3], [0.25, -1.5, 3.0, 1e-3, 7.0, -0.0]),
            "f32.empty": ("F32", [0, 3], []),
            "bf16.values": ("BF16", [len(bf16)], bf16),
            "f16.values": ("F16", [3, 4], f16),
            "num_batches_tracked": ("I64", [], [7]),
        },
        metadata={"format": "pt"},
    )

    # 2. The state_dict of a model with lstm = nn.LSTM(2, 3) and head = nn.Linear(3, 1), F32 as save_file writes it.
    model = {
        "lstm.weight_ih_l0": [12, 2], "lstm.weight_hh_l0": [12, 3], "lstm.bias_ih_l0": [12], "lstm.bias_hh_l0": [12],
        "head.weight": [1, 3], "head.bias": [1],
    }
    tensors = {}
    for i, (name, shape) in enumerate(model.items()):
        count = 1
        for d in shape:
            count *= d
        tensors[name] = ("F32", shape, lcg_values(1000 + i, count))
    expected["python_lstm_head.safetensors"] = write(
        os.path.join(HERE, "python_lstm_head.safetensors"), tensors, metadata={"format": "pt"})

    with open(os.path.join(HERE, "python_expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")

    if len(sys.argv) > 1:
        # Seeds for the fuzzer: the two files above plus the smallest valid files.
        corpus = sys.argv[1]
        os.makedirs(corpus, exist_ok=True)
        for name in ("python_mixed_dtypes.safetensors", "python_lstm_head.safetensors"):
            with open(os.path.join(HERE, name), "rb") as src, open(os.path.join(corpus, name), "wb") as dst:
                dst.write(src.read())
        write(os.path.join(corpus, "empty.safetensors"), {})
        write(os.path.join(corpus, "metadata_only.safetensors"), {}, metadata={"format": "pt"})
        write(os.path.join(corpus, "linear_1x1.safetensors"), {"weight": ("F32", [1, 1], [0.5]), "bias": ("F32", [1], [-0.25])})


if __name__ == "__main__":
    main()

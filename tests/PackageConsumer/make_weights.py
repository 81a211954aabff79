"""Writes consumer-weights.safetensors: the trained weights of the consumer's baked LSTMCell(1, 5), under "cell.".

Standard library only. The values are a fixed pseudo-random sequence (not trained; what matters is that they come
from a file the generator bakes at compile time). Run: python3 make_weights.py
"""
import json
import random
import struct

random.seed(5)
hidden, inputs = 5, 1
tensors = {
    "cell.weight_ih": (4 * hidden, inputs),
    "cell.weight_hh": (4 * hidden, hidden),
    "cell.bias_ih": (4 * hidden,),
    "cell.bias_hh": (4 * hidden,),
}
header, data = {}, b""
for name in sorted(tensors):
    shape = tensors[name]
    count = 1
    for d in shape:
        count *= d
    values = [random.uniform(-0.6, 0.6) for _ in range(count)]
    chunk = struct.pack("<%df" % count, *values)
    header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [len(data), len(data) + len(chunk)]}
    data += chunk
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open("consumer-weights.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)

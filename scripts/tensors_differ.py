#!/usr/bin/env python3
"""tensors_differ.py A B: prints the names of the tensors that differ between two safetensors files
(dtype, shape or bytes; a tensor in only one file counts), one line, empty when every tensor is
byte-identical; metadata is ignored. Exit 0 when identical, 1 otherwise. Standard library only, so
CI needs nothing installed. Used by scripts/kill_soak.sh and dev/trainer_parity.sh."""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    header.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], body[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}


a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
differing = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
print(" ".join(differing))
sys.exit(1 if differing else 0)

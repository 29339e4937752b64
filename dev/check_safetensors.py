#!/usr/bin/env python3
"""Loads a safetensors file written by PolicyDiffusion with Python's `safetensors` and checks it
against an expectation given as JSON on the command line: {"name": [dtype, shape, flat values]},
plus "__metadata__". Exit 0 when everything matches. Used by SafeTensorsTests.
"""
import json
import sys

import numpy as np
from safetensors import safe_open

path, expected = sys.argv[1], json.loads(sys.argv[2])
with safe_open(path, framework="numpy") as f:
    meta = f.metadata() or {}
    want_meta = expected.pop("__metadata__", {})
    for k, v in want_meta.items():
        assert meta.get(k) == v, f"metadata {k}: {meta.get(k)!r} != {v!r}"
    assert sorted(f.keys()) == sorted(expected), f"keys {sorted(f.keys())} != {sorted(expected)}"
    for name, (dtype, shape, values) in expected.items():
        a = f.get_tensor(name)
        assert str(a.dtype) == dtype, f"{name}: dtype {a.dtype} != {dtype}"
        assert list(a.shape) == shape, f"{name}: shape {list(a.shape)} != {shape}"
        assert np.array_equal(a.reshape(-1), np.array(values, dtype=a.dtype)), f"{name}: values differ"
print("ok")

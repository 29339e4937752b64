#!/usr/bin/env python3
"""Writes Tests/TensorCoreTests/Fixtures/python_written.safetensors with Python's `safetensors`.

The Swift test `SafeTensorsTests.loadsFileWrittenByPython` checks these exact values, so the fixture
proves interop with the reference implementation, not with our own writer.
Run: python3 -m pip install safetensors numpy && python3 dev/make_safetensors_fixture.py
"""
import pathlib

import numpy as np
from safetensors.numpy import save_file

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/TensorCoreTests/Fixtures/python_written.safetensors"
tensors = {
    "weights.f32": np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1),
    "values.f64": np.array([0.5, -1.25, 3e-300], dtype=np.float64),
    "steps.i64": np.array([-3, 7, 2**40], dtype=np.int64),
    "state.u64": np.array([2**63 + 5], dtype=np.uint64),
    "mask.bool": np.array([[True, False, True]], dtype=np.bool_),
    "empty.f32": np.zeros((0, 4), dtype=np.float32),
}
save_file(tensors, str(out), metadata={"source": "safetensors-python", "config": '{"hidden": 256}'})
print(f"wrote {out}")

#!/usr/bin/env python3
"""Loads a dataset written by PolicyDiffusion with h5py (.hdf5) or numpy (.npz) and checks its
D4RL keys, dtypes and shapes (run by OfflineRLTests.DataIOTests.pythonReadsOurFiles).

usage: check_offline_files.py FILE ROWS OBS_DIM ACT_DIM
"""
import sys

import numpy as np

path, rows, obs_dim, act_dim = sys.argv[1], *map(int, sys.argv[2:5])
if path.endswith(".npz"):
    f = dict(np.load(path))
    get = lambda k: f[k]
else:
    import h5py
    h = h5py.File(path, "r")
    get = lambda k: h[k][()]
expect = {
    "observations": (np.float32, (rows, obs_dim)), "next_observations": (np.float32, (rows, obs_dim)),
    "actions": (np.float32, (rows, act_dim)), "rewards": (np.float32, (rows,)),
    "terminals": (np.bool_, (rows,)), "timeouts": (np.bool_, (rows,)),
}
for k, (dtype, shape) in expect.items():
    a = get(k)
    assert a.dtype == dtype, f"{k}: dtype {a.dtype}, expected {np.dtype(dtype)}"
    assert a.shape == shape, f"{k}: shape {a.shape}, expected {shape}"
    assert np.all(np.isfinite(a.astype(np.float64))), f"{k}: non-finite values"
print("ok", path)

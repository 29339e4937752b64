#!/usr/bin/env python3
"""Writes the offline-RL interop fixtures with h5py and numpy (the reference writers):

  Tests/OfflineRLTests/Fixtures/d4rl_tiny.hdf5   D4RL/DSRL layout, HDF5 libver pinned to v110
  Tests/OfflineRLTests/Fixtures/numpy_tiny.npz   np.savez_compressed (deflated, ZIP64 headers)

Values follow closed forms that the Swift tests recompute (OfflineRLTests/DataIOTests), so the
fixtures prove interop with h5py/numpy rather than with our own writers.
Run: python3 -m pip install h5py numpy && python3 dev/make_offline_fixtures.py
"""
import pathlib

import h5py
import numpy as np

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/OfflineRLTests/Fixtures"
out.mkdir(parents=True, exist_ok=True)
n = 7
obs = (np.arange(n * 3, dtype=np.float32).reshape(n, 3) * np.float32(0.25) - np.float32(1))
arrays = {
    "observations": obs,
    "next_observations": obs + np.float32(0.5),
    "actions": (np.arange(n * 2, dtype=np.float64).reshape(n, 2) / 10.0 - 0.5),  # float64 on purpose
    "rewards": np.arange(n, dtype=np.float32) - np.float32(2),
    "costs": (np.arange(n) % 2).astype(np.float32),
    "terminals": np.array([0, 0, 1, 0, 0, 0, 0], dtype=np.bool_),
    "timeouts": np.array([0, 0, 0, 0, 0, 0, 1], dtype=np.bool_),
    "infos/goal": np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32),
}
with h5py.File(out / "d4rl_tiny.hdf5", "w", libver=("earliest", "v110")) as f:
    for k, v in arrays.items():
        f.create_dataset(k, data=v, compression="gzip" if k == "observations" else None)
    f.attrs["env"] = "fixture-env"
    f.create_dataset("metadata/algorithm", data="h5py")  # a string dataset: not an array we read
np.savez_compressed(out / "numpy_tiny.npz", **arrays)
print(f"wrote {out}/d4rl_tiny.hdf5 and numpy_tiny.npz")

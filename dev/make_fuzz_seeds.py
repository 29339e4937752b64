#!/usr/bin/env python3
"""Fuzz seeds written by the reference libraries (called by dev/make_fuzz_seeds.sh): OUT/{hdf5,npz,npy,safetensors}/.

Each file is valid for its library and exercises a different branch of our reader: dtypes, byte order,
Fortran order, format versions, chunking and filters, compressed and stored zip members, HDF5 file-format
versions. Small on purpose (libFuzzer mutates every byte of every input).
"""
import pathlib
import sys

import h5py
import numpy as np
from safetensors.numpy import save_file

out = pathlib.Path(sys.argv[1])
for d in ("hdf5", "npz", "npy", "safetensors"):
    (out / d).mkdir(parents=True, exist_ok=True)

n = 5
obs = np.arange(n * 3, dtype=np.float32).reshape(n, 3) / 4
d4rl = {
    "observations": obs,
    "next_observations": obs + 0.5,
    "actions": np.linspace(-1, 1, n * 2).reshape(n, 2),
    "rewards": np.arange(n, dtype=np.float32),
    "costs": (np.arange(n) % 2).astype(np.float32),
    "terminals": np.array([0, 0, 1, 0, 0], dtype=np.bool_),
    "timeouts": np.array([0, 0, 0, 0, 1], dtype=np.bool_),
}

# HDF5: both file-format generations, contiguous / chunked / gzip / shuffle, float64 and uint8 flags.
variants = {
    "earliest-contiguous": dict(libver=("earliest", "v110"), opts={}),
    "latest-chunked-gzip": dict(libver="latest", opts=dict(chunks=True, compression="gzip", compression_opts=9)),
    "v110-shuffle": dict(libver=("earliest", "v110"), opts=dict(chunks=True, shuffle=True, compression="gzip")),
}
for name, v in variants.items():
    with h5py.File(out / "hdf5" / f"{name}.hdf5", "w", libver=v["libver"]) as f:
        for k, a in d4rl.items():
            f.create_dataset(k, data=a, **v["opts"])
        f.create_dataset("infos/goal", data=obs[:, :2].astype(np.float64))
with h5py.File(out / "hdf5" / "uint8-flags-big-endian.hdf5", "w") as f:
    for k, a in d4rl.items():
        a = a.astype(np.uint8) if a.dtype == np.bool_ else a.astype(a.dtype.newbyteorder(">"))
        f.create_dataset(k, data=a)

# NPZ: stored and deflated members.
np.savez(out / "npz" / "stored.npz", **d4rl)
np.savez_compressed(out / "npz" / "deflated.npz", **d4rl)

# NPY: dtypes, byte orders, Fortran order, 0-d and empty arrays, format 2.0 (a 4-byte header length).
arrays = {
    "f4": obs, "f8-fortran": np.asfortranarray(obs.astype(np.float64)), "f4-big": obs.astype(">f4"),
    "i8": np.arange(6, dtype=np.int64).reshape(2, 3), "u1": np.arange(8, dtype=np.uint8),
    "bool": np.array([True, False, True]), "scalar": np.array(3.5, dtype=np.float32),
    "empty": np.zeros((0, 4), dtype=np.float32), "f2": obs.astype(np.float16),
}
for name, a in arrays.items():
    np.save(out / "npy" / f"{name}.npy", a)
with open(out / "npy" / "version-2.npy", "wb") as f:
    np.lib.format.write_array(f, obs, version=(2, 0))

# safetensors: several dtypes, metadata, a zero-sized tensor.
save_file({"w": obs, "b": np.zeros(3, dtype=np.float32)}, str(out / "safetensors" / "f32.safetensors"),
          metadata={"kind": "agent", "format": "pt"})
save_file({"x": obs.astype(np.float16), "i": np.arange(4, dtype=np.int64), "e": np.zeros((0, 2), np.float32)},
          str(out / "safetensors" / "mixed.safetensors"))
save_file({"x": obs.astype(np.float64)}, str(out / "safetensors" / "f64.safetensors"))
print(f"wrote reference seeds under {out}")

#!/usr/bin/env python3
"""fisor_patch_checkpoint.py IN OUT key=JSON…: a copy of a FISOR checkpoint whose hyperparameters (the
settings FISORPolicy reads at evaluation) have the given keys replaced, e.g. candidates=1 (the actor's own
sample) or selection="feasible-sample". Tensors are copied byte for byte (experiments/fisor_actor_curve.sh)."""
import json, struct, sys

src, dst = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
settings = json.loads(header["__metadata__"]["hyperparameters"])
for kv in sys.argv[3:]:
    key, value = kv.split("=", 1)
    if key not in settings:
        sys.exit(f"no setting {key}")
    settings[key] = json.loads(value)
header["__metadata__"]["hyperparameters"] = json.dumps(settings, separators=(",", ":"))
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])

#!/usr/bin/env python3
"""Fixtures for the image loaders (issue #31): PNG files written by Pillow, each beside the pixels Pillow
decodes from it (the independent reference our PNG decoder is tested against), refused kinds, numpy arrays in
the layouts users hand over, and an ImageFolder. Writes Tests/SePPOTests/Fixtures/images/.
Usage: python3 dev/make_image_fixtures.py   (needs numpy and Pillow; dev only)"""
import os
import struct
import zlib
import numpy as np
from PIL import Image

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "SePPOTests", "Fixtures", "images")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(31)


def picture(h, w, c):
    # Noise, gradients and flat runs, so Pillow's per-row filter choice visits every filter type.
    y, x = np.mgrid[0:h, 0:w]
    base = (x * 255 // max(w - 1, 1) + y * 7) % 256
    img = np.stack([(base + 40 * k) % 256 for k in range(c)], axis=-1).astype(np.uint8)
    noisy = rng.random((h, w)) < 0.3
    img[noisy] = rng.integers(0, 256, size=(noisy.sum(), c), dtype=np.uint8)
    img[h // 2] = 17  # a flat row
    return img


for name, mode, c in (("gray", "L", 1), ("gray-alpha", "LA", 2), ("rgb", "RGB", 3), ("rgba", "RGBA", 4)):
    px = picture(13, 11, c)
    Image.fromarray(px[..., 0] if c == 1 else px, mode).save(os.path.join(out, f"{name}.png"))
    back = np.asarray(Image.open(os.path.join(out, f"{name}.png")))
    np.save(os.path.join(out, f"{name}.pixels.npy"), back.reshape(13, 11, c))

# Every filter type (Pillow's writer picks only some): rows filtered 0, 1, 2, 3, 4, 0, … by hand, written
# with zlib; the reference pixels are Pillow's decode of the file.
def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


px = picture(10, 6, 3).astype(int)
h, w, c = px.shape
rows = b""
for y in range(h):
    f = y % 5
    line = px[y].reshape(-1)
    up = px[y - 1].reshape(-1) if y else np.zeros_like(line)
    enc = []
    for i, v in enumerate(line):
        a = line[i - c] if i >= c else 0
        b = up[i]
        cc = up[i - c] if i >= c else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, cc)][f]
        enc.append((v - pred) % 256)
    rows += bytes([f] + enc)
with open(os.path.join(out, "all-filters.png"), "wb") as fh:
    fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
             + chunk(b"IDAT", zlib.compress(rows)[:40]) + chunk(b"IDAT", zlib.compress(rows)[40:]) + chunk(b"IEND", b""))
back = np.asarray(Image.open(os.path.join(out, "all-filters.png")))
assert (back == px).all()
np.save(os.path.join(out, "all-filters.pixels.npy"), back)

# Refused: a palette image and a 16-bit grey image.
Image.fromarray(picture(6, 5, 3)).convert("P").save(os.path.join(out, "refused-palette.png"))
Image.fromarray(picture(6, 5, 1)[..., 0].astype(np.uint16) * 257).save(os.path.join(out, "refused-16bit.png"))

# numpy layouts: uint8 [N, H, W, C] with labels in an npz, float [N, C, H, W] in [0, 1], grey [N, H, W].
nhwc = np.stack([picture(9, 7, 3) for _ in range(4)])
np.savez_compressed(os.path.join(out, "rgb-nhwc.npz"), images=nhwc, labels=np.array([0, 1, 2, 1], dtype=np.int64))
np.save(os.path.join(out, "rgb-nchw-unit.npy"), (nhwc.transpose(0, 3, 1, 2) / 255.0).astype(np.float32))
np.save(os.path.join(out, "gray-nhw.npy"), nhwc[..., 0])
np.save(os.path.join(out, "labels.npy"), np.array([3, 0, 1, 2], dtype=np.int32))

# ImageFolder: one sub-folder per class.
for k, cls in enumerate(("circle", "square")):
    os.makedirs(os.path.join(out, "folder", cls), exist_ok=True)
    for i in range(2):
        Image.fromarray(nhwc[2 * k + i], "RGB").save(os.path.join(out, "folder", cls, f"{i}.png"))
print("wrote", out)

"""Decodes a PNG written by PolicyDiffusion with Pillow and compares its pixels with the raw bytes
the writer was given (SePPOTests, PNG round trip). Usage: check_png.py FILE.png FILE.raw WIDTH HEIGHT.
A development check only: the library never calls Python."""
import sys

from PIL import Image

png, raw, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
image = Image.open(png)
image.load()
if image.mode != "L" or image.size != (width, height):
    sys.exit(f"decoded mode {image.mode} size {image.size}, expected L {(width, height)}")
expected = open(raw, "rb").read()
if image.tobytes() != expected:
    sys.exit("decoded pixels differ from the written ones")
print("ok")

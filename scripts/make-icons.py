#!/usr/bin/env python3
"""Draws Petrel's app icons (PNG, stdlib only): a white petrel in flight on the accent blue.
`any` icons have rounded corners; `maskable` ones fill the square with the bird inside the 80% safe
zone browsers keep when they cut their own shape. Run it again after changing the drawing; the PNGs
are committed (assets/icons/)."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "assets", "icons")
BLUE, WHITE = (30, 90, 200), (255, 255, 255)
# The bird, in a 0..1 box: two swept wings meeting at the body.
BIRD = [(0.08, 0.42), (0.36, 0.50), (0.50, 0.62), (0.64, 0.50), (0.92, 0.42), (0.66, 0.60), (0.54, 0.74),
        (0.50, 0.80), (0.46, 0.74), (0.34, 0.60)]


def inside(x, y, poly):
    hit = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def draw(size, maskable):
    scale = 0.8 if maskable else 1.0
    offset = (1 - scale) / 2
    bird = [(offset + x * scale, offset + (y - 0.1) * scale) for x, y in BIRD]
    radius = 0 if maskable else 0.18
    rows = []
    for py in range(size):
        row = bytearray(b"\x00")
        for px in range(size):
            x, y = (px + 0.5) / size, (py + 0.5) / size
            # Rounded corners: outside them is transparent.
            cx, cy = min(max(x, radius), 1 - radius), min(max(y, radius), 1 - radius)
            if radius and (x - cx) ** 2 + (y - cy) ** 2 > radius ** 2:
                row += bytes((0, 0, 0, 0))
                continue
            row += bytes(WHITE if inside(x, y, bird) else BLUE) + b"\xff"
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def main():
    os.makedirs(OUT, exist_ok=True)
    for size in (192, 512):
        for maskable in (False, True):
            name = "icon-%d%s.png" % (size, "-maskable" if maskable else "")
            with open(os.path.join(OUT, name), "wb") as f:
                f.write(draw(size, maskable))
            print("wrote", name)


if __name__ == "__main__":
    main()

"""The frames the explorer sends to the browser: PNGs that cost what changed.

ipympl (through matplotlib's web canvas) sends each redraw as a full-size PNG of the changed
pixels, every other pixel zero (transparent), and the page draws it over the last frame.
Encoding that PNG with Pillow took 9-15 ms of each batch move's ~28 ms in the kernel
(tests/test_browser_explorer.py on this 2-core machine), though a move changes a few
thousand of the figure's 428,000 pixels. `png_rgba` writes the same PNG (8-bit RGBA, no row
filter) and deflates only the rows that hold something: a run of all-zero rows is a cached
deflate block, its checksum computed in closed form. `send_cheap_frames(canvas)` makes a web
canvas encode its frames that way.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import Any

import numpy as np

#: zlib level for the rows that changed (1: fastest; a frame is a few kB either way).
LEVEL = 1
_ADLER_MOD = 65521
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no preset dictionary, "fastest"
_FINAL_BLOCK = zlib.compressobj(LEVEL, zlib.DEFLATED, -15).flush()  # an empty last block


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


@functools.lru_cache(maxsize=2048)
def _zero_block(n_bytes: int) -> bytes:
    """n_bytes zero bytes as raw deflate blocks ending on a byte boundary (so blocks join)."""
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return deflate.compress(bytes(n_bytes)) + deflate.flush(zlib.Z_SYNC_FLUSH)


def _adler_after_zeros(adler: int, n_bytes: int) -> int:
    """Adler-32 after n_bytes more zero bytes: the byte sum stays, the sum of sums grows by n * it."""
    low, high = adler & 0xFFFF, adler >> 16
    return (((high + n_bytes * low) % _ADLER_MOD) << 16) | low


def png_rgba(pixels: np.ndarray, busy_rows: np.ndarray | None = None) -> bytes:
    """An (height, width, 4) uint8 RGBA array as PNG bytes (8-bit RGBA, row filter 0).

    Runs of rows that are all zero (the unchanged part of a diff frame) cost a cached deflate
    block; only the other rows go through zlib. busy_rows: per row, whether it may hold a
    nonzero byte, where the caller knows (found from the pixels otherwise)."""
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be a (height, width, 4) uint8 array, got {pixels.dtype} {pixels.shape}")
    height, width, _ = pixels.shape
    flat = pixels.reshape(height, 4 * width)
    row_bytes = 1 + 4 * width  # each row starts with its filter byte (0: none)
    busy = flat.any(axis=1) if busy_rows is None else np.asarray(busy_rows, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], busy, [False])).astype(np.int8)))
    body, adler, row = [_ZLIB_HEADER], 1, 0
    for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        for lo, hi, zero in ((row, start, True), (start, stop, False)):
            if hi <= lo:
                continue
            if zero:
                body.append(_zero_block(row_bytes * (hi - lo)))
                adler = _adler_after_zeros(adler, row_bytes * (hi - lo))
            else:
                raw = np.zeros((hi - lo, row_bytes), np.uint8)
                raw[:, 1:] = flat[lo:hi]
                data = raw.tobytes()
                deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
                body.append(deflate.compress(data) + deflate.flush(zlib.Z_SYNC_FLUSH))
                adler = zlib.adler32(data, adler)
        row = stop
    if row < height:
        body.append(_zero_block(row_bytes * (height - row)))
        adler = _adler_after_zeros(adler, row_bytes * (height - row))
    body += [_FINAL_BLOCK, struct.pack(">I", adler)]
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, deflate, filter 0, no interlace
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(body)) + _chunk(b"IEND", b"")


def _diff_image(canvas: Any) -> bytes | None:
    """matplotlib's FigureCanvasWebAggCore.get_diff_image (3.8-3.11), encoded by png_rgba."""
    if not canvas._png_is_old:
        return None
    pixels = np.asarray(canvas.get_renderer().buffer_rgba())
    buff = pixels.view(np.uint32).squeeze(2)
    busy = None
    opaque = bool((buff >= 0xFF000000).all()) if np.little_endian else bool((pixels[:, :, 3] == 255).all())
    if canvas._force_full or buff.shape != canvas._last_buff.shape or not opaque:
        canvas.set_image_mode("full")  # transparent pixels cannot be laid over the last frame
        output = buff
    else:
        canvas.set_image_mode("diff")
        changed = buff != canvas._last_buff
        busy = changed.any(axis=1)
        output = np.zeros_like(buff)
        np.copyto(output, buff, where=changed)  # what changed, zero (transparent) elsewhere
    canvas._last_buff = buff.copy()
    canvas._force_full = False
    canvas._png_is_old = False
    return png_rgba(output.view(np.uint8).reshape((*output.shape, 4)), busy)


_WEB_CANVAS = ("get_diff_image", "_png_is_old", "_force_full", "_last_buff", "set_image_mode", "get_renderer")


def send_cheap_frames(canvas: Any) -> bool:
    """Make a matplotlib web canvas (ipympl's, webagg's) encode its frames with png_rgba.
    False, changing nothing, for any other canvas (Agg, inline)."""
    if not all(hasattr(canvas, name) for name in _WEB_CANVAS):
        return False
    canvas.get_diff_image = functools.partial(_diff_image, canvas)
    return True


__all__ = ["LEVEL", "png_rgba", "send_cheap_frames"]

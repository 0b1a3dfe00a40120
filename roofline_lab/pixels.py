"""Data to pixels on log axes, by arithmetic.

On a base-10 log axis a pixel is affine in log10 of the data:
`px = x0 + (log10(x) - log10(lo)) * width / (log10(hi) - log10(lo))`, with (lo, hi) the
limits and (x0, width) the axes' box in pixels. Asking matplotlib's transform for one point
costs ~17 us; the explorer asks for dozens per move (labels, fills, stars), so the figure
code asks here first and falls back to the transform for any other axis.
"""

from __future__ import annotations

import math
from typing import Any


def _log10_axis(axis: Any) -> bool:
    return axis.get_scale() == "log" and getattr(axis.get_transform(), "base", None) == 10


def log_pixel(lo: float, hi: float, start: float, length: float, value: float) -> float:
    """Pixel of `value` on a log10 axis with limits (lo, hi) spanning `length` pixels from
    `start`. value, lo and hi must be > 0."""
    a, b = math.log10(lo), math.log10(hi)
    return start + (math.log10(value) - a) * length / (b - a)


def data_pixels(ax: Any, x: float, y: float, transform: Any = None) -> tuple[float, float] | None:
    """Pixels of (x, y) under `transform` (default ax.transData), computed directly when that
    is ax's data transform on log-log axes, or its x-axis transform (x data, y a fraction of
    the axes' height) on a log x axis; None otherwise, or where a value is not > 0 (then ask
    the transform)."""
    transform = ax.transData if transform is None else transform
    data = transform is ax.transData
    if not (data or transform is ax.get_xaxis_transform()):
        return None
    if not (x > 0 and _log10_axis(ax.xaxis) and (y > 0 and _log10_axis(ax.yaxis) if data else math.isfinite(y))):
        return None
    (x0, y0), (x1, y1) = ax.bbox.get_points().tolist()
    (lo_x, lo_y), (hi_x, hi_y) = ax.viewLim.get_points().tolist()  # one look at the limits (~5 us each)
    px = log_pixel(lo_x, hi_x, x0, x1 - x0, x)
    return (px, log_pixel(lo_y, hi_y, y0, y1 - y0, y)) if data else (px, y0 + y * (y1 - y0))


__all__ = ["data_pixels", "log_pixel"]

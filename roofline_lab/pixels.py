"""Data to pixels on log axes, by arithmetic.

On a base-10 log axis a pixel is affine in log10 of the data:
`px = x0 + (log10(x) - log10(lo)) * width / (log10(hi) - log10(lo))`, with (lo, hi) the
limits and (x0, width) the axes' box in pixels. matplotlib keeps that affine map as two
matrices (`ax.transLimits`, then `ax.transAxes`, recomputed when the limits or the box
change); asking its transform for one point costs ~17 us, and the explorer asks for dozens
per move (labels, fills, stars), so the figure code asks here first and falls back to the
transform for any other axis.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _log10_axis(axis: Any) -> bool:
    return axis.get_scale() == "log" and getattr(axis.get_transform(), "base", None) == 10


def _maps(ax: Any) -> tuple[float, float, float, float, float, float]:
    """(kx, cx, ky, cy, sy, ty): pixel x = kx * log10(x) + cx, pixel y = ky * log10(y) + cy,
    and for a fraction f of the axes' height, pixel y = sy * f + ty."""
    (sx, _, tx), (_, sy, ty), _ = ax.transAxes.get_matrix().tolist()  # unit square -> pixels
    (lx, _, ux), (_, ly, uy), _ = ax.transLimits.get_matrix().tolist()  # log10(data) -> unit square
    return sx * lx, sx * ux + tx, sy * ly, sy * uy + ty, sy, ty


def data_pixels(ax: Any, x: float, y: float, y_fraction: bool = False) -> tuple[float, float] | None:
    """Pixels of (x, y): data coordinates on log-log axes (ax.transData), or with
    y_fraction=True, x in data on a log x axis and y a fraction of the axes' height
    (ax.get_xaxis_transform()). None on other axes, or where a value is not > 0 (or y not
    finite): then ask the transform."""
    if not (x > 0 and _log10_axis(ax.xaxis)):
        return None
    if not (math.isfinite(y) if y_fraction else y > 0 and _log10_axis(ax.yaxis)):
        return None
    kx, cx, ky, cy, sy, ty = _maps(ax)
    return kx * math.log10(x) + cx, sy * y + ty if y_fraction else ky * math.log10(y) + cy


def data_pixels_array(ax: Any, xy: Any) -> np.ndarray | None:
    """data_pixels for many points: (n, 2) data on log-log axes -> (n, 2) pixels, the points
    not > 0 (or not finite) dropped; None on other axes."""
    if not (_log10_axis(ax.xaxis) and _log10_axis(ax.yaxis)):
        return None
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    with np.errstate(invalid="ignore"):
        xy = xy[np.all((xy > 0) & np.isfinite(xy), axis=1)]
    kx, cx, ky, cy, _sy, _ty = _maps(ax)
    logs = np.log10(xy)
    return np.column_stack([kx * logs[:, 0] + cx, ky * logs[:, 1] + cy])


__all__ = ["data_pixels", "data_pixels_array"]

"""Roofline pictures in pure matplotlib: any backend, every helper takes ``ax=None`` and
returns its artists so that a widget can move them and an export can reuse them.

    from roofline_lab.plot import draw_roofline, draw_points, roofline_figure
    fig, artists = roofline_figure("a100-lab", "8b-lab", "fp16")

Axes are log-log: x is arithmetic intensity in FLOP/byte, y attainable FLOP/s with tick
labels in TFLOP/s. Colours are the Okabe-Ito palette (colour-blind safe) and every series
also has its own marker, so the figures read in greyscale and on a projector.

The explorer's three-panel figure is `roofline_lab.figure.ExplorerFigure`, built from
these helpers; labels that move often are `roofline_lab.labels.PathLabel`s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from roofline_lab import _checks, reference
from roofline_lab.dtypes import canonical_dtype
from roofline_lab.hardware import get_gpu
from roofline_lab.labels import TextLabel, make_label
from roofline_lab.models import get_model
from roofline_lab.step_model import attainable_flops, decode_step
from roofline_lab.units import TERA, tick_number

#: Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: What each series looks like: colour AND marker, so greyscale still tells them apart.
STYLE: dict[str, dict[str, Any]] = {
    "roofline": {"color": OKABE_ITO["black"], "linewidth": 2.0},
    "ridge": {"color": OKABE_ITO["black"], "marker": "D", "markersize": 7},
    "decode": {"color": OKABE_ITO["blue"], "marker": "o", "markersize": 7},
    "prefill": {"color": OKABE_ITO["vermillion"], "marker": "s", "markersize": 7},
    "current": {
        "color": OKABE_ITO["yellow"], "marker": "*", "markersize": 18,
        "markeredgecolor": OKABE_ITO["black"], "markeredgewidth": 1.3,
    },
    "throughput": {"color": OKABE_ITO["bluish_green"], "linewidth": 2.0},
    "latency": {"color": OKABE_ITO["reddish_purple"], "linewidth": 2.0},
    "ideal": {"color": "0.45", "linewidth": 1.2, "linestyle": ":"},
    "wall": {"color": OKABE_ITO["vermillion"], "linewidth": 1.6, "linestyle": "--"},
}
MEMORY_SHADE = OKABE_ITO["sky_blue"]
COMPUTE_SHADE = OKABE_ITO["orange"]

DEFAULT_X_RANGE = (0.1, 1e4)


# --------------------------------------------------------------------------- formatting


def _number(x: float) -> str:
    """1 -> '1', 0.5 -> '0.5', 2048 -> '2,048', 1e6 -> '1M': tick labels without 1e3."""
    return tick_number(x)


def _tflops_tick(y: float, _pos: object = None) -> str:
    """FLOP/s -> TFLOP/s tick label: 3.12e14 -> '312', 1e11 -> '0.1'."""
    return _number(y / TERA)


def _plain_tick(x: float, _pos: object = None) -> str:
    return _number(x)


def style_log_axes(ax: Axes, *, xlabel: str, ylabel: str, y_in_tflops: bool = False, minor: bool = True) -> None:
    """Log-log axes with plain-number (or TFLOP/s) decade labels, unit-bearing labels, a grid.

    minor=False drops the minor ticks (a third of a full redraw's time on a log axis)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for axis, fmt in ((ax.xaxis, _plain_tick), (ax.yaxis, _tflops_tick if y_in_tflops else _plain_tick)):
        axis.set_major_locator(LogLocator(base=10, numticks=12))
        axis.set_major_formatter(FuncFormatter(fmt))
        axis.set_minor_formatter(NullFormatter())
        if not minor:
            axis.set_minor_locator(NullLocator())
    ax.grid(True, which="major", color="0.85", linewidth=0.8)
    ax.set_axisbelow(True)


def style_roofline_axes(ax: Axes, *, minor: bool = True) -> None:
    """The roofline's axes: x intensity (FLOP/byte), y attainable TFLOP/s, both log."""
    style_log_axes(
        ax, xlabel="arithmetic intensity (FLOP/byte)", ylabel="attainable TFLOP/s", y_in_tflops=True,
        minor=minor,
    )


def _label(ax: Axes, text: str = "", xy: tuple[float, float] = (1.0, 1.0), **kwargs: Any) -> Any:
    """A moving (animated) label is cheap to blit (labels.make_label); a still one is real text."""
    return (make_label if kwargs.get("animated") else TextLabel)(ax, text, xy, **kwargs)


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
        return ax
    import matplotlib.pyplot as plt  # only when the caller wants a new figure

    _fig, new = plt.subplots(figsize=(7, 4.5))
    return new


def _x_range(x_range: Sequence[float]) -> tuple[float, float]:
    if not isinstance(x_range, (tuple, list)) or len(x_range) != 2:
        raise TypeError(f"x_range must be a (low, high) pair of FLOP/byte, got {x_range!r}")
    lo = _checks.number("x_range[0]", x_range[0])
    hi = _checks.number("x_range[1]", x_range[1])
    if not lo < hi:
        raise ValueError(f"x_range must have low < high, got {x_range!r}")
    return lo, hi


# --------------------------------------------------------------------------- the roofline


def draw_roofline(
    peak_flops: float,
    mem_bandwidth: float,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    x_range: Sequence[float] = DEFAULT_X_RANGE,
    shade: bool = True,
    animated: bool = False,
) -> dict[str, Any]:
    """Draw one roofline: the memory slope, the compute plateau, the ridge marked and labelled.

    peak_flops in FLOP/s, mem_bandwidth in bytes/s, x_range in FLOP/byte. With shade=True
    the memory-bound (left of the ridge) and compute-bound regions are tinted and named.
    Styles the axes (log-log, units) when they are empty. Returns a dict of artists:
    'slope', 'plateau', 'ridge', 'ridge_label' and, with shade, 'memory_region',
    'compute_region', 'memory_text', 'compute_text'. Move them with `update_roofline`.
    """
    _checks.number("peak_flops", peak_flops)
    _checks.number("mem_bandwidth", mem_bandwidth)
    lo, hi = _x_range(x_range)
    ax = _new_axes(ax)
    if not ax.has_data() and ax.get_xscale() != "log":
        style_roofline_axes(ax)
    ax.set_xlim(lo, hi)
    style = STYLE["roofline"]
    artists: dict[str, Any] = {}
    if shade:
        artists["memory_region"] = ax.axvspan(lo, hi, color=MEMORY_SHADE, alpha=0.13, lw=0, animated=animated)
        artists["compute_region"] = ax.axvspan(lo, hi, color=COMPUTE_SHADE, alpha=0.13, lw=0, animated=animated)
        text_style = dict(transform=ax.get_xaxis_transform(), fontsize=9, color="0.25", animated=animated)
        artists["memory_text"] = _label(ax, "memory-bound", (lo, 0.03), ha="right", **text_style)
        artists["compute_text"] = _label(ax, "compute-bound", (lo, 0.03), ha="left", **text_style)
    (artists["slope"],) = ax.plot([], [], **style, label=label, animated=animated)
    (artists["plateau"],) = ax.plot([], [], **style, animated=animated)
    (artists["ridge"],) = ax.plot([], [], linestyle="none", **STYLE["ridge"], animated=animated)
    artists["ridge_label"] = _label(ax, offset=(0, 14), ha="center", fontsize=9, animated=animated)
    update_roofline(artists, peak_flops, mem_bandwidth, (lo, hi))
    return artists


def update_roofline(
    artists: dict[str, Any], peak_flops: float, mem_bandwidth: float, x_range: Sequence[float]
) -> float:
    """Move the artists of `draw_roofline` to a new chip or x range; returns the ridge (FLOP/byte)."""
    lo, hi = _x_range(x_range)
    ridge = reference.ridge_point(
        _checks.number("peak_flops", peak_flops), _checks.number("mem_bandwidth", mem_bandwidth)
    )
    xs = np.array([lo, min(max(ridge, lo), hi)])
    artists["slope"].set_data(xs, attainable_flops(xs, peak_flops, mem_bandwidth))
    artists["plateau"].set_data([min(max(ridge, lo), hi), hi], [peak_flops, peak_flops])
    artists["ridge"].set_data([ridge], [peak_flops])
    label = artists["ridge_label"]
    label.set_position((ridge, peak_flops))
    label.set_text(f"ridge {_number(ridge)} FLOP/B")
    label.set_visible(lo <= ridge <= hi)
    if "memory_region" in artists:
        edge = min(max(ridge, lo), hi)
        artists["memory_region"].set_x(lo)
        artists["memory_region"].set_width(edge - lo)
        artists["compute_region"].set_x(edge)
        artists["compute_region"].set_width(hi - edge)
        artists["memory_text"].set_position((edge / 1.15, 0.03))
        artists["compute_text"].set_position((edge * 1.15, 0.03))
        artists["memory_text"].set_visible(edge > lo * 20)
        artists["compute_text"].set_visible(edge < hi / 20)
    return ridge


def draw_points(
    intensities: Sequence[float] | np.ndarray,
    attainable_flops: Sequence[float] | np.ndarray,
    labels: Sequence[str],
    ax: Axes | None = None,
    *,
    kind: str = "decode",
    label: str | None = None,
    animated: bool = False,
) -> dict[str, Any]:
    """Plot operating points at (intensity FLOP/byte, attainable FLOP/s), each labelled.

    kind picks the style: 'decode' (blue circles), 'prefill' (vermillion squares) or
    'current' (a large yellow star edged in black: the highlighted point). Returns
    {'points': Line2D, 'labels': [Annotation, ...]}; move them with `update_points`.
    """
    if kind not in ("decode", "prefill", "current"):
        raise ValueError(f"kind must be 'decode', 'prefill' or 'current', got {kind!r}")
    ax = _new_axes(ax)
    xs, ys = _point_arrays(intensities, attainable_flops)
    labels = list(labels)
    if len(labels) != xs.size:
        raise ValueError(f"labels must have one entry per point ({xs.size}), got {len(labels)}")
    (points,) = ax.plot(xs, ys, linestyle="none", **STYLE[kind], label=label, animated=animated, zorder=3)
    # decode labels up-left and prefill labels down-right of their points: off the roofline
    offset, ha, va = {"current": ((9, -7), "left", "top"), "prefill": ((5, -5), "left", "top"),
                      "decode": ((-5, 3), "right", "bottom")}[kind]
    notes = [_label(ax, text, (x, y), offset=offset, ha=ha, va=va, fontsize=8, animated=animated)
             for text, x, y in zip(labels, xs, ys, strict=True)]
    return {"points": points, "labels": notes}


def update_points(
    artists: dict[str, Any],
    intensities: Sequence[float] | np.ndarray,
    attainable_flops: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None = None,
) -> None:
    """Move the points (and their labels) drawn by `draw_points`; same number of points."""
    xs, ys = _point_arrays(intensities, attainable_flops)
    notes = artists["labels"]
    if xs.size != len(notes):
        raise ValueError(f"update_points needs {len(notes)} points, got {xs.size}")
    if labels is not None and len(labels) != len(notes):
        raise ValueError(f"labels must have one entry per point ({len(notes)}), got {len(labels)}")
    artists["points"].set_data(xs, ys)
    for i, note in enumerate(notes):
        note.set_position((xs[i], ys[i]))
        if labels is not None:
            note.set_text(labels[i])


def _point_arrays(intensities: object, attainable_flops: object) -> tuple[np.ndarray, np.ndarray]:
    xs = np.atleast_1d(_checks.numbers_array("intensities", intensities))
    ys = np.atleast_1d(_checks.numbers_array("attainable_flops", attainable_flops))
    if xs.ndim != 1 or ys.ndim != 1:
        raise ValueError(f"intensities and attainable_flops must be flat lists, got shapes {xs.shape} and {ys.shape}")
    if xs.shape != ys.shape:
        raise ValueError(f"intensities and attainable_flops must match in length, got {xs.size} and {ys.size}")
    return xs, ys


def decade_limits(values: Sequence[float] | np.ndarray, pad: float = 2.0) -> tuple[float, float]:
    """Whole decades around the positive values, with `pad` (>= 1) times room each side.

    Values that are not positive and finite are left out; with none left, (0.1, 10)."""
    pad = _checks.number("pad", pad)
    if pad < 1:
        raise ValueError(f"pad must be a finite number >= 1, got {pad!r}")
    try:
        v = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"values must be numbers or an array of them, got {values!r}") from None
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return 0.1, 10.0
    lo = 10.0 ** math.floor(math.log10(v.min() / pad))
    hi = 10.0 ** math.ceil(math.log10(v.max() * pad))
    return lo, hi


# --------------------------------------------------------------------------- one-call figure


def roofline_figure(
    gpu: str = "a100-lab",
    model: str = "8b-lab",
    dtype: str = "fp16",
    decode_batches: Sequence[int] = (1, 8, 64, 156, 512),
    prefill_tokens: Sequence[int] = (128, 2048),
    ax: Axes | None = None,
) -> tuple[Figure, dict[str, Any]]:
    """The seed's figure in one call: a GPU's roofline with decode and prefill points.

    Weights-only model (the seed's): decode batch b is b tokens per weight read, prefill
    of L tokens is L tokens per read, both computed by `step_model.decode_step` with no
    context. The math runs in `dtype` where the GPU lists a peak for it, else in the
    chip's default (bf16 on TPUs). Returns (figure, artists) with artists 'roofline',
    'decode', 'prefill' (each a dict from draw_roofline / draw_points).
    """
    g, m = get_gpu(gpu), get_model(model)
    dtype = canonical_dtype(dtype)
    compute = g.runs(dtype)
    decode_b = np.atleast_1d(_checks.numbers_array("decode_batches", decode_batches, integer=True))
    prefill_t = np.atleast_1d(_checks.numbers_array("prefill_tokens", prefill_tokens, integer=True))
    d = decode_step(m, g, decode_b, 0, weight_dtype=dtype, compute_dtype=compute)
    p = decode_step(m, g, prefill_t, 0, weight_dtype=dtype, compute_dtype=compute)
    xs = np.concatenate([np.atleast_1d(d.intensity), np.atleast_1d(p.intensity), [d.ridge]])
    ax = _new_axes(ax)
    style_roofline_axes(ax)
    x_range = decade_limits(xs, pad=3.0)
    roof = draw_roofline(d.peak_flops, d.mem_bandwidth, ax, label=f"{g.name}, {compute}", x_range=x_range)
    dec = draw_points(
        np.atleast_1d(d.intensity),
        attainable_flops(np.atleast_1d(d.intensity), d.peak_flops, d.mem_bandwidth),
        [f"b={int(b)}" for b in decode_b], ax, kind="decode", label="decode (batch b)",
    )
    pre = draw_points(
        np.atleast_1d(p.intensity),
        attainable_flops(np.atleast_1d(p.intensity), p.peak_flops, p.mem_bandwidth),
        [f"L={int(t)}" for t in prefill_t], ax, kind="prefill", label="prefill (prompt L)",
    )
    ax.set_ylim(*decade_limits([d.peak_flops, *np.atleast_1d(dec["points"].get_ydata())], pad=3.0))
    ax.set_title(f"{m.name} on {g.name}, {dtype} weights, {compute} math", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return ax.figure, {"roofline": roof, "decode": dec, "prefill": pre}

"""Roofline pictures in pure matplotlib: any backend, every helper takes ``ax=None`` and
returns its artists so that a widget can move them and an export can reuse them.

    from roofline_lab.plot import draw_roofline, draw_points, roofline_figure
    fig, artists = roofline_figure("a100-lab", "8b-lab", "fp16")

Axes are log-log: x is arithmetic intensity in FLOP/byte, y attainable FLOP/s with tick
labels in TFLOP/s. Colours are the Okabe-Ito palette (colour-blind safe) and every series
also has its own marker, so the figures read in greyscale and on a projector.

`ExplorerFigure` is the three-panel figure behind `roofline_lab.widgets.RooflineExplorer`
(roofline; tokens/s vs batch; step time vs batch). It is drawn from an `ExplorerView`,
plain numbers computed by the widget from `roofline_lab.step_model`; this module computes
nothing about the physics beyond what `step_model` returns.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator
from matplotlib.transforms import Affine2D, ScaledTranslation

from roofline_lab import _checks, reference
from roofline_lab.dtypes import canonical_dtype
from roofline_lab.hardware import get_gpu
from roofline_lab.models import get_model
from roofline_lab.step_model import attainable_flops, decode_step

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

TERA = 1e12
DEFAULT_X_RANGE = (0.1, 1e4)


# --------------------------------------------------------------------------- formatting


def _number(x: float) -> str:
    """1 -> '1', 0.5 -> '0.5', 2048 -> '2,048', 1e6 -> '1,000,000': tick labels without 1e3."""
    if x >= 1:
        return f"{x:,.0f}"
    return f"{x:.3g}"


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


# --------------------------------------------------------------------------- cheap labels


@functools.lru_cache(maxsize=256)
def _glyph(char: str, fontsize: float) -> tuple[np.ndarray, np.ndarray, float]:
    """One character's outline (vertices, codes) in points, and its advance width."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    advance = text_to_path.get_text_width_height_descent(char, FontProperties(size=fontsize), False)[0]
    if char.isspace():
        return np.zeros((0, 2)), np.zeros(0, dtype=Path.code_type), float(advance)
    path = TextPath((0, 0), char, size=fontsize)
    return np.asarray(path.vertices), np.asarray(path.codes), float(advance)


def _text_path(text: str, fontsize: float) -> Path:
    """The outline of `text` in points, from cached glyphs placed at their advances (no kerning:
    the same as TextPath for the default DejaVu Sans, at a fraction of the cost)."""
    vertices, codes, x = [], [], 0.0
    for char in text:
        v, c, advance = _glyph(char, fontsize)
        if len(v):
            vertices.append(v + np.array([x, 0.0]))
            codes.append(c)
        x += advance
    if not vertices:
        return Path(np.zeros((1, 2)), [Path.MOVETO])
    return Path(np.concatenate(vertices), np.concatenate(codes))


@functools.lru_cache(maxsize=512)
def _label_marker(text: str, fontsize: float, rotation: float) -> tuple[MarkerStyle, float, float, float]:
    """The marker that draws `text` at `fontsize` points: (marker, markersize, width, height) in points.

    The glyph outlines (plain text, not mathtext) are centred on the origin; a path marker is
    scaled so its largest |coordinate| is half the marker size, hence markersize = 2 * that.
    """
    path = _text_path(text, fontsize)
    lo, hi = path.vertices.min(axis=0), path.vertices.max(axis=0)  # control-point box: close enough
    centred = Path(path.vertices - (lo + hi) / 2, path.codes)
    size = 2 * float(np.abs(centred.vertices).max())
    rotate = Affine2D().rotate_deg(rotation)
    marker = MarkerStyle(centred, transform=rotate) if rotation else MarkerStyle(centred)
    width, height = (hi - lo).tolist()
    w, h = (height, width) if rotation % 180 == 90 else (width, height)
    return marker, size, w, h


class PathLabel(Line2D):
    """A short text label drawn as a marker, so redrawing it is cheap (Agg stamps a cached
    glyph path: ~0.15 ms against ~1 ms for a Text). Used for labels that move often.

    offset is in points from the anchor (x, y); ha/va align the label's box like Text's
    horizontalalignment/verticalalignment; `transform` defaults to the axes' data coordinates.
    """

    def __init__(self, ax: Axes, text: str = "", xy: tuple[float, float] = (1.0, 1.0), *,
                 offset: tuple[float, float] = (0.0, 0.0), ha: str = "left", va: str = "bottom",
                 fontsize: float = 8.0, rotation: float = 0.0, color: str = "black",
                 transform: Any = None, animated: bool = False, zorder: float = 5) -> None:
        if ha not in ("left", "center", "right") or va not in ("bottom", "center", "top"):
            raise ValueError(f"ha must be left/center/right and va bottom/center/top, got {ha!r}, {va!r}")
        super().__init__([xy[0]], [xy[1]], linestyle="none", color=color, markerfacecolor=color,
                         markeredgewidth=0, animated=animated, zorder=zorder)
        self._label_base = transform if transform is not None else ax.transData
        self._label_offset, self._ha, self._va = offset, ha, va
        self._fontsize, self._rotation = fontsize, rotation
        self._label = ""
        ax.add_artist(self)
        self.set_text(text)

    def get_text(self) -> str:
        return self._label

    def set_text(self, text: str) -> None:
        text = str(text)
        if text == self._label:
            return
        self._label = text
        if not text.strip():
            return
        marker, size, w, h = _label_marker(text, self._fontsize, self._rotation)
        self.set_marker(marker)
        self.set_markersize(size)
        dx = self._label_offset[0] + {"left": w / 2, "center": 0.0, "right": -w / 2}[self._ha]
        dy = self._label_offset[1] + {"bottom": h / 2, "center": 0.0, "top": -h / 2}[self._va]
        fig = self.axes.get_figure(root=True)
        self.set_transform(self._label_base + ScaledTranslation(dx / 72, dy / 72, fig.dpi_scale_trans))

    def set_position(self, xy: tuple[float, float]) -> None:
        self.set_data([xy[0]], [xy[1]])

    def draw(self, renderer: Any) -> None:
        if self._label.strip():
            super().draw(renderer)


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
        artists["memory_text"] = PathLabel(ax, "memory-bound", (lo, 0.03), ha="right", **text_style)
        artists["compute_text"] = PathLabel(ax, "compute-bound", (lo, 0.03), ha="left", **text_style)
    (artists["slope"],) = ax.plot([], [], **style, label=label, animated=animated)
    (artists["plateau"],) = ax.plot([], [], **style, animated=animated)
    (artists["ridge"],) = ax.plot([], [], linestyle="none", **STYLE["ridge"], animated=animated)
    artists["ridge_label"] = PathLabel(ax, offset=(0, 14), ha="center", fontsize=9, animated=animated)
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
    notes = [PathLabel(ax, text, (x, y), offset=offset, ha=ha, va=va, fontsize=8, animated=animated)
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


def _point_arrays(intensities: object, flops: object) -> tuple[np.ndarray, np.ndarray]:
    xs = np.atleast_1d(_checks.numbers_array("intensities", intensities))
    ys = np.atleast_1d(_checks.numbers_array("attainable_flops", flops))
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


# --------------------------------------------------------------------------- the explorer's figure


@dataclass(frozen=True)
class ExplorerView:
    """Everything the explorer's figure shows, as plain numbers (SI) and strings."""

    phase: str  # "decode" or "prefill"
    peak_flops: float
    mem_bandwidth: float  # achievable bytes/s
    decode_x: np.ndarray  # seed decode points: intensity FLOP/byte
    decode_y: np.ndarray  # attainable FLOP/s
    decode_labels: tuple[str, ...]
    prefill_x: np.ndarray
    prefill_y: np.ndarray
    prefill_labels: tuple[str, ...]
    current_x: float
    current_y: float
    current_label: str
    batches: np.ndarray  # the batch sweep (x of panels b and c)
    tokens_per_s: np.ndarray
    ideal_tokens_per_s: np.ndarray  # batch-1 rate times batch: the free lunch, if it never ended
    step_ms: np.ndarray
    batch: int
    batch_tokens_per_s: float
    batch_step_ms: float
    wall_batch: int | None  # largest batch that fits in memory, None when it does not bite
    readout: str = ""


#: How much wider than its data an explorer axis may stay before it shrinks back (per side),
#: and how far beyond the data it grows when the data leaves it.
LIMIT_SLACK = 1e6
LIMIT_GROWTH = 10.0


def _set_limits(ax: Axes, want: tuple[float, float], axis: str, *, exact: bool = False) -> bool:
    """Sticky log limits: grow to whole decades as soon as the data leaves them, shrink back
    only when they are more than LIMIT_SLACK wider than the data on a side. Every change of
    limits costs a full redraw, so after a few moves the explorer only blits (growth overshoots
    by LIMIT_GROWTH for the same reason). True when changed."""
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    want_lo, want_hi = want
    if exact:
        new = (want_lo, want_hi)
    else:
        new = (want_lo / LIMIT_GROWTH if want_lo < lo else want_lo if want_lo > lo * LIMIT_SLACK else lo,
               want_hi * LIMIT_GROWTH if want_hi > hi else want_hi if want_hi < hi / LIMIT_SLACK else hi)
    if new == (lo, hi):
        return False
    (ax.set_xlim if axis == "x" else ax.set_ylim)(*new)
    return True


class ExplorerFigure:
    """The explorer's three linked panels, built once on `fig` and moved by `update(view)`.

    (a) the roofline with the seed's decode/prefill points and the current point starred;
    (b) tokens/s vs batch with the ideal "free lunch" line and the memory wall;
    (c) step time (per-token latency in decode, TTFT in prefill) vs batch, same marks.
    With animated=True every moving artist is left out of ordinary draws so a caller can
    blit them over cached backgrounds, in three layers (`layers`, bottom to top): 'roof'
    moves with the chip (GPU, compute dtype, bandwidth), 'data' with anything but the batch
    (seed points, curves, memory walls), 'fast' with the batch (the current point and its
    marks). `slow` is roof + data. `update` says the lowest layer that moved.
    """

    SIZE_INCHES = (12.0, 4.4)

    def __init__(self, fig: Figure, *, animated: bool = False, max_batch_shown: int = 4096):
        self.figure = fig
        self.animated = animated
        fig.set_size_inches(*self.SIZE_INCHES)
        fig.set_facecolor("white")
        gs = fig.add_gridspec(1, 3, width_ratios=(1.45, 1, 1), left=0.065, right=0.985,
                              bottom=0.13, top=0.93, wspace=0.3)
        self.ax_roof = fig.add_subplot(gs[0])
        self.ax_tps = fig.add_subplot(gs[1])
        self.ax_lat = fig.add_subplot(gs[2])
        style_roofline_axes(self.ax_roof, minor=False)
        style_log_axes(self.ax_tps, xlabel="batch (sequences per step)", ylabel="tokens/s", minor=False)
        style_log_axes(self.ax_lat, xlabel="batch (sequences per step)", ylabel="step time (ms)",
                       minor=False)
        for ax in (self.ax_tps, self.ax_lat):
            ax.set_xlim(0.7, max_batch_shown * 1.4)
        titles = ("(a) roofline", "(b) throughput vs batch", "(c) step time: decode latency / TTFT")
        for ax, title in zip((self.ax_roof, self.ax_tps, self.ax_lat), titles, strict=True):
            # matplotlib places titles and axis labels clear of the tick labels, whatever their
            # size (talk style); it costs only full redraws, which sticky limits keep rare
            ax.set_title(title, fontsize=10, loc="left")
        a = animated
        ax = self.ax_roof
        self.roof = draw_roofline(1e12, 1e12, ax, x_range=DEFAULT_X_RANGE, animated=a)
        self.decode = draw_points([1.0] * 5, [1e12] * 5, [""] * 5, ax, kind="decode", animated=a)
        self.prefill = draw_points([1.0] * 2, [1e12] * 2, [""] * 2, ax, kind="prefill", animated=a)
        (self.current,) = ax.plot([1.0], [1e12], linestyle="none", **STYLE["current"], animated=a, zorder=4)
        self.current_text = PathLabel(ax, offset=(9, -7), va="top", fontsize=8, animated=a)
        ax.legend(
            handles=[
                Line2D([], [], **STYLE["roofline"], label="roofline"),
                Line2D([], [], linestyle="none", **STYLE["decode"], label="decode, batch b"),
                Line2D([], [], linestyle="none", **STYLE["prefill"], label="prefill, prompt L"),
                Line2D([], [], linestyle="none", **STYLE["current"], label="current"),
            ],
            loc="upper left", fontsize=8, framealpha=0.9,
        )
        self.sweeps: dict[str, dict[str, Any]] = {}
        for key, ax, style in (("tps", self.ax_tps, "throughput"), ("lat", self.ax_lat, "latency")):
            s: dict[str, Any] = {}
            s["wall_region"] = ax.axvspan(1, 2, color="0.6", alpha=0.25, lw=0, animated=a)
            (s["wall"],) = ax.plot([1, 1], [0, 1], **STYLE["wall"], transform=ax.get_xaxis_transform(),
                                   animated=a)
            s["wall_text"] = PathLabel(ax, "", (1, 0.5), offset=(-3, 0), rotation=90, ha="right",
                                       va="center", fontsize=8, color=STYLE["wall"]["color"],
                                       transform=ax.get_xaxis_transform(), animated=a)
            if key == "tps":
                (s["ideal"],) = ax.plot([], [], **STYLE["ideal"], animated=a)
            (s["curve"],) = ax.plot([], [], **STYLE[style], animated=a)
            (s["marker"],) = ax.plot([], [], linestyle="none", **STYLE["current"], animated=a, zorder=3)
            s["marker_text"] = PathLabel(ax, offset=(9, -7), va="top", fontsize=8, animated=a)
            self.sweeps[key] = s
        self.ax_tps.legend(
            handles=[
                Line2D([], [], **STYLE["throughput"], label="tokens/s"),
                Line2D([], [], **STYLE["ideal"], label="batch x batch-1 rate"),
                Line2D([], [], **STYLE["wall"], label="memory wall"),
            ],
            loc="upper left", fontsize=8, framealpha=0.9,
        )
        self.fast: list[Any] = [self.current, self.current_text]
        for s in self.sweeps.values():
            self.fast += [s["marker"], s["marker_text"]]
        self.data: list[Any] = [
            self.decode["points"], *self.decode["labels"],
            self.prefill["points"], *self.prefill["labels"],
            *(artist for s in self.sweeps.values() for artist in s.values() if artist not in self.fast),
        ]
        self.slow: list[Any] = [*self.roof.values(), *self.data]
        #: Blit layers, bottom to top: the chip's roofline (moves with GPU, compute dtype,
        #: bandwidth), the data (seed points, curves, walls) and the batch marks.
        self.layers: dict[str, list[Any]] = {"roof": list(self.roof.values()), "data": self.data,
                                             "fast": self.fast}
        self._roof_key: tuple[Any, ...] | None = None
        self._data_key: tuple[Any, ...] | None = None
        self._limits_set = False  # the first update sets limits exactly; later ones are sticky

    def update(self, view: ExplorerView) -> str:
        """Move the artists to `view`. Returns the lowest layer that moved: 'full' (limits:
        redraw everything), 'roof', 'data' or 'fast' (only the batch marks); the caller
        redraws that layer and the ones above it."""
        static_changed = False
        exact = not self._limits_set
        self._limits_set = True
        ax = self.ax_roof
        ridge = reference.ridge_point(view.peak_flops, view.mem_bandwidth)
        xs = np.concatenate([view.decode_x, view.prefill_x, [view.current_x, ridge]])
        static_changed |= _set_limits(ax, decade_limits(xs, pad=3.0), "x", exact=exact)
        x_range = ax.get_xlim()
        ys = np.concatenate([view.decode_y, view.prefill_y, [view.current_y, view.peak_flops],
                             attainable_flops(np.array([x_range[0]]), view.peak_flops, view.mem_bandwidth)])
        static_changed |= _set_limits(ax, decade_limits(ys, pad=2.0), "y", exact=exact)
        for key, ys_ in (("tps", np.concatenate([view.tokens_per_s, view.ideal_tokens_per_s[:1]])),
                         ("lat", view.step_ms)):
            target = self.ax_tps if key == "tps" else self.ax_lat
            static_changed |= _set_limits(target, decade_limits(ys_, pad=2.0), "y", exact=exact)

        limits = (x_range, ax.get_ylim(), self.ax_tps.get_ylim(), self.ax_lat.get_ylim())
        roof_key = (view.peak_flops, view.mem_bandwidth, limits)
        data_key = (view.phase, view.wall_batch, view.decode_x.tobytes(), view.decode_y.tobytes(),
                    view.prefill_x.tobytes(), view.prefill_y.tobytes(), view.tokens_per_s.tobytes(),
                    view.step_ms.tobytes(), limits)
        roof_moved, data_moved = roof_key != self._roof_key, data_key != self._data_key
        self._roof_key, self._data_key = roof_key, data_key
        if roof_moved:
            update_roofline(self.roof, view.peak_flops, view.mem_bandwidth, x_range)
        if data_moved:
            self._update_data(view)
        self.current.set_data([view.current_x], [view.current_y])
        self.current_text.set_position((view.current_x, view.current_y))
        self.current_text.set_text(view.current_label)
        for key, y_now, unit in (("tps", view.batch_tokens_per_s, "tok/s"), ("lat", view.batch_step_ms, "ms")):
            s = self.sweeps[key]
            s["marker"].set_data([view.batch], [y_now])
            s["marker_text"].set_position((view.batch, y_now))
            s["marker_text"].set_text(f"{_short(y_now)} {unit}")
        return "full" if static_changed else "roof" if roof_moved else "data" if data_moved else "fast"

    def _update_data(self, view: ExplorerView) -> None:
        update_points(self.decode, view.decode_x, view.decode_y, view.decode_labels)
        update_points(self.prefill, view.prefill_x, view.prefill_y, view.prefill_labels)
        for key, ys_ in (("tps", view.tokens_per_s), ("lat", view.step_ms)):
            s = self.sweeps[key]
            ax = self.ax_tps if key == "tps" else self.ax_lat
            s["curve"].set_data(view.batches, ys_)
            if key == "tps":
                s["ideal"].set_data(view.batches, view.ideal_tokens_per_s)
            lo, hi = ax.get_xlim()
            bites = view.wall_batch is not None and view.wall_batch < hi
            for name in ("wall", "wall_region", "wall_text"):
                s[name].set_visible(bites)
            if bites:
                w = max(float(view.wall_batch), lo)
                s["wall"].set_xdata([w, w])
                s["wall_region"].set_x(w)
                s["wall_region"].set_width(hi - w)
                s["wall_text"].set_position((w, 0.5))
                s["wall_text"].set_text(f"max batch {view.wall_batch:,}" if view.wall_batch else
                                        "not even batch 1 fits")

    def draw_layer(self, layer: str) -> None:
        """Draw one layer's artists ('roof', 'data' or 'fast'; 'slow' = roof and data) onto the
        canvas's renderer (a blit step)."""
        fig = self.figure
        for artist in self.slow if layer == "slow" else self.layers[layer]:
            fig.draw_artist(artist)


def _short(x: float) -> str:
    """Readable magnitudes for marker labels: 8000 -> '8,000', 0.0123 -> '0.012'."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.2g}"

"""Short text labels that move often, and the size of a text before it is drawn.

Two interchangeable label kinds with one interface (set_text, get_text, set_position,
set_offset, set_fontsize, get_fontsize):
- `PathLabel` lays its text out once as an outline made of cached glyph paths and, on Agg,
  rasterises that once into a small cached image (a sprite) that each blit stamps at a whole
  pixel (other renderers, SVG and PDF, get the outline as a marker path): stamping is far
  cheaper than laying out and rasterising a Text on every blit;
- `TextLabel` is an ordinary matplotlib Annotation.
`python -m roofline_lab.bench` times the explorer with each (and PathLabel without its
glyph cache or its sprites), which is how the explorer's default was chosen.

`text_size(text, fontsize, dpi)` is a cached (width, height, descent) in pixels, used to
lay the figure out from rendered text extents without drawing.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path
from matplotlib.text import Annotation
from matplotlib.textpath import TextPath, text_to_path
from matplotlib.transforms import Affine2D, Bbox, ScaledTranslation

from roofline_lab.pixels import data_pixels

#: PathLabel builds text outlines from cached per-character glyphs (False: one TextPath per text).
GLYPH_CACHE = True
#: On Agg, PathLabel stamps a cached image of its outline (False: Agg rasterises the outline each draw).
SPRITES = True
_ALIGN_X = {"left": 0.5, "center": 0.0, "right": -0.5}
_ALIGN_Y = {"bottom": 0.5, "center": 0.0, "top": -0.5}


@functools.lru_cache(maxsize=4096)
def text_size(text: str, fontsize: float, dpi: float, rotation: float = 0.0) -> tuple[float, float, float]:
    """(width, height, descent) of `text` in pixels at `fontsize` points and `dpi`, rotated
    by 0 or 90 degrees (then width and height swap). Default font, no mathtext."""
    w, h, d = text_to_path.get_text_width_height_descent(text, FontProperties(size=fontsize), False)
    scale = dpi / 72
    w, h, d = w * scale, h * scale, d * scale
    return (h, w, d) if rotation % 180 == 90 else (w, h, d)


@functools.lru_cache(maxsize=256)
def _glyph(char: str, fontsize: float) -> tuple[np.ndarray, np.ndarray, float]:
    """One character's outline (vertices, codes) in points, and its advance width."""
    advance = text_to_path.get_text_width_height_descent(char, FontProperties(size=fontsize), False)[0]
    if char.isspace():
        return np.zeros((0, 2)), np.zeros(0, dtype=Path.code_type), float(advance)
    path = TextPath((0, 0), char, size=fontsize)
    return np.asarray(path.vertices), np.asarray(path.codes), float(advance)


def _text_path(text: str, fontsize: float) -> Path:
    """The outline of `text` in points: cached glyphs at their advances (no kerning, the same as
    TextPath for the default DejaVu Sans), or one TextPath when GLYPH_CACHE is off."""
    if not GLYPH_CACHE:
        return TextPath((0, 0), text, size=fontsize)
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
def _label_marker(text: str, fontsize: float, rotation: float, glyphs: bool) -> tuple[MarkerStyle, float, float, float]:
    """The marker that draws `text`: (marker, markersize, width, height), sizes in points.

    The outline is centred on the origin; a path marker is scaled so its largest |coordinate|
    is half the marker size, hence markersize = 2 * that."""
    path = _text_path(text, fontsize)
    lo, hi = path.vertices.min(axis=0), path.vertices.max(axis=0)
    centred = Path(path.vertices - (lo + hi) / 2, path.codes)
    size = 2 * float(np.abs(centred.vertices).max())
    marker = MarkerStyle(centred, transform=Affine2D().rotate_deg(rotation)) if rotation else MarkerStyle(centred)
    w, h = (hi - lo).tolist()
    return (marker, size, h, w) if rotation % 180 == 90 else (marker, size, w, h)


@functools.lru_cache(maxsize=1024)
def _sprite(text: str, fontsize: float, rotation: float, glyphs: bool, rgba: tuple[float, ...],
            px_per_point: float) -> np.ndarray:
    """The label's outline rasterised once: an (h, w, 4) uint8 RGBA image, bottom row first
    (as Agg's draw_image takes it), transparent around the text, the outline's centre at the
    image's centre."""
    marker, _size, w, h = _label_marker(text, fontsize, rotation, glyphs)
    width, height = int(np.ceil(w * px_per_point)) + 4, int(np.ceil(h * px_per_point)) + 4
    canvas = RendererAgg(width, height, 72 * px_per_point)
    gc = canvas.new_gc()
    gc.set_linewidth(0)
    gc.set_antialiased(True)
    place = Affine2D().rotate_deg(rotation).scale(px_per_point).translate(width / 2, height / 2)
    canvas.draw_path(gc, marker.get_path(), place, rgba)
    gc.restore()
    return np.asarray(canvas.buffer_rgba())[::-1].copy()


def outline_size(text: str, fontsize: float, dpi: float) -> tuple[float, float]:
    """(width, height) in pixels of the outline a PathLabel draws for `text` (unrotated): the
    box its window extent reports, from the cached glyphs (no font layout)."""
    _marker, _size, w, h = _label_marker(text, fontsize, 0.0, GLYPH_CACHE)
    return w * dpi / 72, h * dpi / 72


def _check_align(ha: str, va: str) -> None:
    if ha not in _ALIGN_X or va not in _ALIGN_Y:
        raise ValueError(f"ha must be left/center/right and va bottom/center/top, got {ha!r}, {va!r}")


class PathLabel(Line2D):
    """A short text drawn as a marker at (x, y), `offset` points away, aligned like Text by
    ha/va. The text is not the artist's legend label (legends ignore PathLabels)."""

    def __init__(self, ax: Axes, text: str = "", xy: tuple[float, float] = (1.0, 1.0), *,
                 offset: tuple[float, float] = (0.0, 0.0), ha: str = "left", va: str = "bottom",
                 fontsize: float = 8.0, rotation: float = 0.0, color: str = "black",
                 transform: Any = None, animated: bool = False, zorder: float = 5) -> None:
        _check_align(ha, va)
        super().__init__([xy[0]], [xy[1]], linestyle="none", color=color, markerfacecolor=color,
                         markeredgewidth=0, animated=animated, zorder=zorder, label="_nolegend_")
        self._base = transform if transform is not None else ax.transData
        # pixels by arithmetic (roofline_lab.pixels) for these two bases; None: ask the transform
        self._y_fraction = {id(ax.transData): False, id(ax.get_xaxis_transform()): True}.get(id(self._base))
        self._offset, self._ha, self._va = tuple(offset), ha, va
        self._fontsize, self._rotation, self._text = float(fontsize), rotation, ""
        self._outline: MarkerStyle | None = None
        self._marker_set: MarkerStyle | None = None
        self._box_points = (0.0, 0.0)
        self._shift_points = (0.0, 0.0)  # centre from anchor, points (offset and alignment)
        ax.add_artist(self)
        self.set_text(text)

    def get_text(self) -> str:
        return self._text

    def get_fontsize(self) -> float:
        return self._fontsize

    def set_fontsize(self, fontsize: float) -> None:
        self._fontsize = float(fontsize)
        self._restyle()

    def set_text(self, text: str) -> None:
        text = str(text)
        if text != self._text:
            self._text = text
            self._restyle()

    def set_offset(self, offset: tuple[float, float], ha: str, va: str) -> None:
        """Move the text relative to its anchor: offset in points, ha/va its alignment."""
        if (tuple(offset), ha, va) != (self._offset, self._ha, self._va):
            _check_align(ha, va)
            self._offset, self._ha, self._va = tuple(offset), ha, va
            self._place()

    def _restyle(self) -> None:
        """A new text or size: its outline (Line2D's marker is set only where a draw needs it:
        set_marker deep-copies the outline, ~0.1 ms a label)."""
        if not self._text.strip():
            return
        self._outline, size, w, h = _label_marker(self._text, self._fontsize, self._rotation, GLYPH_CACHE)
        self.set_markersize(size)
        self._box_points = (w, h)
        self._place()

    def _place(self) -> None:
        if not self._text.strip():
            return
        w, h = self._box_points
        dx = self._offset[0] + _ALIGN_X[self._ha] * w
        dy = self._offset[1] + _ALIGN_Y[self._va] * h
        self._shift_points = (dx, dy)
        fig = self.axes.get_figure(root=True)
        self.set_transform(self._base + ScaledTranslation(dx / 72, dy / 72, fig.dpi_scale_trans))

    def _centre(self) -> tuple[float, float]:
        """The text's centre in pixels: what get_transform() gives, by log arithmetic where
        the base transform allows (roofline_lab.pixels)."""
        x, y = float(self.get_xdata()[0]), float(self.get_ydata()[0])
        anchor = None if self._y_fraction is None else data_pixels(self.axes, x, y, self._y_fraction)
        if anchor is None:
            (px, py), = self.get_transform().transform([(x, y)])
            return float(px), float(py)
        k = self.axes.get_figure(root=True).dpi / 72
        return anchor[0] + self._shift_points[0] * k, anchor[1] + self._shift_points[1] * k

    def get_marker(self) -> Any:
        self._sync_marker()
        return super().get_marker()

    def _sync_marker(self) -> None:
        if self._outline is not None and self._marker_set is not self._outline:
            self.set_marker(self._outline)
            self._marker_set = self._outline

    def set_position(self, xy: tuple[float, float]) -> None:
        self.set_data([xy[0]], [xy[1]])

    def get_window_extent(self, renderer: Any = None) -> Bbox:
        """The text's box in pixels (not the square a marker would claim)."""
        if not self._text.strip():
            return Bbox.null()
        x, y = self._centre()
        k = self.axes.get_figure(root=True).dpi / 72
        w, h = self._box_points[0] * k / 2, self._box_points[1] * k / 2
        return Bbox.from_extents(x - w, y - h, x + w, y + h)

    def draw(self, renderer: Any) -> None:
        if not self._text.strip() or not self.get_visible():
            return
        if not (SPRITES and isinstance(renderer, RendererAgg)):
            self._sync_marker()
            super().draw(renderer)  # the outline as a marker path (vector output stays vector)
            return
        image = _sprite(self._text, self._fontsize, self._rotation, GLYPH_CACHE,
                        mcolors.to_rgba(self.get_color(), self.get_alpha()), renderer.points_to_pixels(1.0))
        x, y = self._centre()
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        gc = renderer.new_gc()
        self._set_gc_clip(gc)
        renderer.draw_image(gc, round(x - image.shape[1] / 2), round(y - image.shape[0] / 2), image)
        gc.restore()
        self.stale = False


class TextLabel(Annotation):
    """The same interface as PathLabel on an ordinary Annotation (text `offset` points from xy)."""

    def __init__(self, ax: Axes, text: str = "", xy: tuple[float, float] = (1.0, 1.0), *,
                 offset: tuple[float, float] = (0.0, 0.0), ha: str = "left", va: str = "bottom",
                 fontsize: float = 8.0, rotation: float = 0.0, color: str = "black",
                 transform: Any = None, animated: bool = False, zorder: float = 5) -> None:
        _check_align(ha, va)
        super().__init__(text, xy, xytext=offset, textcoords="offset points", ha=ha, va=va,
                         fontsize=fontsize, rotation=rotation, color=color, animated=animated, zorder=zorder,
                         xycoords=transform if transform is not None else "data", annotation_clip=False)
        ax.add_artist(self)

    def set_position(self, xy: tuple[float, float]) -> None:  # the anchor, as PathLabel's
        self.xy = tuple(xy)
        self.stale = True

    def set_offset(self, offset: tuple[float, float], ha: str, va: str) -> None:
        _check_align(ha, va)
        self.xyann = tuple(offset)
        self.set_horizontalalignment(ha)
        self.set_verticalalignment(va)


class LogTickLabels:
    """A log axis's tick labels drawn as PathLabels (the axis's own labels switched off): the
    same locator, formatter and font size, at a fraction of a Text's drawing cost, so a panel
    whose limits change redraws quickly. Call `update()` after the limits or styles change."""

    def __init__(self, ax: Axes, which: str, pool: int = 16) -> None:
        if which not in ("x", "y"):
            raise ValueError(f"which must be 'x' or 'y', got {which!r}")
        self.ax, self.which = ax, which
        self.axis = ax.xaxis if which == "x" else ax.yaxis
        ax.tick_params(axis=which, which="both", **{"labelbottom" if which == "x" else "labelleft": False})
        transform = ax.get_xaxis_transform() if which == "x" else ax.get_yaxis_transform()
        self.labels = [PathLabel(ax, "", (1.0, 0.0) if which == "x" else (0.0, 1.0), transform=transform,
                                 ha="center" if which == "x" else "right", va="top" if which == "x" else "center",
                                 zorder=3) for _ in range(pool)]
        for label in self.labels:
            label.set_clip_on(False)  # they sit outside the axes

    def fontsize(self) -> float:
        return float(self.axis.get_major_ticks()[0].label1.get_fontsize())

    def room_points(self) -> float:
        """Tick length plus the gap to the label, in points."""
        tick = self.axis.get_major_ticks()[0]
        return float(tick.tick1line.get_markersize() + tick.get_pad())

    def texts(self) -> list[tuple[float, str]]:
        """(location, text) of each label shown for the current limits."""
        lo, hi = sorted(self.axis.get_view_interval())
        fmt = self.axis.get_major_formatter()
        locs = [v for v in self.axis.get_major_locator().tick_values(lo, hi) if lo * 0.999 <= v <= hi * 1.001]
        return [(float(v), fmt(v, None)) for v in locs]

    def update(self) -> None:
        shown, size, room = self.texts(), self.fontsize(), self.room_points()
        offset = (0.0, -room) if self.which == "x" else (-room, 0.0)
        for i, label in enumerate(self.labels):
            if i >= len(shown):
                label.set_visible(False)
                continue
            loc, text = shown[i]
            label.set_visible(True)
            if label.get_fontsize() != size:
                label.set_fontsize(size)
            label.set_offset(offset, label._ha, label._va)
            label.set_text(text)
            label.set_position((loc, 0.0) if self.which == "x" else (0.0, loc))


#: Which class the explorer's moving labels use: PathLabel or TextLabel.
LABEL_CLASS: type = PathLabel


def make_label(ax: Axes, text: str = "", xy: tuple[float, float] = (1.0, 1.0), **kwargs: Any) -> Any:
    """A moving label of LABEL_CLASS."""
    return LABEL_CLASS(ax, text, xy, **kwargs)


__all__ = ["GLYPH_CACHE", "LABEL_CLASS", "SPRITES", "LogTickLabels", "PathLabel", "TextLabel", "make_label",
           "outline_size", "text_size"]

"""The one `Blitter` that redraws the explorer's figure, after matplotlib's BlitManager
(galleries/users_explain/animations/blitting.py).

Moving artists are `animated` and drawn in layers over cached backgrounds; a panel whose
limits, legend or title changed has its static picture (axes, ticks, labels) redrawn on its
own and kept in a small cache by what it shows, so going back to a chip costs a copy; in
such a redraw the panel's titles, axis labels and (opaque) legends are stamped from a cache
of their pixels, since rasterising text is most of what a panel redraw costs. A
translucent fill spanning its axes' height (the roofline's regions, the memory wall's) is
not rasterised on each move: its panel's static picture is tinted once, whole, and the
columns the fill covers are copied from that (the same pixels Agg draws). Legends are static
but lie on top, as matplotlib draws them (zorder 5): after the moving layers, the inside of
each shown legend is copied back from its panel's static picture. The figure it draws
(`roofline_lab.figure.ExplorerFigure`) is duck-typed: `axes`, `layers` (layer name ->
artists), `fills` (fill artist -> panel index), `panel_keys()`, `strips()`, `stamps(i)` and
`legends(ax)`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from roofline_lab.pixels import data_pixels

#: Artist layers, bottom to top (see ExplorerFigure.update for the controls that move each).
LAYERS = ("roof", "data", "fast")
#: The layers blitted apart by default: the roofline is drawn with the data layer, since a
#: third blit layer bought nothing (bench, interleaved: median 6.92 vs 6.97 ms, p95 22.8 vs 21.3).
BLIT_LAYERS = ("data", "fast")
PANEL_CACHE = 24  # static panel pictures kept per panel
#: Stamp static texts and legends from a cache when a panel is redrawn (False: draw them).
STAMPS = True
STAMP_CACHE = 256
#: Copy translucent fills from a tinted panel picture instead of drawing them (False: draw them).
TINTS = True
TINT_CACHE = 64


def _columns(fill: Any) -> tuple[int, int]:
    """The pixel columns a fill spanning its axes' height covers, [left, right): on a log x
    axis by arithmetic (roofline_lab.pixels; a window extent costs 0.12 ms), else through transData."""
    ax, x, w = fill.axes, fill.get_x(), fill.get_width()
    left, right = (data_pixels(ax, v, 0.0, y_fraction=True) for v in (x, x + w))
    if left is not None and right is not None:
        return round(left[0]), round(right[0])
    (a, _), (b, _) = ax.transData.transform([(x, 1.0), (x + w, 1.0)])
    return round(min(a, b)), round(max(a, b))


class Blitter:
    """Redraws an ExplorerFigure (roofline_lab.figure) after matplotlib's BlitManager: a full draw caches the
    background under each layer; `update(lowest, panels)` restores, redraws and blits."""

    def __init__(self, panels: Any, layers: Sequence[str] = BLIT_LAYERS) -> None:
        self.panels, self.figure = panels, panels.figure
        self.canvas = self.figure.canvas
        merged: dict[str, list[Any]] = {}
        for name in LAYERS:  # a layer left out joins the one above it
            target = next(n for n in LAYERS[LAYERS.index(name):] if n in layers)
            merged.setdefault(target, []).extend(panels.layers[name])
        self.names = [n for n in LAYERS if n in merged]
        # a fill is copied from its panel's tinted static picture, so it must lie straight on
        # that picture: drawn first in its layer, with nothing of a lower layer in its axes
        self._fills: dict[Any, int] = {}
        for k, name in enumerate(self.names):
            below = {id(a.axes) for n in self.names[:k] for a in merged[n]}
            for artist, i in getattr(panels, "fills", {}).items():
                if artist in merged[name] and id(artist.axes) not in below:
                    self._fills[artist] = i
            merged[name].sort(key=lambda a: a not in self._fills)  # stable: fills first
        self.layers = merged
        self._tints: OrderedDict[Any, tuple[int, int, int, int, np.ndarray]] = OrderedDict()
        self._shown: list[Any] = [None] * len(panels.axes)  # each panel's static picture now: (key, pixels)
        self._backgrounds: dict[str, Any] = {}
        self._panel_cache: list[OrderedDict[Any, Any]] = [OrderedDict() for _ in panels.axes]
        self._stamps: dict[Any, tuple[Bbox, Any]] = {}
        self._legend_cells: OrderedDict[Any, list[tuple[int, int, int, int]]] = OrderedDict()  # panel key -> rows, cols
        self._size: tuple[int, int] | None = None
        self._blank = Rectangle((0, 0), 1, 1, transform=self.figure.transFigure, facecolor="white", edgecolor="none")
        self._blank.set_figure(self.figure)
        self.full_draws = self.renders = self.panel_draws = 0
        self.cid = self.canvas.mpl_connect("draw_event", self._on_draw)

    def disconnect(self) -> None:
        self.canvas.mpl_disconnect(self.cid)

    def _layer(self, name: str) -> str:
        return next(n for n in LAYERS[LAYERS.index(name):] if n in self.names)

    def _on_draw(self, _event: Any) -> None:
        if self.figure.canvas is not self.canvas or self.canvas.is_saving():  # savefig: not our picture
            return
        self._size = self.canvas.get_width_height(physical=True)
        self._tints.clear()
        for i, (key, strip) in enumerate(zip(self.panels.panel_keys(), self.panels.strips(), strict=True)):
            self._panel_cache[i].clear()
            self._panel_cache[i][key] = self.canvas.copy_from_bbox(strip)
            self._shown[i] = (key, self._panel_cache[i][key])
        self._draw_from(0)
        self._legends_on_top()
        self.full_draws += 1

    def _draw_from(self, index: int, kept: bool = False) -> None:
        """Draw the layers from `index` up, first keeping the background under each (kept:
        the lowest one's is the picture just restored, so it is not copied again)."""
        for k, name in enumerate(self.names[index:]):
            if not (kept and k == 0):
                self._backgrounds[name] = self.canvas.copy_from_bbox(self.figure.bbox)
            for artist in self.layers[name]:
                if TINTS and artist in self._fills:
                    self._paste(artist)
                else:
                    self.figure.draw_artist(artist)

    def _legends_on_top(self) -> None:
        """Copy each shown legend back from its panel's static picture, over whatever the
        moving layers drew there."""
        buffer = np.asarray(self.canvas.buffer_rgba())
        for i, (key, static) in enumerate(self._shown):
            boxes = self._legend_cells.get(key)
            if boxes is None:
                boxes = self._legend_cells[key] = self._legend_cells_of(i)
                while len(self._legend_cells) > 3 * PANEL_CACHE:
                    self._legend_cells.popitem(last=False)
            if boxes:
                pixels = np.asarray(static)
                x0, y0, x1, y1 = static.get_extents()  # the picture's columns and rows in the buffer
                for r0, r1, c0, c1 in boxes:
                    r0, r1, c0, c1 = max(r0, y0), min(r1, y1), max(c0, x0), min(c1, x1)
                    buffer[r0:r1, c0:c1] = pixels[r0 - y0:r1 - y0, c0 - x0:c1 - x0]

    def _legend_cells_of(self, i: int) -> list[tuple[int, int, int, int]]:
        """Panel i's shown legends, frame lines included: buffer rows and columns [r0, r1) x [c0, c1)."""
        renderer, height = self.canvas.get_renderer(), self.canvas.get_width_height(physical=True)[1]
        boxes = []
        for legend in self.panels.legends(self.panels.axes[i]):
            x0, y0, x1, y1 = legend.get_window_extent(renderer).extents
            half = legend.legendPatch.get_linewidth() * self.figure.dpi / 72 / 2
            boxes.append((max(height - math.ceil(y1 + half), 0), min(height - math.floor(y0 - half), height),
                          math.floor(x0 - half), math.ceil(x1 + half)))
        return boxes

    def _paste(self, fill: Any) -> None:
        """Show a fill by copying the columns it covers from its panel's tinted picture."""
        if not fill.get_visible():
            return
        i = self._fills[fill]
        r0, r1, c0, c1, tinted = self._tint(fill, i, *self._shown[i])
        left, right = _columns(fill)
        x0, x1 = max(left, c0), min(right, c1)
        if x1 > x0:
            np.asarray(self.canvas.buffer_rgba())[r0:r1, x0:x1] = tinted[:, x0 - c0:x1 - c0]

    def _tint(self, fill: Any, i: int, key: Any, static: Any) -> tuple[int, int, int, int, np.ndarray]:
        """Panel i's static picture (`key`; its pixels `static`) with `fill` drawn across the
        whole axes: the rows and columns of the axes' box (buffer pixels, top row first, its
        antialiased edge included) and their pixels."""
        name = (id(fill), key)
        if name in self._tints:
            return self._tints[name]
        strip, ax = self.panels.strips()[i], fill.axes
        now = self.canvas.copy_from_bbox(strip)
        self.canvas.restore_region(static)
        whole = Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor=fill.get_facecolor(), edgecolor="none",
                          linewidth=0, antialiased=fill.get_antialiased())
        whole.set_figure(self.figure)
        whole.set_clip_box(ax.bbox)
        whole.draw(self.canvas.get_renderer())
        height = self.canvas.get_width_height(physical=True)[1]
        x0, y0, x1, y1 = ax.bbox.extents
        c0, c1 = max(math.floor(x0), round(strip.x0)), min(math.ceil(x1), round(strip.x1))
        r0, r1 = max(height - math.ceil(y1), 0), min(height - math.floor(y0), height)
        got = self._tints[name] = (r0, r1, c0, c1, np.asarray(self.canvas.buffer_rgba())[r0:r1, c0:c1].copy())
        self.canvas.restore_region(now)
        while len(self._tints) > TINT_CACHE:
            self._tints.popitem(last=False)
        return got

    def _panel(self, i: int, key: Any, strip: Bbox) -> None:
        cache = self._panel_cache[i]
        if key in cache:
            cache.move_to_end(key)
            self.canvas.restore_region(cache[key])
            self._shown[i] = (key, cache[key])
            return
        w, _h = self.figure.bbox.width, self.figure.bbox.height
        self._blank.set_bounds(strip.x0 / w, 0, strip.width / w, 1)
        renderer = self.canvas.get_renderer()
        self._blank.draw(renderer)
        self._draw_static(i, renderer)
        cache[key] = self.canvas.copy_from_bbox(strip)
        self._shown[i] = (key, cache[key])
        self.panel_draws += 1
        while len(cache) > PANEL_CACHE:
            cache.popitem(last=False)

    def _draw_static(self, i: int, renderer: Any) -> None:
        """Panel i's static part (animated artists are skipped), its titles, axis labels and
        legends stamped from STAMPS when drawn before with the same key (text rasterising is
        most of a panel's cost). Legends are opaque: their frame is drawn, their inside stamped."""
        ax = self.panels.axes[i]
        stamps = self.panels.stamps(i) if STAMPS else []
        hits = [(a, key) for a, key in stamps if key in self._stamps]
        for artist, _key in hits:
            artist.set_visible(False)
        try:
            ax.draw(renderer)
        finally:
            for artist, _key in hits:
                artist.set_visible(True)
        for artist, key in hits:
            box, region = self._stamps[key]
            if hasattr(artist, "legendPatch"):
                artist.legendPatch.set_bounds(box.bounds)
                artist.legendPatch.draw(renderer)
            self.canvas.restore_region(region)
        for artist, key in stamps:
            if key not in self._stamps:
                box = artist.get_window_extent(renderer)
                if hasattr(artist, "legendPatch"):  # inside the frame line
                    inset = np.ceil(artist.legendPatch.get_linewidth() * self.figure.dpi / 72 / 2) + 1
                    inner = Bbox.from_extents(np.ceil(box.x0 + inset), np.ceil(box.y0 + inset),
                                              np.floor(box.x1 - inset), np.floor(box.y1 - inset))
                else:  # the text's box and its antialiased edge
                    inner = Bbox.from_extents(np.floor(box.x0 - 1), np.floor(box.y0 - 1),
                                              np.ceil(box.x1 + 1), np.ceil(box.y1 + 1))
                self._stamps[key] = (box, self.canvas.copy_from_bbox(inner))
                while len(self._stamps) > STAMP_CACHE:
                    self._stamps.pop(next(iter(self._stamps)))

    def update(self, lowest: str = "roof", panels: Sequence[bool] = (False, False, False), *,
               full: bool = False) -> str:
        """Redraw after ExplorerFigure.update: 'full' draws everything; a panel flagged in
        `panels` gets its static picture back from the cache or drawn alone; then the layers
        from `lowest` up are drawn over their backgrounds and blitted."""
        self.renders += 1
        if full or not self._backgrounds or self._size != self.canvas.get_width_height(physical=True):
            self.canvas.draw()
            return "full"
        index = self.names.index(self._layer(lowest))
        if any(panels):
            self.canvas.restore_region(self._backgrounds[self.names[0]])
            for i, (key, strip) in enumerate(zip(self.panels.panel_keys(), self.panels.strips(), strict=True)):
                if panels[i]:
                    self._panel(i, key, strip)
            index = 0
        else:
            self.canvas.restore_region(self._backgrounds[self.names[index]])
        self._draw_from(index, kept=not any(panels))
        self._legends_on_top()
        self.canvas.blit(self.figure.bbox)
        return "panels" if any(panels) else self.names[index]

__all__ = ["BLIT_LAYERS", "LAYERS", "PANEL_CACHE", "TINTS", "Blitter"]

"""The explorer's three-panel figure: the moving parts and where their labels go.

    fig = plt.figure(dpi=90)
    panels = ExplorerFigure(fig, animated=True)
    blitter = Blitter(panels)
    blitter.update(*panels.update(view, changed={"batch"}))   # say what changed, not how to draw

`ExplorerFigure` (on `roofline_lab.panels.ExplorerPanels`, which builds the artists and lays
the panels out) moves the artists to an `ExplorerView` (`roofline_lab.explorer`) and places
the point labels so they never overlap each other or the current-point star (merged as
"b=64, 156, 512" when they bunch). `update` says which layer moved and which panels'
static pictures changed, which is what `roofline_lab.blitter.Blitter` takes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np

from roofline_lab.blitter import LAYERS, PANEL_CACHE, Blitter
from roofline_lab.explorer import ExplorerView
from roofline_lab.labels import PathLabel, outline_size, text_size
from roofline_lab.layout import GAP, LabelRequest, label_box, overlaps, place_labels
from roofline_lab.panels import LIMIT_SLACK, SIZE_INCHES, TALK_SIZE_INCHES, ExplorerPanels, comm_ms, follow_limits
from roofline_lab.pixels import data_pixels, data_pixels_array
from roofline_lab.units import marker_number

#: The controls that move the roofline layer and the fast layer (any other control moves 'data').
ROOF_CONTROLS = frozenset({"gpu", "compute_dtype", "bandwidth_fraction", "flops_fraction", "tp"})
FAST_CONTROLS = frozenset({"batch"})
#: Label offsets (points) and alignments to try, in order.
_POINT = {"decode": ((-5, 3, "right", "bottom"), (5, -5, "left", "top"), (-5, -5, "right", "top"),
                     (5, 3, "left", "bottom")),
          "prefill": ((5, -5, "left", "top"), (-5, 3, "right", "bottom"), (5, 3, "left", "bottom"),
                      (-5, -5, "right", "top")),
          "marker": tuple((sx * d, dy, "left" if sx > 0 else "right", "top" if dy < 0 else "bottom")
                          for dy in (-7, 7, -22, 22, -38, 38, -56, 56, -76, 76) for d in (9, 22, 40) for sx in (1, -1))
          + tuple((0, sy * d, "center", "bottom" if sy > 0 else "top") for d in (12, 26, 44) for sy in (1, -1)),
          "ridge": ((0, 10, "center", "bottom"), (8, -6, "left", "top"), (-8, -6, "right", "top"))}


@functools.lru_cache(maxsize=64)
def _candidates(kind: str, px_per_point: float, clear: float) -> tuple[tuple[float, float, str, str], ...]:
    """Label offsets in pixels for `kind` ("near": the marker ones within 22 pt), seed labels
    stepping further out (up to `clear` points, past the star)."""
    if kind == "near":
        reach = 22 * px_per_point + 0.01
        return tuple(c for c in _candidates("marker", px_per_point, clear) if abs(c[0]) <= reach and abs(c[1]) <= reach)
    reach = (1.0,) if kind == "marker" else (1.0, 2.5, clear / 5)
    k = px_per_point
    return tuple((dx * k * r, dy * k * r, ha, va) for r in reach for dx, dy, ha, va in _POINT[kind])


def _zone(placed: list[Any], size: Any) -> list[tuple[float, float, float, float]]:
    """The boxes these labels took: a star that comes onto one moves them."""
    return [label_box(got[1], size(got[0]), got[2]) for got in placed if got is not None]


#: Heights (axes fractions) tried for the memory wall's upright label, first the middle.
WALL_LABEL_HEIGHTS = (0.5, 0.35, 0.65, 0.2, 0.8)


def _clear_height(lines: list[np.ndarray], x0: float, x1: float, height_px: float, box: Any) -> float:
    """The first of WALL_LABEL_HEIGHTS at which an upright label over pixel columns [x0, x1],
    height_px tall, meets none of the curves (each an (n, 2) array of pixels, x increasing);
    the middle when none is clear."""
    spans = []
    for xy in lines:
        if len(xy) < 2 or x1 < xy[0, 0] or x0 > xy[-1, 0]:
            continue
        inside = xy[(xy[:, 0] > x0) & (xy[:, 0] < x1), 1]
        ends = np.interp([max(x0, xy[0, 0]), min(x1, xy[-1, 0])], xy[:, 0], xy[:, 1])
        ys = np.concatenate([ends, inside])
        spans.append((ys.min() - 3, ys.max() + 3))
    for fraction in WALL_LABEL_HEIGHTS:
        mid = box.y0 + fraction * box.height
        if all(mid + height_px / 2 < lo or mid - height_px / 2 > hi for lo, hi in spans):
            return fraction
    return WALL_LABEL_HEIGHTS[0]


class ExplorerFigure(ExplorerPanels):
    """(a) the roofline with the seed's points and the current one starred; (b) tokens/s vs
    batch with the ideal line and the memory wall; (c) step time (TTFT in prefill) vs batch."""

    def update(self, view: ExplorerView, changed: Iterable[str] | None = None) -> tuple[str, list[bool]]:
        """Move the artists to `view`. `changed`: the controls that changed since the last
        update (None: any). Returns (lowest layer that moved: roof, data or fast; per panel
        whether its static picture changed), which is what `Blitter.update` takes."""
        names = None if changed is None else set(changed)
        lowest = ("roof" if names is None or names & ROOF_CONTROLS else "data" if names - FAST_CONTROLS
                  else "fast")
        panels = self._follow(view)
        if any(panels):
            lowest = "roof"
        star = self._star_box(view)  # a label the star comes onto moves (and stays moved until the next
        if lowest != "roof" and self._meets(self._ridge_zone, star):  # placement: no redraw as it leaves)
            lowest = "roof"
        elif lowest == "fast" and self._meets(self._seed_zone, star):
            lowest = "data"
        if lowest == "roof":
            self._update_roof(view)
        if lowest in ("roof", "data"):
            self._update_data(view)
        self._update_fast(view)
        return lowest, panels

    def _size(self, label: Any) -> Any:
        """text -> (width, height) in pixels as `label` draws it: a PathLabel's outline box (what
        it stamps and what its window extent says), a Text's laid-out size."""
        dpi, fs = self.figure.dpi, label.get_fontsize()
        if isinstance(label, PathLabel):
            return lambda text: outline_size(text, fs, dpi)
        return lambda text: text_size(text, fs, dpi)[:2]

    def _px(self, ax: Any, x: float, y: float) -> tuple[float, float]:
        fast = data_pixels(ax, x, y)
        if fast is not None:
            return fast
        px = ax.transData.transform((x, y))
        return float(px[0]), float(px[1])

    def _update_roof(self, view: ExplorerView) -> None:
        from roofline_lab.plot import update_roofline

        ax, r = self.ax_roof, self.roof
        update_roofline(r, view.peak_flops, view.mem_bandwidth, ax.get_xlim())
        ax_box = tuple(ax.bbox.extents)
        self._roof_boxes = []
        lo, hi = ax.get_xlim()
        edge = min(max(view.ridge, lo), hi)
        for name, x_data, side in (("memory_text", edge / 1.15, -1), ("compute_text", edge * 1.15, 1)):
            label = r[name]
            x = self._px(ax, x_data, 1)[0]
            w, h = self._size(label)(label.get_text())
            box = (x - w, ax_box[1], x, ax_box[1] + 3 * h) if side < 0 else (x, ax_box[1], x + w, ax_box[1] + 3 * h)
            fits = box[0] >= ax_box[0] + 2 and box[2] <= ax_box[2] - 2
            label.set_visible(fits)
            if fits:
                self._roof_boxes.append(box)
        ridge, self._ridge_zone = r["ridge_label"], []
        if ridge.get_visible():
            anchor = self._px(ax, view.ridge, view.peak_flops)
            self._star_placed = self._star_box(view)
            request = LabelRequest(ridge.get_text(), anchor, "ridge", self._cands("ridge"))
            (got,) = place_labels([request], self._size(ridge), ax_box,
                                  [*self._roof_boxes, self._star_placed, *self._seed_boxes(view)],
                                  self._legend_boxes[0])
            self._ridge_zone = _zone([got], self._size(ridge))
            self._set_label(ridge, got)
            self._roof_boxes.append(label_box(anchor, self._size(ridge)(got[0]), got[2]))

    def _star_box(self, view: ExplorerView) -> tuple[float, float, float, float]:
        """The current-point star's box in pixels (labels keep clear of it)."""
        x, y = self._px(self.ax_roof, *view.point)
        r = (self.current.get_markersize() + self.current.get_markeredgewidth()) * self.figure.dpi / 72 / 2
        return (round(x - r, 1), round(y - r, 1), round(x + r, 1), round(y + r, 1))

    def _seed_boxes(self, view: ExplorerView) -> list[tuple[float, float, float, float]]:
        """The seed points' marker boxes in pixels (prefill's, then decode's), where `view` puts
        them (the roof layer places the ridge label before the points move)."""
        return [self._marker_box(series["points"], self._px(self.ax_roof, x, y))
                for series, xs, ys in ((self.prefill, view.prefill_x, view.prefill_y),
                                       (self.decode, view.decode_x, view.decode_y))
                for x, y in zip(xs, ys, strict=True)]

    def _marker_box(self, line: Any, anchor: tuple[float, float]) -> tuple[float, float, float, float]:
        """A point marker's box in pixels around its anchor, less the gap labels keep (so a label
        may sit beside its own point but not on another)."""
        r = (line.get_markersize() + line.get_markeredgewidth()) * self.figure.dpi / 72 / 2 - GAP
        return (anchor[0] - r, anchor[1] - r, anchor[0] + r, anchor[1] + r)

    @staticmethod
    def _line_pixels(ax: Any, line: Any) -> np.ndarray:
        """A line's finite points in pixels, (n, 2), on log-log axes (roofline_lab.pixels)."""
        x, y = line.get_data()
        xy = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
        fast = data_pixels_array(ax, xy)
        if fast is not None:
            return fast
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        return ax.transData.transform(xy) if len(xy) else np.zeros((0, 2))

    @staticmethod
    def _near(points: np.ndarray, anchor: tuple[float, float], reach: float = 90.0,
              half: float = 2.0) -> list[tuple[float, float, float, float]]:
        """Small boxes round the curve points within `reach` pixels of a label's anchor: a
        label placed clear of them does not cross the curve (points lie a few pixels apart)."""
        if not len(points):
            return []
        close = points[np.abs(points - np.asarray(anchor)).max(axis=1) < reach]
        return [(x - half, y - half, x + half, y + half) for x, y in close.tolist()]

    @staticmethod
    def _meets(zone: list[tuple[float, float, float, float]], *stars: tuple[float, float, float, float] | None) -> bool:
        """Whether a star box meets a box of `zone` (the boxes labels were offered: it may move them)."""
        return any(star is not None and overlaps(star, box) for star in stars for box in zone)

    def _cands(self, kind: str) -> tuple[tuple[float, float, str, str], ...]:
        clear = (self.current.get_markersize() + self.current.get_markeredgewidth()) / 2 + 2  # past the star, pt
        return _candidates(kind, self.figure.dpi / 72, clear)

    def _set_label(self, label: Any, got: Any, data_at: dict[Any, Any] | None = None) -> None:
        """Show `label` as placed. data_at: anchor pixels -> data point, for labels that may move
        to another point's anchor (a merged seed label); others stay where their caller put them."""
        k = 72 / self.figure.dpi
        if got is None:
            label.set_visible(False)
            return
        text, anchor, (dx, dy, ha, va) = got
        label.set_visible(True)
        label.set_text(text)
        if data_at is not None:
            label.set_position(data_at[anchor])
        label.set_offset((dx * k, dy * k), ha, va)

    def _update_data(self, view: ExplorerView) -> None:
        from roofline_lab.plot import update_points

        ax = self.ax_roof
        update_points(self.decode, view.decode_x, view.decode_y, view.decode_labels)
        update_points(self.prefill, view.prefill_x, view.prefill_y, view.prefill_labels)
        requests, artists, points, data_at = [], [], [], {}
        for kind, series in (("prefill", self.prefill), ("decode", self.decode)):
            xs, ys = series["points"].get_data()
            for label, x, y in zip(series["labels"], xs, ys, strict=True):
                anchor = self._px(ax, x, y)
                data_at[anchor] = (x, y)
                requests.append(LabelRequest(label.get_text(), anchor, kind, self._cands(kind)))
                artists.append(label)
                points.append(self._marker_box(series["points"], anchor))
        size = self._size(artists[0])
        self._star_placed = self._star_box(view)
        self._point_boxes = points
        placed = place_labels(requests, size, tuple(ax.bbox.extents),
                              [*self._roof_boxes, self._star_placed, *self._point_boxes], self._legend_boxes[0])
        self._data_boxes = []
        for label, got in zip(artists, placed, strict=True):
            self._set_label(label, got, data_at)
            if got is not None:
                self._data_boxes.append(label_box(got[1], size(got[0]), got[2]))
        self._seed_zone = _zone(placed, size)
        for i, key in ((1, "tps"), (2, "lat")):
            s, ax = self.sweeps[key], self.axes[i]
            s["curve"].set_data(view.batches, view.tokens_per_s if key == "tps" else view.step_ms)
            if key == "tps":
                s["ideal"].set_data(view.batches, view.ideal_tokens_per_s)
            else:
                comm = comm_ms(view)
                s["comm"].set_visible(comm is not None)
                if comm is not None:
                    s["comm"].set_data(view.batches, np.where(comm > 0, comm, np.nan))
            lines = [s[name] for name in ("curve", "ideal", "comm") if name in s and s[name].get_visible()]
            line_pixels = [self._line_pixels(ax, line) for line in lines]
            self._curve_points[i] = np.concatenate(line_pixels)
            lo, hi = ax.get_xlim()
            bites = view.wall_batch is not None and view.wall_batch < hi
            for name in ("wall", "wall_region", "wall_text"):
                s[name].set_visible(bites)
            self._wall_boxes[i], self._wall_lines[i] = [], []
            if bites:
                w = max(float(view.wall_batch), lo)
                s["wall"].set_xdata([w, w])
                s["wall_region"].set_x(w)
                s["wall_region"].set_width(hi - w)
                text = f"max batch {view.wall_batch:,}" if view.wall_batch else "not even batch 1 fits"
                s["wall_text"].set_text(text)
                x = self._px(ax, w, 1)[0]
                tw, th = self._size(s["wall_text"])(text)[::-1]  # rotated
                if x - tw - 3 < ax.bbox.x0:  # no room left of the wall: write it on the right
                    s["wall_text"].set_offset((3, 0), "left", "center")
                    x0, x1 = x, x + tw + 4
                else:
                    s["wall_text"].set_offset((-3, 0), "right", "center")
                    x0, x1 = x - tw - 4, x
                fraction = _clear_height(line_pixels, x0, x1, th, ax.bbox)
                s["wall_text"].set_position((w, fraction))
                mid = ax.bbox.y0 + fraction * ax.bbox.height
                self._wall_boxes[i].append((x0, mid - th / 2, x1, mid + th / 2))
                self._wall_lines[i] = [(x - 2, ax.bbox.y0, x + 2, ax.bbox.y1)]

    def _update_fast(self, view: ExplorerView) -> None:
        suffix = "" if view.fits else " (does not fit)"
        self.current.set_data([view.point[0]], [view.point[1]])
        marks = [(self.ax_roof, self.current_text, view.point, view.current_label + suffix,
                  [*self._roof_boxes, *self._data_boxes, *self._point_boxes, self._star_box(view)],
                  [], None)]  # the point is on the roofline: no room clear of it
        for i, key, y, unit in ((1, "tps", view.batch_tokens_per_s, "tok/s"), (2, "lat", view.batch_step_ms, "ms")):
            s = self.sweeps[key]
            s["marker"].set_data([view.batch], [y])
            # no "(does not fit)" here: the star sits past the memory wall, in its grey region
            marks.append((self.axes[i], s["marker_text"], (view.batch, y), f"{marker_number(y)} {unit}",
                          self._wall_boxes[i], self._wall_lines[i], self._curve_points[i]))
        for (ax, label, xy, text, hard, soft, curve), legends in zip(marks, self._legend_boxes, strict=True):
            label.set_position(xy)
            anchor, size = self._px(ax, *xy), self._size(label)
            request = [LabelRequest(text, anchor, "marker", self._cands("marker"))]
            got = None
            if curve is not None:  # first, close by and clear of the curve and the wall's line too
                (got,) = place_labels([LabelRequest(text, anchor, "marker", self._cands("near"))], size,
                                      tuple(ax.bbox.extents), hard + soft + self._near(curve, anchor), legends)
                box = None if got is None else label_box(anchor, size(got[0]), got[2])
                if box is not None and any(overlaps(box, b) for b in [*hard, *soft, *legends]):
                    got = None  # a fallback onto another text or across the wall: no
            if got is None:
                (got,) = place_labels(request, size, tuple(ax.bbox.extents), hard, legends)
            self._set_label(label, got)

__all__ = [
    "FAST_CONTROLS",
    "LAYERS",
    "LIMIT_SLACK",
    "PANEL_CACHE",
    "ROOF_CONTROLS",
    "SIZE_INCHES",
    "TALK_SIZE_INCHES",
    "Blitter",
    "ExplorerFigure",
    "follow_limits",
]

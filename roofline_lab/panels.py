"""The explorer's three panels, drawn once: axes, legends, limits and layout.

`ExplorerPanels` builds every artist of the figure (`roofline_lab.figure.ExplorerFigure`
moves them): axis limits follow the state with hysteresis (they shrink back once the data
is LIMIT_SLACK narrower), panel margins come from the rendered size of the texts they hold
(`roofline_lab.layout`), and legends list only what is drawn. `panel_keys()` and `strips()`
say what each panel's static picture shows and where, for the `Blitter`'s panel cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

from roofline_lab.explorer import ExplorerView
from roofline_lab.labels import LogTickLabels, make_label, text_size
from roofline_lab.layout import PanelText, panel_rects
from roofline_lab.plot import STYLE, decade_limits, draw_points, draw_roofline, style_log_axes, style_roofline_axes
from roofline_lab.units import TERA, tick_number

SIZE_INCHES = (10.8, 4.4)
#: Talk style: wide enough to fill a 1600-px page at the explorer's 90 dpi.
TALK_SIZE_INCHES = (17.2, 6.6)
WIDTH_RATIOS = (1.45, 1.0, 1.0)
#: An axis keeps its limits while the data stays inside them and no more than LIMIT_SLACK
#: narrower on either side; a side that moves (the data crossed it, or left it more than
#: LIMIT_SLACK behind) lands on the data's padded decade.
LIMIT_SLACK = 100.0
#: Room reserved for tick labels shrinks only when this many pixels too wide (fewer relayouts).
ROOM_SLACK_PX = 30.0
#: Panel (c)'s communication line (tensor parallel): dashed, in the step-time colour family.
COMM_STYLE: dict[str, Any] = {"color": "0.25", "linewidth": 1.4, "linestyle": "--"}


def follow_limits(current: tuple[float, float], want: tuple[float, float]) -> tuple[float, float]:
    """Limits with hysteresis, each side on its own: a side the data crosses, or one more than
    LIMIT_SLACK beyond the data (no ratchet), moves to the data's (padded, whole-decade) limit.
    Landing a decade further out cut single-panel redraws from 32 to 19 in 200 random changes
    (`python -m roofline_lab.bench`) but left two empty decades above the data; with the panel
    cache both keep p95 near 20 ms, so the limits stay tight."""
    lo, hi = (float(v) for v in current)
    if want[0] < lo or want[0] / lo > LIMIT_SLACK:
        lo = float(want[0])
    if want[1] > hi or hi / want[1] > LIMIT_SLACK:
        hi = float(want[1])
    return lo, hi



def comm_ms(view: ExplorerView) -> np.ndarray | None:
    """The view's communication ms per step over its batches (tensor parallel), or None when
    it has none to draw (no such field, or all zeros as at tp=1)."""
    comm = getattr(view, "comm_ms", None)
    if comm is None:
        return None
    comm = np.asarray(comm, dtype=float)
    return comm if comm.size and float(np.max(comm)) > 0 else None


def _legend(ax: Any, entries: Sequence[tuple[str, str, str]]) -> Any:
    styles = {**STYLE, "comm": COMM_STYLE, "current": {**STYLE["current"], "markersize": 12}}  # star in its frame
    handles = [Line2D([], [], **{**styles[style], "linestyle": styles[style].get("linestyle", ls)}, label=text)
               for text, style, ls in entries]
    return ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=1.0,
                     fancybox=False)  # opaque and square: the Blitter can stamp its inside


class ExplorerPanels:
    """(a) the roofline with the seed's points and the current one starred; (b) tokens/s vs
    batch with the ideal line and the memory wall; (c) step time (TTFT in prefill) vs batch."""

    def __init__(self, fig: Figure, *, animated: bool = False, max_batch_shown: int = 4096) -> None:
        self.figure, a = fig, animated
        fig.set_size_inches(*SIZE_INCHES)
        fig.set_facecolor("white")
        self.axes = [fig.add_axes((0.05 + 0.33 * i, 0.15, 0.25, 0.75)) for i in range(3)]
        self.ax_roof, self.ax_tps, self.ax_lat = self.axes
        style_roofline_axes(self.ax_roof, minor=False)
        self.ax_roof.yaxis.set_major_formatter(lambda y, _pos: tick_number(y / TERA))
        for ax, ylabel in ((self.ax_tps, "tokens/s"), (self.ax_lat, "step time (ms)")):
            style_log_axes(ax, xlabel="batch (sequences per step)", ylabel=ylabel, minor=False)
            ax.set_xlim(0.7, max_batch_shown * 1.4)
        for ax in self.axes:
            for axis in (ax.xaxis, ax.yaxis):
                if axis is not self.ax_roof.yaxis:
                    axis.set_major_formatter(lambda x, _pos: tick_number(x))
        self.ticks = [LogTickLabels(ax, which) for ax in self.axes for which in ("x", "y")]
        names = ("(a) roofline", "(b) throughput", "(c) step time")
        self.titles = [ax.set_title(title, fontsize=10, loc="left") for ax, title in zip(self.axes, names, strict=True)]
        ax = self.ax_roof
        self.roof = draw_roofline(1e12, 1e12, ax, animated=a)
        self.decode = draw_points([1.0] * 5, [1e12] * 5, [""] * 5, ax, kind="decode", animated=a)
        self.prefill = draw_points([1.0] * 2, [1e12] * 2, [""] * 2, ax, kind="prefill", animated=a)
        (self.current,) = ax.plot([1.0], [1e12], linestyle="none", **STYLE["current"], animated=a, zorder=4)
        self.current_text = make_label(ax, fontsize=8, animated=a)
        self.sweeps: dict[str, dict[str, Any]] = {}
        for key, ax, style in (("tps", self.ax_tps, "throughput"), ("lat", self.ax_lat, "latency")):
            s: dict[str, Any] = {"wall_region": ax.axvspan(1, 2, color="0.6", alpha=0.25, lw=0, animated=a)}
            (s["wall"],) = ax.plot([1, 1], [0, 1], **STYLE["wall"], transform=ax.get_xaxis_transform(), animated=a)
            s["wall_text"] = make_label(ax, "", (1, 0.5), offset=(-3, 0), rotation=90, ha="right", va="center",
                                        fontsize=8, color=STYLE["wall"]["color"], transform=ax.get_xaxis_transform(),
                                        animated=a)
            if key == "tps":
                (s["ideal"],) = ax.plot([], [], **STYLE["ideal"], animated=a)
            else:  # tensor-parallel communication per step; drawn only when there is some
                (s["comm"],) = ax.plot([], [], **COMM_STYLE, animated=a, visible=False)
            (s["curve"],) = ax.plot([], [], **STYLE[style], animated=a)
            (s["marker"],) = ax.plot([], [], linestyle="none", **STYLE["current"], animated=a, zorder=3)
            s["marker_text"] = make_label(ax, fontsize=8, animated=a)
            self.sweeps[key] = s
        _legend(self.ax_roof, [("roofline", "roofline", "-"), ("decode, batch b", "decode", "none"),
                                    ("prefill, prompt L", "prefill", "none"), ("current", "current", "none")])
        entries = [("tokens/s", "throughput", "-"), ("batch x batch-1 rate", "ideal", ":")]
        self._tps_legends = (_legend(self.ax_tps, entries),
                             _legend(self.ax_tps, [*entries, ("memory wall", "wall", "--")]))
        self.ax_tps.add_artist(self._tps_legends[0])  # both stay in the figure; one is shown
        self._wall_in_legend: bool | None = None
        self._comm_legend = _legend(self.ax_lat, [("communication", "comm", "--")])
        self._comm_legend.set_visible(False)
        self._roof_boxes: list[tuple[float, float, float, float]] = []
        self.fast: list[Any] = [self.current, self.current_text]
        for s in self.sweeps.values():
            self.fast += [s["marker"], s["marker_text"]]
        self.data: list[Any] = [self.decode["points"], *self.decode["labels"], self.prefill["points"],
                                *self.prefill["labels"],
                                *(x for s in self.sweeps.values() for x in s.values() if x not in self.fast)]
        self.layers: dict[str, list[Any]] = {"roof": list(self.roof.values()), "data": self.data, "fast": self.fast}
        #: Translucent fills spanning their axes' height -> panel index (the Blitter tints them).
        self.fills: dict[Any, int] = {self.roof["memory_region"]: 0, self.roof["compute_region"]: 0,
                                      self.sweeps["tps"]["wall_region"]: 1, self.sweeps["lat"]["wall_region"]: 2}
        self.bounds: list[float] = [0.0, 0.0, 0.0, float(fig.bbox.width)]  # strip edges between panels, pixels
        self._legend_boxes: list[list[tuple[float, float, float, float]]] = [[], [], []]
        self._legends_moved = True
        self._wall_boxes: list[list[tuple[float, float, float, float]]] = [[], [], []]  # the wall labels
        self._wall_lines: list[list[tuple[float, float, float, float]]] = [[], [], []]  # the dashed lines
        self._data_boxes: list[tuple[float, float, float, float]] = []
        self._point_boxes: list[tuple[float, float, float, float]] = []  # the seed points' markers
        self._curve_points: list[np.ndarray] = [np.zeros((0, 2))] * 3  # curve pixels of panels (b) and (c)
        self._star_placed: tuple[float, float, float, float] | None = None  # star box the seed labels avoid
        self._seed_zone: list[tuple[float, float, float, float]] = []  # boxes seed labels could take
        self._ridge_zone: list[tuple[float, float, float, float]] = []
        self._limits_set = False
        self._room: dict[int, dict[str, float]] = {}
        self.relayout()

    # ----------------------------------------------------------------- static parts

    def stamps(self, i: int) -> list[tuple[Any, tuple[Any, ...]]]:
        """Panel i's static texts and legends whose pixels depend only on the returned key
        (text, font size, where they sit), so the Blitter can stamp them from a cache."""
        ax, fig = self.axes[i], self.figure
        where = (fig.bbox.width, fig.bbox.height, ax.get_position(original=True).bounds)
        out: list[tuple[Any, tuple[Any, ...]]] = []
        for t in (self.titles[i], ax.xaxis.label, ax.yaxis.label):
            if t.get_visible() and t.get_text():
                out.append((t, (id(t), t.get_text(), t.get_fontsize(), tuple(t.get_position()), *where)))
        for lg in self.legends(ax):
            texts = tuple((t.get_text(), t.get_fontsize()) for t in lg.get_texts())
            out.append((lg, (id(lg), texts, lg.legendPatch.get_linewidth(), *where)))
        return out

    def legends(self, ax: Any) -> list[Any]:
        """The legends shown in `ax`."""
        return [c for c in ax.get_children() if c.__class__.__name__ == "Legend" and c.get_visible()]

    def _panel_text(self, ax: Any) -> PanelText:
        dpi, i = self.figure.dpi, self.axes.index(ax)
        xt, yt = self.ticks[2 * i], self.ticks[2 * i + 1]
        size = yt.fontsize()
        widths = [text_size(t, size, dpi)[0] for _, t in yt.texts()] or [0.0]
        xs = xt.texts()
        first, last = (text_size(xs[k][1], size, dpi)[0] for k in (0, -1)) if xs else (0.0, 0.0)
        title = self.titles[i]
        tw, th, _ = text_size(title.get_text(), title.get_fontsize(), dpi)
        label_h = lambda lab: text_size(lab.get_text(), lab.get_fontsize(), dpi)[1]  # noqa: E731
        return PanelText(
            ytick_width=max(widths), tick_height=text_size("0", size, dpi)[1] * 1.1, first_xtick_width=first,
            last_xtick_width=last, ylabel_height=label_h(ax.yaxis.label), xlabel_height=label_h(ax.xaxis.label),
            title_height=th, title_width=tw, tick_room=yt.room_points() * dpi / 72, label_pad=4 * dpi / 72 + 2)

    def _reserve(self, i: int, need: PanelText) -> PanelText:
        """`need` with its tick-label widths kept at the room already reserved unless that is
        too small or ROOM_SLACK_PX too large."""
        names = ("ytick_width", "first_xtick_width", "last_xtick_width")
        old = self._room.get(i, {})
        room = {n: old[n] if n in old and old[n] >= getattr(need, n) >= old[n] - ROOM_SLACK_PX else getattr(need, n)
                for n in names}
        self._room[i] = room
        return replace(need, **room)

    def relayout(self) -> bool:
        """Place the panels from the size of their texts; True when they moved (by > 2 px)."""
        fig = self.figure
        self._legends_moved = True  # a new size or talk style moves and resizes them even when the axes stay
        w, h = fig.bbox.width, fig.bbox.height
        texts = [self._reserve(i, self._panel_text(ax)) for i, ax in enumerate(self.axes)]
        rects = panel_rects(w, h, texts, WIDTH_RATIOS, pad=4 * fig.dpi / 72)
        old = [ax.get_position(original=True).bounds for ax in self.axes]
        new = [(x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h) for x0, y0, x1, y1 in rects]
        # strip edges: just right of each panel's last x tick label
        edges = [0.0] + [min(rects[i][2] + texts[i].last_xtick_width / 2 + 2, rects[i + 1][0] - 1)
                         for i in range(2)] + [w]
        self.bounds = edges
        for ticks in self.ticks:
            ticks.update()
        scale = (w, h, w, h)
        moved = any(abs(a - b) * s > 2 for o, n in zip(old, new, strict=True)
                    for a, b, s in zip(o, n, scale, strict=True))
        if moved:
            for ax, pos in zip(self.axes, new, strict=True):
                ax.set_position(pos)
        for ax, t, (x0, y0, x1, y1) in zip(self.axes, texts, rects, strict=True):  # axis labels beside the ticks
            ax.yaxis.set_label_coords(-(t.tick_room + t.ytick_width + t.label_pad) / (x1 - x0), 0.5)
            ax.xaxis.set_label_coords(0.5, -(t.tick_room + t.tick_height + t.label_pad) / (y1 - y0))
        return moved

    def panel_keys(self) -> list[tuple[Any, ...]]:
        """What each panel's static picture shows: equal keys, equal pixels."""
        size = (self.figure.bbox.width, self.figure.bbox.height)
        keys = []
        for ax in self.axes:
            labels = tuple(t.get_text() for legend in self.legends(ax) for t in legend.get_texts())
            keys.append((size, ax.get_position(original=True).bounds, ax.get_xlim(), ax.get_ylim(), labels,
                         ax.get_title(loc="left"), self.titles[0].get_fontsize()))
        return keys

    def strips(self) -> list[Bbox]:
        """Each panel's column of the figure, in whole pixels (panels' texts never cross them)."""
        h = self.figure.bbox.height
        e = [round(x) for x in self.bounds]
        return [Bbox.from_extents(e[i], 0, e[i + 1], h) for i in range(3)]

    def _follow(self, view: ExplorerView) -> list[bool]:
        """Limits, legends, titles and layout for `view`; per panel, whether its static part changed."""
        exact = not self._limits_set
        self._limits_set = True
        changed = [False, False, False]

        def limit(i: int, axis: str, want: tuple[float, float]) -> None:
            ax = self.axes[i]
            now = ax.get_xlim() if axis == "x" else ax.get_ylim()
            new = want if exact else follow_limits(now, want)
            if tuple(new) != tuple(now):
                (ax.set_xlim if axis == "x" else ax.set_ylim)(*new)
                changed[i] = True

        xs = np.concatenate([view.decode_x, view.prefill_x, [view.point[0], view.ridge]])
        limit(0, "x", decade_limits(xs, pad=3.0))
        lo = self.ax_roof.get_xlim()[0]
        ys = np.concatenate([view.decode_y, view.prefill_y, [view.point[1], view.peak_flops],
                             [min(lo * view.mem_bandwidth, view.peak_flops)]])
        limit(0, "y", decade_limits(ys, pad=3.0))
        limit(1, "y", decade_limits(np.concatenate([view.tokens_per_s, view.ideal_tokens_per_s[:1],
                                                    [view.batch_tokens_per_s]]), pad=3.0))
        comm = comm_ms(view)
        lat = [view.step_ms, [view.batch_step_ms]] + ([comm[comm > 0]] if comm is not None else [])
        limit(2, "y", decade_limits(np.concatenate(lat), pad=3.0))
        if (comm is not None) != self._comm_legend.get_visible():
            self._comm_legend.set_visible(comm is not None)
            changed[2] = True
        wall = view.wall_batch is not None and view.wall_batch < self.ax_tps.get_xlim()[1]
        if wall != self._wall_in_legend:
            self._wall_in_legend = wall
            self._tps_legends[0].set_visible(not wall)
            self._tps_legends[1].set_visible(wall)
            changed[1] = True
        title = "(c) step time" if view.phase == "decode" else "(c) time to first token"
        if self.ax_lat.get_title(loc="left") != title:
            self.titles[2].set_text(title)
            changed[2] = True
        if any(changed) and self.relayout():  # new limits: new tick labels, maybe new margins
            changed = [True, True, True]
        if any(changed) or self._legends_moved:  # where the labels must keep off (the legends lie on top)
            renderer = self.figure.canvas.get_renderer()
            for i, ax in enumerate(self.axes):
                self._legend_boxes[i] = [tuple(lg.get_window_extent(renderer).extents) for lg in self.legends(ax)]
            self._legends_moved = False
        return changed

    def text_artists(self) -> list[Any]:
        """Every text the figure shows (for layout checks): titles, axis labels, legends, moving
        labels, and the tick labels of the ticks in view."""
        ticks = []
        for ax in self.axes:
            for axis in (ax.xaxis, ax.yaxis):
                lo, hi = sorted(axis.get_view_interval())
                ticks += [t.label1 for t in axis.get_major_ticks() if lo * 0.999 <= t.get_loc() <= hi * 1.001]
        owned = {id(t.label1) for ax in self.axes for axis in (ax.xaxis, ax.yaxis) for t in axis.get_major_ticks()}
        texts = self.figure.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontsize"))
        out = [t for t in texts if id(t) not in owned] + ticks
        return [t for t in out if t.get_visible() and str(t.get_text()).strip() and _shown(t)]


def _shown(artist: Any) -> bool:
    """Visible along its whole parent chain (a hidden legend hides its texts)."""
    for legend in artist.axes.get_children() if getattr(artist, "axes", None) is not None else []:
        if legend.__class__.__name__ == "Legend" and not legend.get_visible() and artist in legend.get_texts():
            return False
    return True


__all__ = ["COMM_STYLE", "LIMIT_SLACK", "SIZE_INCHES", "TALK_SIZE_INCHES", "ExplorerPanels", "comm_ms", "follow_limits"]

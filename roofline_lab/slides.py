"""Figures for a room and for slides: a projector ("talk") style and export with a caption.

    from roofline_lab.slides import save_figure, set_talk_style
    set_talk_style(fig, True)                       # larger fonts, thicker lines, same artists
    save_figure(fig, "roofline.svg", caption="...")  # SVG or PNG by suffix, caption under the axes

Both work on any matplotlib figure and leave it as it was: the talk style scales the
artists already there (and back: it remembers each one's own size), export draws the
explorer's blitted ("animated") artists into the file and takes the caption out again.
Pure matplotlib; nothing here knows about the physics.
"""

from __future__ import annotations

import textwrap
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.spines import Spine
from matplotlib.ticker import LogLocator

#: Talk style: text, tick labels, legends, line widths and markers this many times their normal size.
TALK_FONT_SCALE = 1.5
TALK_TICK_SCALE = 1.3
TALK_LEGEND_SCALE = 1.3
TALK_LINE_SCALE = 1.9
TALK_MARKER_SCALE = 1.35
#: At most this many labelled decades per log axis in talk style (larger labels need the room).
TALK_MAX_TICKS = 6
#: Room for the larger tick and axis labels (GridSpec parameters), used only with the talk style.
TALK_MARGINS = {"left": 0.085, "right": 0.985, "bottom": 0.2, "top": 0.89, "wspace": 0.62}
#: File types `save_figure` writes, by suffix.
SAVE_FORMATS = ("svg", "png")
#: Pixels per inch of a saved PNG: sharp on a 1080p projector at full width.
PNG_DPI = 200

# each artist's own (talk-off) sizes, recorded the first time the style touches it
_BASE: weakref.WeakKeyDictionary[Artist, tuple[float, ...]] = weakref.WeakKeyDictionary()
_BASE_FIGURE: weakref.WeakKeyDictionary[Figure, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _tick_artists(fig: Figure) -> set[int]:
    """ids of the artists the tick machinery owns (restyled through tick_params instead)."""
    owned: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                owned.update(id(a) for a in tick.get_children())
    return owned


def _gridspecs(fig: Figure) -> list[Any]:
    specs = []
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        gs = spec.get_gridspec() if spec is not None else None
        if gs is not None and hasattr(gs, "get_subplot_params") and gs not in specs:
            specs.append(gs)
    return specs


def is_talk_style(fig: Figure) -> bool:
    """Whether `set_talk_style(fig, True)` is in force."""
    return bool(_BASE_FIGURE.get(fig, {}).get("on", False))


def set_talk_style(fig: Figure, on: bool = True) -> None:
    """Projector style on or off, in place: every text's font, every line's width and marker,
    the spines and the ticks are scaled from their own normal size (so on/off/on is exact),
    and the subplots get room for the larger labels. The figure and its artists stay the
    same objects; the caller redraws.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(on, bool):
        raise TypeError(f"on must be True or False, got {on!r}")
    scale = {"font": TALK_FONT_SCALE, "tick": TALK_TICK_SCALE, "legend": TALK_LEGEND_SCALE,
             "line": TALK_LINE_SCALE, "marker": TALK_MARKER_SCALE, "frame": 1.5}
    if not on:
        scale = dict.fromkeys(scale, 1.0)
    record = _BASE_FIGURE.setdefault(fig, {"on": False})
    ticks = _tick_artists(fig)
    legend_texts = {id(t) for legend in _legends(fig) for t in legend.get_texts()}
    for artist in fig.findobj(include_self=False):
        if id(artist) in ticks:
            continue
        if hasattr(artist, "set_fontsize") and hasattr(artist, "get_fontsize"):
            (size,) = _BASE.setdefault(artist, (float(artist.get_fontsize()),))
            artist.set_fontsize(size * scale["legend" if id(artist) in legend_texts else "font"])
        elif isinstance(artist, Line2D):
            width, msize, edge = _BASE.setdefault(
                artist, (artist.get_linewidth(), artist.get_markersize(), artist.get_markeredgewidth())
            )
            artist.set_linewidth(width * scale["line"])
            artist.set_markersize(msize * scale["marker"])
            artist.set_markeredgewidth(edge * scale["marker"])
        elif isinstance(artist, Spine | Patch) and artist.get_linewidth() > 0:
            (width,) = _BASE.setdefault(artist, (artist.get_linewidth(),))
            artist.set_linewidth(width * scale["frame"])
    for ax in fig.axes:
        base = record.setdefault(ax, _tick_sizes(ax))
        ax.tick_params(which="major", labelsize=base[0] * scale["tick"], width=base[1] * scale["frame"],
                       length=base[2] * scale["frame"])
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "log":
                continue
            normal = record.setdefault(axis, axis.get_major_locator())
            axis.set_major_locator(LogLocator(base=10, numticks=TALK_MAX_TICKS) if on else normal)
    for gs in _gridspecs(fig):
        params = gs.get_subplot_params(fig)
        normal = record.setdefault(gs, {k: getattr(params, k) for k in TALK_MARGINS})
        gs.update(**(TALK_MARGINS if on else normal))
    record["on"] = on
    fig.stale = True


def _legends(fig: Figure) -> list[Any]:
    return [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]


def _tick_sizes(ax: Any) -> tuple[float, float, float]:
    """(label font size, tick width, tick length) of the axes' major ticks as they are now."""
    tick = ax.xaxis.get_major_ticks()[0]
    return float(tick.label1.get_fontsize()), float(tick.tick1line.get_markeredgewidth()), \
        float(tick.tick1line.get_markersize())


@contextmanager
def _all_drawn(fig: Figure) -> Iterator[None]:
    """Draw animated (blitted) artists in an ordinary draw, for the duration."""
    moving = fig.findobj(lambda a: a.get_animated(), include_self=False)
    for artist in moving:
        artist.set_animated(False)
    try:
        yield
    finally:
        for artist in moving:
            artist.set_animated(True)


def save_figure(fig: Figure, path: str | Path, caption: str = "", *, width_chars: int = 150) -> Path:
    """Write the figure as it stands to `path`, SVG or PNG by the suffix, with `caption`
    wrapped under the axes and stored as the file's Description metadata. Returns the path.

    Moving (blitted) artists are drawn too; the caption is removed afterwards, so the
    figure on screen does not change. The talk style, when on, applies to the file.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path ending in .svg or .png, got {path!r}")
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in SAVE_FORMATS:
        raise ValueError(f"can only save {', '.join('.' + f for f in SAVE_FORMATS)} files, got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"folder {str(path.parent)!r} does not exist (saving {path.name!r})")
    font = 9 * (TALK_FONT_SCALE if is_talk_style(fig) else 1.0)
    chars = int(width_chars * fig.get_figwidth() / 12 * 9 / font)
    text = "\n".join(textwrap.wrap(caption, width=max(chars, 40), break_on_hyphens=False)) if caption else ""
    note = fig.text(0.01, -0.01, text, ha="left", va="top", fontsize=font, family="monospace") if text else None
    try:
        with _all_drawn(fig):
            fig.savefig(path, format=fmt, bbox_inches="tight", pad_inches=0.15, facecolor="white",
                        dpi=PNG_DPI if fmt == "png" else "figure",
                        metadata={"Description": caption} if caption else None)
    finally:
        if note is not None:
            note.remove()
    return path


__all__ = ["SAVE_FORMATS", "TALK_FONT_SCALE", "TALK_LINE_SCALE", "is_talk_style", "save_figure", "set_talk_style"]

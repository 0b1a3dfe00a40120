"""Geometry for the explorer's figure, from text sizes in pixels (no drawing, no matplotlib).

- `panel_rects`: where a row of panels goes so that every title, tick label and axis label
  fits inside the figure and clear of its neighbours;
- `place_labels`: where each point's label goes (one of a few offsets) so that no two labels
  overlap and all stay inside their axes; labels that cannot be placed merge with their
  neighbour in the same series ("b=64, 156, 512").
Boxes are (x0, y0, x1, y1) in pixels, y up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PanelText:
    """The room one panel's texts need, in pixels."""

    ytick_width: float  # widest y tick label
    tick_height: float  # a tick label's height (with descent)
    first_xtick_width: float  # the x tick labels at the axis ends (they overhang it by half)
    last_xtick_width: float
    ylabel_height: float  # the rotated y label's thickness
    xlabel_height: float
    title_height: float
    title_width: float
    tick_room: float  # tick length plus the gap to its label
    label_pad: float  # gap between tick labels and the axis label


def panel_rects(width: float, height: float, panels: Sequence[PanelText], ratios: Sequence[float],
                pad: float) -> list[Box]:
    """Axes rectangles (x0, y0, x1, y1) in pixels for a row of panels filling width x height."""
    lefts = [pad + p.ylabel_height + p.label_pad + p.ytick_width + p.tick_room for p in panels]
    lefts = [max(left, p.first_xtick_width / 2 + pad) for left, p in zip(lefts, panels, strict=True)]
    rights = [p.last_xtick_width / 2 + pad for p in panels]
    bottom = max(pad + p.xlabel_height + p.label_pad + p.tick_height + p.tick_room for p in panels)
    top = max(pad + 1.6 * p.title_height for p in panels)
    free = width - sum(lefts) - sum(rights)
    total = sum(ratios)
    rects, x = [], 0.0
    for left, right, ratio, p in zip(lefts, rights, ratios, panels, strict=True):
        w = free * ratio / total
        x0 = x + left
        rects.append((x0, bottom, x0 + w, height - top))
        x = x0 + max(w + right, p.title_width + pad)  # a long title pushes the next panel right
    if x > width + 0.5:  # titles took room: shrink every panel to make it fit
        shrink = (free - (x - width)) / free
        return panel_rects(width, height, panels, [r * shrink for r in ratios], pad) if shrink > 0.3 else rects
    return rects


#: Clear space kept between placed labels, pixels.
GAP = 2.0


def overlaps(a: Box, b: Box, gap: float = 0.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _shared_area(a: Box, b: Box, gap: float = 0.0) -> float:
    """Area of a and b (grown by gap) in common, pixels^2."""
    w = min(a[2], b[2] + gap) - max(a[0], b[0] - gap)
    h = min(a[3], b[3] + gap) - max(a[1], b[1] - gap)
    return w * h if w > 0 and h > 0 else 0.0


def inside(a: Box, bounds: Box) -> bool:
    return a[0] >= bounds[0] and a[1] >= bounds[1] and a[2] <= bounds[2] and a[3] <= bounds[3]


#: An offset in pixels and the label's alignment to it: (dx, dy, ha, va).
Candidate = tuple[float, float, str, str]


def label_box(anchor: tuple[float, float], size: tuple[float, float], candidate: Candidate) -> Box:
    """The box of a label of size (w, h) placed at anchor + (dx, dy) with alignment ha/va."""
    dx, dy, ha, va = candidate
    w, h = size
    x = anchor[0] + dx - {"left": 0.0, "center": w / 2, "right": w}[ha]
    y = anchor[1] + dy - {"bottom": 0.0, "center": h / 2, "top": h}[va]
    return (x, y, x + w, y + h)


@dataclass
class LabelRequest:
    """One label to place: its text, anchor (pixels), series (labels merge only within one)."""

    text: str
    anchor: tuple[float, float]
    series: str
    candidates: Sequence[Candidate]


@functools.lru_cache(maxsize=128)
def _reach(candidates: tuple[Candidate, ...]) -> tuple[float, float, float, float]:
    """The smallest and largest dx and dy among candidates (pixels): (dx, dy, dx, dy)."""
    return (min(c[0] for c in candidates), min(c[1] for c in candidates),
            max(c[0] for c in candidates), max(c[1] for c in candidates))


def merged_text(texts: Sequence[str]) -> str:
    """'b=64', 'b=156', 'b=512' -> 'b=64, 156, 512' (texts without '=' are joined with commas)."""
    prefix = texts[0].split("=", 1)[0] + "=" if "=" in texts[0] else ""
    values = [t.split("=", 1)[1] if prefix and t.startswith(prefix) else t for t in texts]
    return prefix + ", ".join(values)


def place_labels(requests: Sequence[LabelRequest], size: Callable[[str], tuple[float, float]], bounds: Box,
                 obstacles: Sequence[Box] = (), never: Sequence[Box] = ()
                 ) -> list[tuple[str, tuple[float, float], Candidate] | None]:
    """Place labels in order: each takes its first candidate inside `bounds` that overlaps no
    obstacle and no label placed so far; one that finds none merges into the last placed label
    of its series, which is placed again with the joined text, or, alone in its series, takes
    the candidate that covers the least, one clear of the `never` boxes (legends drawn over the
    labels: a label there is hidden) wherever there is one. `never` boxes are obstacles too.
    Returns, per request, (text, anchor, candidate) or None where the label was merged into another."""
    obstacles = [*obstacles, *never]
    placed: list[list] = []  # [texts, anchor, candidate, box, series, request index, anchors]
    result: list[tuple[str, tuple[float, float], Candidate] | None] = [None] * len(requests)

    def nearby(anchor: tuple[float, float], w_h: tuple[float, float], candidates: Sequence[Candidate],
               skip: int) -> list[Box]:
        """The placed labels (but `skip`) and obstacles that could touch a candidate's box."""
        x0, y0, x1, y1 = _reach(tuple(candidates))  # every candidate box lies in this region
        region = (anchor[0] + x0 - w_h[0], anchor[1] + y0 - w_h[1], anchor[0] + x1 + w_h[0], anchor[1] + y1 + w_h[1])
        return [t for t in [p[3] for i, p in enumerate(placed) if i != skip] + list(obstacles)
                if overlaps(region, t, GAP)]

    def fit(text: str, anchor: tuple[float, float], candidates: Sequence[Candidate], skip: int) -> tuple | None:
        w_h = size(text)
        if not candidates:
            return None
        taken = nearby(anchor, w_h, candidates, skip)
        for c in candidates:
            box = label_box(anchor, w_h, c)
            if inside(box, bounds) and not any(overlaps(box, t, GAP) for t in taken):
                return c, box
        return None

    for index, req in enumerate(requests):
        got = fit(req.text, req.anchor, req.candidates, -1)
        if got is not None:
            placed.append([[req.text], req.anchor, got[0], got[1], req.series, index, [req.anchor]])
            continue
        mates = [i for i, p in enumerate(placed) if p[4] == req.series]
        if not mates:  # nothing to merge with: the candidate inside that covers the least
            w_h = size(req.text)
            taken = nearby(req.anchor, w_h, req.candidates, -1) if req.candidates else []
            inside_ones = [c for c in req.candidates if inside(label_box(req.anchor, w_h, c), bounds)]
            inside_ones = [c for c in inside_ones
                           if not any(overlaps(label_box(req.anchor, w_h, c), n, GAP) for n in never)] or inside_ones
            c = min(inside_ones, key=lambda c: sum(_shared_area(label_box(req.anchor, w_h, c), t, GAP) for t in taken),
                    default=req.candidates[0])
            placed.append([[req.text], req.anchor, c, label_box(req.anchor, w_h, c), req.series, index, [req.anchor]])
            continue
        mate = placed[mates[-1]]
        mate[0], mate[6] = [*mate[0], req.text], [*mate[6], req.anchor]
        while True:
            text, again = merged_text(mate[0]), None
            for anchor in reversed(mate[6]):  # the joined label may sit at any of its points
                again = fit(text, anchor, req.candidates, placed.index(mate))
                if again is not None:
                    break
            earlier = [p for p in placed[:placed.index(mate)] if p[4] == req.series]
            if again is not None or not earlier:
                break
            prev = earlier[-1]  # still no room: join the label before it too
            prev[0], prev[6] = [*prev[0], *mate[0]], [*prev[6], *mate[6]]
            placed.remove(mate)
            mate = prev
        if again is None:
            anchor, c = mate[1], requests[mate[5]].candidates[0]
            again = (c, label_box(anchor, size(text), c))
        mate[1], mate[2], mate[3] = anchor, again[0], again[1]
    for texts, anchor, candidate, _box, _series, index, _anchors in placed:
        result[index] = (merged_text(texts), anchor, candidate)
    return result


__all__ = ["LabelRequest", "PanelText", "label_box", "merged_text", "overlaps", "panel_rects", "place_labels"]

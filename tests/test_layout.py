"""The explorer's figure fits in every state: a sweep of states on Agg at the explorer's size
(and in talk style) checks the rendered boxes of every text: inside the figure, clear of the
other panels, point labels inside their axes and never on top of each other; legends list
only what is drawn; limits follow the state both ways."""

from __future__ import annotations

import dataclasses
import itertools
import random

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from roofline_lab.bench import _options
from roofline_lab.figure import ExplorerFigure
from roofline_lab.hardware import gpu_names
from roofline_lab.models import model_names
from roofline_lab.widgets import RooflineExplorer

GAP = 0.5  # pixels two boxes may share (antialiased edges)


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 - GAP and b.x0 < a.x1 - GAP and a.y0 < b.y1 - GAP and b.y0 < a.y1 - GAP


def _inside(a, b) -> bool:
    return a.x0 >= b.x0 - GAP and a.y0 >= b.y0 - GAP and a.x1 <= b.x1 + GAP and a.y1 <= b.y1 + GAP


def layout_problems(ex: RooflineExplorer) -> list[str]:
    """Every way the rendered figure breaks the layout rules (empty when it fits)."""
    fig, panels = ex.figure, ex._panels
    fig.draw_without_rendering()  # every position a draw computes, without rasterising a pixel
    renderer = fig.canvas.get_renderer()
    problems = []
    texts = panels.text_artists()
    moving = [t for t in texts if t.get_animated()]
    for t in texts:
        box = t.get_window_extent(renderer)
        if not _inside(box, fig.bbox):
            problems.append(f"{t.get_text()!r} leaves the figure: {box.extents.round(1)} vs {fig.bbox.extents}")
    zones = []
    for ax in panels.axes:  # each panel's texts, grown into one box, must not meet another panel's
        own = [t.get_window_extent(renderer) for t in texts if _owner(t) is ax]
        zones.append((ax, own))
    for (ax1, boxes1), (ax2, boxes2) in itertools.combinations(zones, 2):
        for b1 in boxes1:
            if _overlap(b1, ax2.bbox) or any(_overlap(b1, b2) for b2 in boxes2):
                problems.append(f"a text of {ax1.get_title(loc='left')!r} runs into {ax2.get_title(loc='left')!r}: "
                                f"{b1.extents.round(1)}")
    for ax in panels.axes:
        labels = [t for t in moving if t.axes is ax]
        for t in labels:
            if not _inside(t.get_window_extent(renderer), ax.bbox):
                problems.append(f"label {t.get_text()!r} leaves its axes")
        for a, b in itertools.combinations(labels, 2):
            if _overlap(a.get_window_extent(renderer), b.get_window_extent(renderer)):
                problems.append(f"labels {a.get_text()!r} and {b.get_text()!r} overlap")
        for marker in [panels.current] if ax is panels.ax_roof else []:  # the current-point star stays clear
            star = marker.get_window_extent(renderer)
            for t in labels:
                if _overlap(t.get_window_extent(renderer), star):
                    problems.append(f"label {t.get_text()!r} covers the current-point star")
        if ax is panels.ax_roof:  # no label sits on a seed point (its own sits beside it)
            centres = np.concatenate([ax.transData.transform(np.asarray(series["points"].get_xydata(), dtype=float))
                                      for series in (panels.decode, panels.prefill)])
            for t in labels:
                b = t.get_window_extent(renderer)
                for x, y in centres:
                    if b.x0 < x < b.x1 and b.y0 < y < b.y1:
                        problems.append(f"label {t.get_text()!r} covers a seed point")
        for key in ("tps", "lat"):  # the memory wall's upright label stays clear of the curves
            sweep = panels.sweeps[key]
            if sweep["wall_text"].axes is ax and sweep["wall_text"].get_visible():
                box = sweep["wall_text"].get_window_extent(renderer)
                for name in ("curve", "ideal", "comm"):
                    line = sweep.get(name)
                    if line is None or not line.get_visible():
                        continue
                    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
                    fine_x = np.geomspace(x[0], x[-1], 2000)  # log-log: straight between points in log space
                    fine_y = np.exp(np.interp(np.log(fine_x), np.log(x), np.log(np.where(y > 0, y, np.nan))))
                    px = ax.transData.transform(np.column_stack([fine_x, fine_y]))
                    hits = (px[:, 0] > box.x0) & (px[:, 0] < box.x1) & (px[:, 1] > box.y0) & (px[:, 1] < box.y1)
                    if hits.any():
                        problems.append(f"the {name} line crosses {sweep['wall_text'].get_text()!r}")
        for legend in panels.legends(ax):  # drawn over the moving labels, so one under it is hidden
            box = legend.get_window_extent(renderer)
            for t in labels:
                if _overlap(t.get_window_extent(renderer), box):
                    problems.append(f"label {t.get_text()!r} lies under the legend of {ax.get_title(loc='left')!r}")
            for text in legend.get_texts():
                if text.get_text() == "memory wall" and not panels.sweeps["tps"]["wall"].get_visible():
                    problems.append("legend lists a memory wall that is not drawn")
                if text.get_text() == "communication" and not panels.sweeps["lat"]["comm"].get_visible():
                    problems.append("legend lists a communication line that is not drawn")
    return problems


def _owner(t):
    """The axes a text belongs to (tick labels, titles, legends and labels alike)."""
    return t.axes


STATES = [
    dict(),
    dict(batch=64), dict(batch=4096), dict(kv=True, context_len=2**20, batch=512),
    dict(kv=True, context_len=4096, batch=64, model="70b-lab", weight_dtype="int8"),
    dict(phase="prefill", kv=True, prompt_len=2**17, batch=4096),
    dict(phase="prefill", prompt_len=16, batch=1, weight_dtype="int4"),
    dict(kv=True, context_len=131072, batch=1, gpu="tpu-v5e", model="llama-3-70b"),
    dict(bandwidth_fraction=0.05, weight_dtype="fp32", compute_dtype="fp32"),
    # seen in screenshots: KV traffic bunches b=8/64/156/512 around the star; b=64 under the star
    dict(kv=True, context_len=65536, batch=512),
    dict(kv=True, context_len=8192, batch=64, model="llama-3-70b", gpu="h100-sxm"),
    dict(kv=True, context_len=8192, batch=64, model="llama-3-70b", gpu="h100-sxm", tp=8),  # b=512 sat on a point
    dict(kv=True, context_len=65536, batch=4096),  # the ideal line ran through "max batch 8"
]


@pytest.fixture(scope="module")
def ex():
    explorer = RooflineExplorer()
    yield explorer
    explorer.close()
    plt.close("all")


@pytest.mark.parametrize("talk", [False, True])
def test_every_text_fits_over_a_grid_of_states(ex, talk):
    ex.talk = talk
    found = {}
    grid = [*STATES, *({"gpu": g, "kv": True, "context_len": 32768, "batch": 156} for g in gpu_names()),
            *({"model": m, "kv": True, "context_len": 8192, "batch": 64, "phase": p} for m in model_names()
              for p in ("decode", "prefill"))]
    for state in grid:
        ex.set(**{**dict(batch=1, gpu="a100-lab", model="8b-lab", weight_dtype="fp16", compute_dtype="fp16",
                         context_len=0, kv=False, bandwidth_fraction=1.0, phase="decode", prompt_len=2048,
                         tp=1), **state})
        problems = layout_problems(ex)
        if problems:
            found[str(state)] = problems
    ex.talk = False
    assert not found, found


def _with_comm(view, comm):
    """`view` with communication ms per step: dataclasses.replace once ExplorerView has the
    field (tensor parallel), else a subclass that adds it."""
    if "comm_ms" in {f.name for f in dataclasses.fields(view)}:
        return dataclasses.replace(view, comm_ms=comm)

    @dataclasses.dataclass(frozen=True)
    class WithComm(type(view)):
        comm_ms: np.ndarray | None = None

    return WithComm(**{f.name: getattr(view, f.name) for f in dataclasses.fields(view)}, comm_ms=comm)


def test_communication_line_and_its_legend_entry_appear_only_when_there_is_communication():
    view = RooflineExplorer(kv=True, context_len=4096, batch=64).view
    n = len(view.batches)
    fig = plt.figure(dpi=90)
    panels = ExplorerFigure(fig)
    try:
        for comm in (np.zeros(n), np.linspace(0.05, 3.0, n), np.zeros(n)):
            drawn = bool(comm.max() > 0)
            panels.update(_with_comm(view, comm))
            fig.canvas.draw()
            line = panels.sweeps["lat"]["comm"]
            entries = [t.get_text() for lg in panels.legends(panels.ax_lat) for t in lg.get_texts()]
            assert ("communication" in entries) == drawn, (comm.max(), entries)
            assert line.get_visible() == drawn
            if drawn:
                np.testing.assert_allclose(line.get_ydata(), comm)
                assert line.get_linestyle() == "--"
                assert panels.ax_lat.get_ylim()[0] <= comm.min()
    finally:
        plt.close(fig)


def test_blitted_frames_equal_a_full_draw_with_stamped_texts_and_cached_panels():
    """The Blitter's shortcuts (cached panels, stamped titles, axis labels and legends) leave
    the same pixels a full draw makes, over random changes that redraw panels."""
    ex = RooflineExplorer(kv=True, context_len=4096)
    rng = random.Random(1)
    try:
        for k in range(28):
            control = ex.controls[rng.choice(("batch", "weight_dtype", "gpu", "model", "context_len"))]
            control.value = rng.choice([v for v in _options(control) if v != control.value])
            if k % 4 == 3:
                blitted = np.asarray(ex.figure.canvas.buffer_rgba()).copy()
                ex._render(full=True)
                np.testing.assert_array_equal(blitted, np.asarray(ex.figure.canvas.buffer_rgba()), err_msg=str(k))
        assert ex._blitter.panel_draws > 0 and ex._blitter._stamps  # the shortcuts were taken
    finally:
        ex.close()


def test_tinted_fills_equal_the_rectangles_agg_draws():
    """The Blitter copies the roofline's regions and the memory wall's from a tinted panel
    picture: the pixels equal those of drawing the translucent rectangles, over random states
    (the fills move with the ridge, the wall and the limits)."""
    from roofline_lab import blitter

    ex = RooflineExplorer(kv=True, context_len=4096)
    rng = random.Random(7)
    pastes = 0
    try:
        assert set(ex._blitter._fills.values()) == {0, 1, 2}  # all four fills are tinted
        for k in range(12):
            control = ex.controls[rng.choice(("weight_dtype", "gpu", "model", "context_len"))]
            control.value = rng.choice([v for v in _options(control) if v != control.value])
            tinted = np.asarray(ex.figure.canvas.buffer_rgba()).copy()
            pastes += len(ex._blitter._tints)
            blitter.TINTS = False
            try:
                ex._render(full=True)
            finally:
                blitter.TINTS = True
            np.testing.assert_array_equal(tinted, np.asarray(ex.figure.canvas.buffer_rgba()), err_msg=str(k))
            ex._render(full=True)
        assert pastes > 0
    finally:
        ex.close()


@pytest.mark.parametrize("state", [dict(kv=True, context_len=4096, batch=512), dict(batch=64),
                                   dict(phase="prefill", prompt_len=16, weight_dtype="int4"),
                                   dict(model="llama-3-70b", gpu="h100-sxm", tp=8, kv=True, context_len=8192)])
def test_legends_stay_on_top_of_the_moving_curves_and_fills(state):
    """A legend is drawn over the data, as matplotlib draws it (zorder 5): no moving curve, point
    or translucent region shows inside its frame. Seen in JupyterLab: panel (b)'s dotted ideal
    line and the memory wall ran through its legend, and the roofline's regions tinted (a)'s."""
    ex = RooflineExplorer(**state)
    try:
        ex.set(batch=ex.state["batch"])  # one blitted update after the first full draw
        live = np.asarray(ex.figure.canvas.buffer_rgba()).copy()
        renderer = ex.figure.canvas.get_renderer()
        boxes = []
        for ax in ex._panels.axes:
            for legend in ex._panels.legends(ax):
                x0, y0, x1, y1 = legend.get_window_extent(renderer).extents
                inset = 1  # inside the antialiased outer edge of the frame line
                boxes.append((ax.get_title(loc="left"), round(ex.figure.bbox.height - y1) + inset,
                              round(ex.figure.bbox.height - y0) - inset, round(x0) + inset, round(x1) - inset))
        assert len(boxes) >= 2
        ex._blitter.disconnect()
        ex.figure.canvas.draw()  # the static picture alone: moving artists are animated, so not drawn
        static = np.asarray(ex.figure.canvas.buffer_rgba())
        for title, r0, r1, c0, c1 in boxes:
            differ = (live[r0:r1, c0:c1] != static[r0:r1, c0:c1]).any(axis=2)
            assert not differ.any(), f"{title}: {differ.sum()} pixels of moving artists inside its legend"
    finally:
        ex.close()


def test_labels_keep_off_the_legends_after_talk_style_on_and_off(ex):
    """Talk style grows and moves the legends; back in normal style the labels must keep off
    where the legends are now (stale boxes once put (a)'s 'decode b=512 (does not fit)' under its legend)."""
    ex.set(batch=64, kv=False, context_len=0)
    ex.talk = True
    try:
        ex.set(kv=True, context_len=4096, batch=512)
        assert layout_problems(ex) == []
    finally:
        ex.talk = False
    ex.set(batch=256)
    ex.set(batch=512)
    assert layout_problems(ex) == []


def test_a_label_with_no_clear_spot_keeps_off_the_never_boxes_even_when_it_covers_more_elsewhere():
    from roofline_lab.layout import LabelRequest, label_box, place_labels

    above, below = (0.0, 10.0, "center", "bottom"), (0.0, -10.0, "center", "top")
    size = lambda text: (20.0, 8.0)  # noqa: E731
    request = LabelRequest("b=1", (100.0, 100.0), "decode", [below, above])
    obstacle = label_box(request.anchor, size("b=1"), above)  # covers the whole spot above
    legend = (108.0, 88.0, 112.0, 92.0)  # a corner of the spot below
    (got,) = place_labels([request], size, (0.0, 0.0, 200.0, 200.0), [obstacle])
    assert got is not None and got[2] == below  # nothing to avoid but the obstacle
    (got,) = place_labels([request], size, (0.0, 0.0, 200.0, 200.0), [obstacle], never=[legend])
    assert got is not None and got[2] == above  # more covered, but not hidden under the legend

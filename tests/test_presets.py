"""Lecturer mode without a browser: the fifteen presets, eight core and seven for serving (every
control, one redraw, lessons true per the library), the talk style (same figure, same artists,
larger), and save() to SVG/PNG (parsed, readout and legend inside). The browser half is
tests/test_browser_lecture.py."""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from roofline_lab import slides
from roofline_lab.explorer import BATCH_OPTIONS
from roofline_lab.hardware import get_gpu
from roofline_lab.models import get_model
from roofline_lab.panels import SIZE_INCHES
from roofline_lab.presets import PRESETS, capstone_presets, frontier_presets, get_preset, preset_names
from roofline_lab.serving import VARIANTS, best_decode_batch, decode_frontier, get_problem, reference_plan
from roofline_lab.step_model import (
    critical_batch,
    decode_step,
    long_context_wall,
    max_batch,
)
from roofline_lab.units import readout_number
from roofline_lab.widgets import (
    CONTROL_NAMES,
    ExplorerState,
    RooflineExplorer,
    explorer_view,
    lecture_app,
    preset_buttons,
)

ISSUE_PRESETS = (
    "single-stream decode on the A100", "prefill 2048", "the critical batch", "batch 64 free lunch", "H100",
    "INT4 weights", "the long-context wall", "70B on one GPU",
)
#: A state far from every preset: each control differs from what the presets set.
SCRAMBLED = dict(gpu="h200", model="llama-3-8b", batch=512, weight_dtype="fp8", compute_dtype="fp8", context_len=65536,
                 kv=True, bandwidth_fraction=0.5, phase="prefill", prompt_len=128)


@pytest.fixture
def explorer() -> Iterator[RooflineExplorer]:
    ex = RooflineExplorer()
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def shared() -> Iterator[RooflineExplorer]:
    """One explorer for the preset tests: every preset sets every control, so order does not matter."""
    ex = RooflineExplorer()
    yield ex
    ex.close()


def _view(name: str):
    return explorer_view(ExplorerState(**get_preset(name).settings))


# --------------------------------------------------------------------------- the table


SERVING_PRESETS = tuple(p.name for p in (*frontier_presets(), *capstone_presets()))


def test_the_eight_presets_of_the_issue_exist_in_teaching_order() -> None:
    assert preset_names() == ISSUE_PRESETS + SERVING_PRESETS
    assert len(SERVING_PRESETS) == 3 + len(VARIANTS)


@pytest.mark.parametrize("name", ISSUE_PRESETS)
def test_every_preset_sets_every_control_on_a_slider_stop(name: str, shared: RooflineExplorer) -> None:
    preset = get_preset(name)
    assert set(preset.settings) == set(CONTROL_NAMES)
    shared.set(**preset.settings)
    assert shared.state == dict(preset.settings)  # nothing snapped or clamped
    assert "note:" not in shared.readout


@pytest.mark.parametrize("name", ISSUE_PRESETS)
def test_a_preset_applies_with_exactly_one_redraw_and_shows_its_lesson(name: str, shared: RooflineExplorer) -> None:
    shared.set(**SCRAMBLED)
    renders = shared.render_count
    shared.apply_preset(name)
    assert shared.render_count == renders + 1
    preset = get_preset(name)
    assert shared.readout.startswith(f"{preset.name}: {preset.lesson} | ")
    assert shared.state == dict(preset.settings)


def test_a_preset_gives_the_same_state_and_readout_whatever_came_before() -> None:
    forward, backward = RooflineExplorer(), RooflineExplorer(gpu="h200", model="70b-lab", weight_dtype="int4",
                                                              batch=4096, phase="prefill", kv=True)
    try:
        seen = {}
        for name in ISSUE_PRESETS:
            seen[name] = (forward.apply_preset(name).state, forward.readout)
        for name in reversed(ISSUE_PRESETS):
            backward.set(**SCRAMBLED)
            assert (backward.apply_preset(name).state, backward.readout) == seen[name]
    finally:
        forward.close()
        backward.close()


def test_each_lesson_is_one_sentence_with_a_number() -> None:
    for preset in PRESETS.values():
        assert preset.lesson.endswith(".") and preset.lesson.count(". ") == 0, preset.lesson
        assert re.search(r"\d", preset.lesson), preset.lesson


def test_unknown_preset_names_raise_with_the_allowed_names(explorer: RooflineExplorer) -> None:
    renders, state = explorer.render_count, explorer.state
    with pytest.raises(ValueError, match=r"unknown preset 'free lunch' \(did you mean 'batch 64 free lunch'\?\)"):
        explorer.apply_preset("free lunch")
    with pytest.raises(ValueError, match="70B on one GPU"):
        get_preset("80B on one GPU please")
    with pytest.raises(TypeError, match="preset must be a name"):
        get_preset(3)  # type: ignore[arg-type]
    assert (explorer.render_count, explorer.state) == (renders, state)
    assert get_preset("  the CRITICAL batch ").name == "the critical batch"


# --------------------------------------------------------------------------- the lessons are true


def _single_stream(readout: str) -> None:
    s = get_preset("single-stream decode on the A100").settings
    d = decode_step(s["model"], s["gpu"], 1)
    assert not d.compute_bound and d.tokens_per_s == pytest.approx(125) and d.flops_utilization < 0.01
    assert "memory-bound" in readout and "125 tok/s" in readout and "0.64 % of peak" in readout


def _prefill(readout: str) -> None:
    s = get_preset("prefill 2048").settings
    p = decode_step(s["model"], s["gpu"], s["prompt_len"])  # the seed's weights-only prefill
    assert p.intensity == pytest.approx(2048) and p.compute_bound and p.intensity / p.ridge > 13
    assert "intensity 2,048 FLOP/B >= ridge 156 -> compute-bound" in readout and "TTFT 105 ms" in readout


def _critical(readout: str) -> None:
    s = get_preset("the critical batch").settings
    assert s["batch"] == round(critical_batch(s["model"], s["gpu"])) == 156
    assert decode_step(s["model"], s["gpu"], 156).compute_bound
    assert not decode_step(s["model"], s["gpu"], 155).compute_bound
    assert "batch 156" in readout and "-> compute-bound" in readout


def _free_lunch(readout: str) -> None:
    s = get_preset("batch 64 free lunch").settings
    one, many = decode_step(s["model"], s["gpu"], 1), decode_step(s["model"], s["gpu"], 64)
    assert many.time_s == pytest.approx(one.time_s) and many.tokens_per_s == pytest.approx(8000)
    assert "8,000 tok/s" in readout and "64x the throughput" in readout


def _h100(readout: str) -> None:
    s = get_preset("H100").settings
    h = decode_step(s["model"], s["gpu"], 1)
    assert h.ridge == pytest.approx(295, abs=0.5) and h.tokens_per_s == pytest.approx(209.4, abs=0.1)
    assert h.ridge > decode_step(s["model"], "a100-lab", 1).ridge
    assert "ridge 295" in readout and "209 tok/s" in readout and "(A100: 156)" in readout


def _int4(readout: str) -> None:
    s = get_preset("INT4 weights").settings
    assert (s["weight_dtype"], s["compute_dtype"]) == ("int4", "fp16")
    q = decode_step(s["model"], s["gpu"], 1, weight_dtype="int4", compute_dtype="fp16")
    assert q.tokens_per_s == pytest.approx(4 * decode_step(s["model"], s["gpu"], 1).tokens_per_s) == 500
    assert "500 tok/s" in readout and "int4 weights, fp16 math" in readout


def _long_context(readout: str) -> None:
    s = get_preset("the long-context wall").settings
    m = get_model(s["model"])
    wall = long_context_wall(m.n_params, 2, s["batch"], m.kv_bytes_per_token("fp16"))
    assert int(wall) == 1907 and s["kv"] and s["batch"] == 64
    past = decode_step(m, s["gpu"], 64, s["context_len"])
    before = decode_step(m, s["gpu"], 64, s["context_len"] // 2)
    assert before.kv_bytes < m.weight_bytes("fp16") < past.kv_bytes  # the preset sits just past the wall
    assert "1,907 tokens" in readout and "3,858 tok/s" in readout and "context 2K (KV on)" in readout


def _seventy_b(readout: str) -> None:
    s = get_preset("70B on one GPU").settings
    m, g = get_model(s["model"]), get_gpu(s["gpu"])
    assert m.weight_bytes("fp16") > g.memory_bytes >= m.weight_bytes(s["weight_dtype"])
    fits = max_batch(m, g, s["context_len"], weight_dtype=s["weight_dtype"])
    # 80 GiB of HBM less 70 GB of int8 weights hold 11 caches of 4K tokens; the slider's stop below is 8
    assert fits == 11 and s["batch"] == 8 == max(b for b in BATCH_OPTIONS if b <= fits)
    assert fits < critical_batch(m, g, weight_dtype="int8", compute_dtype="fp16")
    assert _view("70B on one GPU").wall_batch == 11  # panels (b) and (c) draw the wall at 11
    assert _view("70B on one GPU").fits  # and what it sets fits
    assert "only 11 sequences (batch 8, the largest slider stop that fits, is shown)" in readout
    assert "critical batch of 78" in readout and "does not fit" not in readout.lower()


LESSON_CHECKS: dict[str, Callable[[str], None]] = {
    "single-stream decode on the A100": _single_stream,
    "prefill 2048": _prefill,
    "the critical batch": _critical,
    "batch 64 free lunch": _free_lunch,
    "H100": _h100,
    "INT4 weights": _int4,
    "the long-context wall": _long_context,
    "70B on one GPU": _seventy_b,
}


def test_every_preset_has_a_lesson_check() -> None:
    assert tuple(LESSON_CHECKS) + SERVING_PRESETS == preset_names()


# --------------------------------------------------------------------------- serving presets


@pytest.mark.parametrize("target_s", [0.020, 0.050])
def test_frontier_preset_lesson_numbers_are_the_views(target_s: float, shared: RooflineExplorer) -> None:
    name = f"best batch under {target_s * 1e3:.0f} ms"
    preset, view = get_preset(name), _view(name)
    op = best_decode_batch("llama-3-8b", "h100-sxm", 4096, target_s)
    assert preset.settings["batch"] == op.batch == view.batch and preset.settings["tp"] == view.tp == 1 and view.fits
    assert view.batch_step_ms == pytest.approx(1e3 * op.step_time_s)  # the explorer and serving agree
    assert f"is {op.batch} (limited by {op.limited_by})" in preset.lesson
    assert f"steps take {readout_number(view.batch_step_ms)} ms" in preset.lesson
    assert f"{readout_number(view.batch_tokens_per_s)} tok/s" in preset.lesson
    shared.apply_preset(name)
    assert shared.state == dict(preset.settings) and shared.controls["batch"].value == op.batch
    assert "note:" not in shared.readout


def test_memory_wall_preset_is_the_frontier_end(shared: RooflineExplorer) -> None:
    preset, view = get_preset("the memory wall"), _view("the memory wall")
    wall = decode_frontier("llama-3-8b", "h100-sxm", 4096).memory_wall_batch
    assert preset.lesson.startswith(f"Batch {wall} is all that fits")
    assert view.batch == view.wall_batch == wall and view.fits
    tokens, step = readout_number(view.batch_tokens_per_s), readout_number(view.batch_step_ms)
    assert f"{tokens} tok/s at {step} ms" in preset.lesson
    shared.apply_preset("the memory wall")
    assert shared.state["batch"] == wall
    shared.set(batch=100)  # typed in code, a batch still snaps to the slider's own stops
    assert shared.state["batch"] == 96 and "shown as 96" in shared.readout
    assert [v for _, v in shared.controls["batch"].options] == list(BATCH_OPTIONS)


@pytest.mark.parametrize("problem", list(VARIANTS))
def test_capstone_preset_shows_the_reference_plan(problem: str, shared: RooflineExplorer) -> None:
    r = reference_plan(get_problem(problem))
    name = f"capstone answer: {problem}"
    shared.apply_preset(name)
    state, view = shared._state, _view(name)
    assert state.tp == r.plan.tp == view.tp and state.gpu == get_gpu(r.plan.gpu).key
    assert shared.controls["tp"].value == r.plan.tp and shared.controls["batch"].value == state.batch
    wall = explorer_view(ExplorerState(**{**get_preset(name).settings, "batch": 1})).wall_batch
    # the plan's batch, unless the explorer's fp16 KV cache cannot hold it (the fp8-KV variant)
    assert state.batch == (r.plan.batch if wall is None or wall >= r.plan.batch else wall)
    assert (state.batch == r.plan.batch) == (get_problem(problem).kv_dtype == "fp16")
    assert view.fits and (view.batch_comm_ms > 0) == (r.plan.tp > 1)
    lesson = get_preset(name).lesson
    assert f"TP{r.plan.tp} replicas at batch {r.plan.batch}" in lesson
    step, comm = readout_number(view.batch_step_ms), readout_number(view.batch_comm_ms)
    assert f"steps in {step} ms (all-reduce {comm} ms)" in lesson
    assert f"{readout_number(view.batch_tokens_per_s)} tok/s" in lesson
    assert f"(TP{r.plan.tp})" in shared.readout and " per GPU)" in shared.readout


@pytest.mark.parametrize("name", ISSUE_PRESETS)
def test_the_lesson_is_true_per_the_library_and_matches_the_readout(name: str, shared: RooflineExplorer) -> None:
    shared.apply_preset(name)
    LESSON_CHECKS[name](shared.readout)


# --------------------------------------------------------------------------- talk style


def _artists(fig) -> list:
    return fig.findobj(include_self=False)


def test_talk_style_enlarges_the_same_artists_in_one_redraw_without_a_new_figure(explorer: RooflineExplorer) -> None:
    explorer.apply_preset("batch 64 free lunch")
    fig, figures = explorer.figure, plt.get_fignums()
    roof = explorer._panels.roof["slope"]
    title, xlabel = explorer._panels.ax_roof.title, explorer._panels.ax_roof.xaxis.label
    ridge_label = explorer._panels.roof["ridge_label"]
    before = dict(ids=[id(a) for a in _artists(fig)], title=title.get_fontsize(), xlabel=xlabel.get_fontsize(),
                  line=roof.get_linewidth(), marker=explorer._panels.current.get_markersize(),
                  ridge=ridge_label.get_markersize(),
                  tick=explorer._panels.ax_tps.yaxis.get_major_ticks()[0].label1.get_fontsize())
    renders = explorer.render_count
    explorer.talk = True
    assert explorer.talk and explorer.render_count == renders + 1
    assert explorer.figure is fig and plt.get_fignums() == figures
    assert [id(a) for a in _artists(fig)][: len(before["ids"])] == before["ids"]
    assert title.get_fontsize() == pytest.approx(before["title"] * slides.TALK_FONT_SCALE)
    assert xlabel.get_fontsize() == pytest.approx(before["xlabel"] * slides.TALK_FONT_SCALE)
    assert roof.get_linewidth() == pytest.approx(before["line"] * slides.TALK_LINE_SCALE)
    assert explorer._panels.current.get_markersize() > before["marker"]
    assert ridge_label.get_markersize() > before["ridge"] * 1.3  # a text drawn as a marker grows with the fonts
    tick = explorer._panels.ax_tps.yaxis.get_major_ticks()[0].label1.get_fontsize()
    assert tick == pytest.approx(before["tick"] * slides.TALK_TICK_SCALE)
    # the style survives a preset (labels re-laid out at the talk size) and turns off exactly
    explorer.apply_preset("H100")
    assert ridge_label.get_text().startswith("ridge 295") and ridge_label._fontsize > 9
    explorer.apply_preset("batch 64 free lunch")
    explorer.talk = False
    assert not explorer.talk
    assert tuple(fig.get_size_inches()) == pytest.approx(SIZE_INCHES)  # back to the notebook size
    assert (title.get_fontsize(), xlabel.get_fontsize(), roof.get_linewidth()) == \
        (before["title"], before["xlabel"], before["line"])
    assert ridge_label.get_markersize() == pytest.approx(before["ridge"])


def test_talk_style_redraws_the_picture_with_thicker_lines(explorer: RooflineExplorer) -> None:
    explorer.apply_preset("batch 64 free lunch")
    normal = np.asarray(explorer.figure.canvas.buffer_rgba()).copy()
    explorer.talk = True
    talk = np.asarray(explorer.figure.canvas.buffer_rgba()).copy()
    assert talk.shape[1] >= 1500 > normal.shape[1]  # talk style fills a 1600-px page's width
    dark = (talk[..., :3].max(axis=-1) < 60).sum(), (normal[..., :3].max(axis=-1) < 60).sum()
    print(f"near-black pixels: talk {dark[0]}, normal {dark[1]}")
    assert dark[0] > 1.3 * dark[1]


def test_talk_style_refuses_bad_input(explorer: RooflineExplorer) -> None:
    with pytest.raises(TypeError, match="on must be True or False"):
        explorer.talk = "yes"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        slides.set_talk_style("figure", True)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- save


def _svg_comments(svg: str) -> str:
    """The text strings matplotlib leaves as comments in an SVG, whitespace collapsed."""
    return " ".join(html.unescape(" ".join(re.findall(r"<!--(.*?)-->", svg, re.S))).split())


def test_save_svg_holds_the_legend_readout_and_moving_artists(explorer: RooflineExplorer, tmp_path: Path) -> None:
    explorer.apply_preset("batch 64 free lunch")
    out = explorer.save(tmp_path / "roofline.svg")
    assert out == tmp_path / "roofline.svg"
    svg = out.read_text()
    root = ET.fromstring(svg)  # parses
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    comments = _svg_comments(svg)
    assert " ".join(explorer.readout.split()) in comments  # the caption, wrapped over lines
    for legend in ("roofline", "decode, batch b", "prefill, prompt L", "current", "tokens/s"):
        assert legend in comments
    assert "memory wall" not in comments  # KV off: no wall drawn, so none in the legend
    # the blitted (animated) artists are drawn into the file: the batch marks' stars are there
    assert explorer._panels.sweeps["tps"]["marker_text"].get_text() == "8,000 tok/s"
    assert svg.count('id="m') >= 1 and len(root.findall(".//{http://www.w3.org/2000/svg}use")) > 50
    description = root.find(".//{http://purl.org/dc/elements/1.1/}description")
    assert description is not None and description.text == explorer.readout


def test_save_png_is_valid_with_the_readout_and_leaves_the_live_picture(explorer: RooflineExplorer,
                                                                        tmp_path: Path) -> None:
    explorer.apply_preset("70B on one GPU")
    texts_before = list(explorer.figure.texts)
    live = np.asarray(explorer.figure.canvas.buffer_rgba()).copy()
    out = explorer.save(str(tmp_path / "roofline.PNG"))
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        assert image.text["Description"] == explorer.readout
        w, h = image.size
    fig_w, fig_h = explorer.figure.get_size_inches()
    print(f"PNG {w}x{h} px at {slides.PNG_DPI} dpi")
    assert w >= 0.9 * fig_w * slides.PNG_DPI
    assert h / w > fig_h / fig_w  # taller than the figure: the readout is printed under it
    assert explorer.figure.texts == texts_before  # the caption was taken out again
    np.testing.assert_array_equal(np.asarray(explorer.figure.canvas.buffer_rgba()), live)


def test_save_in_talk_style_writes_larger_type(explorer: RooflineExplorer, tmp_path: Path) -> None:
    explorer.apply_preset("H100")
    normal = explorer.save(tmp_path / "normal.svg").read_text()
    explorer.talk = True
    talk = explorer.save(tmp_path / "talk.svg").read_text()

    def title_scale(svg: str) -> float:  # glyphs are paths; their scale() follows the font size
        return max(float(x) for x in re.findall(r"scale\(([\d.]+)", svg))

    assert title_scale(talk) > 1.3 * title_scale(normal)


def test_save_refuses_other_formats_and_missing_folders(explorer: RooflineExplorer, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"can only save \.svg, \.png files, got '.*roofline\.jpg'"):
        explorer.save(tmp_path / "roofline.jpg")
    with pytest.raises(ValueError, match="does not exist"):
        explorer.save(tmp_path / "nowhere" / "roofline.svg")
    with pytest.raises(TypeError, match=r"path must be a str or pathlib\.Path"):
        explorer.save(42)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the lecturer page's widgets


def test_preset_buttons_apply_their_preset_and_the_toggle_switches_talk_style(explorer: RooflineExplorer) -> None:
    app = lecture_app(explorer, talk=True)
    assert explorer.talk and "roofline-talk" in explorer.widget()._dom_classes
    row = app.children[1]
    buttons = {b.description: b for b in row.children if hasattr(b, "on_click") and b.description != "talk style"}
    assert tuple(buttons) == ISSUE_PRESETS + SERVING_PRESETS
    renders = explorer.render_count
    buttons["INT4 weights"].click()
    assert explorer.render_count == renders + 1
    assert explorer.readout.startswith("INT4 weights: ")
    assert explorer._html.value.count("INT4 weights: ") == 1  # the page's readout shows the lesson
    (toggle,) = [c for c in row.children if c.description == "talk style"]
    assert toggle.value is True
    toggle.value = False
    assert not explorer.talk and "roofline-talk" not in explorer.widget()._dom_classes
    assert preset_buttons(explorer).children[-1].value is False


def test_lecture_app_refuses_something_that_is_not_an_explorer() -> None:
    with pytest.raises(TypeError, match="explorer must be a RooflineExplorer or None"):
        lecture_app("explorer")  # type: ignore[arg-type]


def test_the_lecture_notebook_runs_and_shows_the_app() -> None:
    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).resolve().parents[1] / "app" / "lecture.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")  # stored clean
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    (code,) = [cell for cell in nb.cells if cell.cell_type == "code"]
    kinds = {key for output in code.outputs for key in output.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in kinds, code.outputs
    assert not [o for o in code.outputs if o.output_type == "error"]


def test_save_leaves_the_moving_artists_animated_for_blitting(explorer: RooflineExplorer, tmp_path: Path) -> None:
    animated = [a for a in _artists(explorer.figure) if a.get_animated()]
    assert len(animated) > 10
    explorer.save(tmp_path / "x.svg")
    assert [a for a in _artists(explorer.figure) if a.get_animated()] == animated

"""RooflineExplorer: the seed's numbers in the readout, one figure moved in place, one redraw per
set(), and 500 random control changes that raise nothing and leak nothing."""

from __future__ import annotations

import gc
import random
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from roofline_lab import get_gpu
from roofline_lab.widgets import (
    BATCH_OPTIONS,
    CONTEXT_OPTIONS,
    CONTROL_NAMES,
    RooflineExplorer,
)


@pytest.fixture
def ex():
    plt.close("all")
    explorer = RooflineExplorer()
    yield explorer
    explorer.close()
    plt.close("all")


def _options(control):
    return [o[1] if isinstance(o, tuple) else o for o in control.options]


def test_readout_for_batch_64_on_the_lab_a100_8b_fp16_is_memory_bound_8000_tok_s_41_percent(ex):
    ex.set(batch=64, gpu="a100-lab", model="8b-lab", weight_dtype="fp16", compute_dtype="fp16")
    text = ex.readout
    assert text.startswith("decode, batch 64, fp16, 8B (lab rounding) on A100 (lab rounding): ")
    assert "intensity 64 FLOP/B < ridge 156 -> memory-bound" in text
    assert "8,000 tok/s" in text
    assert "41 % of peak compute" in text
    assert "step 8.0 ms" in text


def test_readout_for_batch_1_is_the_seed_speed_limit_of_125_tok_s(ex):
    ex.set(batch=1)
    assert "125 tok/s" in ex.readout
    assert "0.64 % of peak compute" in ex.readout


def test_prefill_of_a_2048_token_prompt_is_compute_bound(ex):
    ex.set(phase="prefill", batch=1, prompt_len=2048)
    assert "intensity 2,048 FLOP/B >= ridge 156 -> compute-bound" in ex.readout
    assert "TTFT" in ex.readout


def test_switching_8b_to_70b_keeps_the_decode_point_x_and_changes_tokens_per_s(ex):
    ex.set(batch=64)
    x_8b, tps_8b = ex._panels.current.get_xdata()[0], ex._panels.sweeps["tps"]["marker"].get_ydata()[0]
    ex.set(model="70b-lab")
    x_70b, tps_70b = ex._panels.current.get_xdata()[0], ex._panels.sweeps["tps"]["marker"].get_ydata()[0]
    assert x_8b == x_70b == 64
    assert tps_70b == pytest.approx(tps_8b * 8 / 70)
    assert "exceed the 80 GB" in ex.readout


def test_set_of_many_controls_redraws_exactly_once(ex, monkeypatch):
    canvas = ex.figure.canvas
    calls = []
    for name in ("draw", "blit"):
        original = getattr(canvas, name)
        monkeypatch.setattr(canvas, name, lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k)))
    before = ex.render_count
    ex.set(batch=512, gpu="h100-sxm", model="llama-3-70b", weight_dtype="int4", context_len=8192, kv=True,
           bandwidth_fraction=0.7)
    assert ex.render_count - before == 1
    assert len(calls) == 1  # one canvas.draw() or one blit, never one per control
    assert ex.state["gpu"] == "h100-sxm" and ex.state["batch"] == 512


def test_a_batch_change_blits_without_redrawing_the_whole_figure(ex):
    ex.set(batch=8)
    full = ex.full_draw_count
    for b in (1, 8, 64, 156, 8, 1):
        ex.controls["batch"].value = b
    assert ex.full_draw_count == full


def test_the_figure_is_built_once_and_only_moved(ex):
    figure, canvas = ex.figure, ex.figure.canvas
    artists = [id(a) for layer in ex._panels.layers.values() for a in layer]
    axes = [id(a) for a in figure.axes]
    fignums = plt.get_fignums()
    for name, value in [("gpu", "h100-sxm"), ("batch", 512), ("model", "llama-3-70b"), ("phase", "prefill"),
                        ("weight_dtype", "int4"), ("kv", True), ("context_len", 65536), ("phase", "decode")]:
        ex.controls[name].value = value
    assert ex.figure is figure and ex.figure.canvas is canvas
    assert [id(a) for a in figure.axes] == axes
    assert [id(a) for layer in ex._panels.layers.values() for a in layer] == artists
    assert plt.get_fignums() == fignums


def test_batch_slider_reaches_1024_and_stops_exactly_at_the_seed_batches(ex):
    stops = _options(ex.controls["batch"])
    assert stops == list(BATCH_OPTIONS)
    assert max(stops) >= 1024 and min(stops) == 1
    assert {1, 8, 64, 156, 512} <= set(stops)
    assert _options(ex.controls["context_len"])[0] == 0 and _options(ex.controls["context_len"])[-1] == 2**20


def test_controls_cover_every_name_and_dropdowns_come_from_the_catalogs(ex):
    from roofline_lab import DTYPE_BYTES, gpu_names, model_names

    assert set(CONTROL_NAMES) <= set(ex.controls)
    assert _options(ex.controls["gpu"]) == gpu_names()
    assert _options(ex.controls["model"]) == model_names()
    assert _options(ex.controls["weight_dtype"]) == list(DTYPE_BYTES)
    assert set(ex.state) == set(CONTROL_NAMES)


def test_a_gpu_without_the_compute_dtype_falls_back_to_its_default_and_says_so(ex):
    ex.set(gpu="tpu-v5e", compute_dtype="fp16", weight_dtype="fp16", batch=1)
    tpu = get_gpu("tpu-v5e")
    assert tpu.default_dtype == "bf16"
    assert "fp16 weights, bf16 math" in ex.readout
    assert "lists no fp16 peak" in ex.readout
    assert ex._panels.roof["plateau"].get_ydata()[0] == tpu.peak_flops("bf16")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (dict(batch=100_000), "clamped to 4,096"),
        (dict(batch=0), "clamped to 1"),
        (dict(batch=100), "shown as 96"),
        (dict(context_len=10**9), "clamped to 1,048,576"),
        (dict(bandwidth_fraction=0), "clamped to 0.05"),
        (dict(bandwidth_fraction=3), "clamped to 1"),
        (dict(flops_fraction=0), "clamped to 0.05"),
    ],
)
def test_out_of_range_numbers_are_clamped_or_snapped_and_the_readout_says_so(ex, values, message):
    ex.set(**values)
    assert message in ex.readout


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        (dict(gpu="h10"), ValueError, r"unknown GPU 'h10' \(did you mean"),
        (dict(model="llama-9"), ValueError, "unknown model 'llama-9'"),
        (dict(weight_dtype="fp12"), ValueError, "fp12"),
        (dict(batch="many"), TypeError, "batch must be a number"),
        (dict(batch=float("nan")), ValueError, "batch must be finite"),
        (dict(phase="train"), ValueError, "phase must be 'decode' or 'prefill'"),
    ],
)
def test_a_name_or_value_typed_in_code_that_cannot_be_used_raises_with_help(ex, values, error, message):
    state, renders = ex.state, ex.render_count
    with pytest.raises(error, match=message):
        ex.set(**values)
    assert (ex.state, ex.render_count) == (state, renders)  # nothing changed
    with pytest.raises(error, match=message):
        RooflineExplorer(**values)  # the constructor takes the same names and says the same


def test_old_control_names_still_work_with_a_deprecation_warning(ex):
    with pytest.warns(DeprecationWarning) as warned:
        ex.set(dtype="int8", context=4096, kv=True)
    assert sorted(str(w.message) for w in warned) == [
        "explorer control 'context' is now called 'context_len'",
        "explorer control 'dtype' is now called 'weight_dtype'",
    ]
    assert ex.state["weight_dtype"] == "int8" and ex.state["context_len"] == 4096
    with pytest.warns(DeprecationWarning, match="'prompt' is now called 'prompt_len'"):
        old = RooflineExplorer(prompt=128, phase="prefill")
    try:
        assert old.state["prompt_len"] == 128
    finally:
        old.close()


def test_nothing_fits_beside_the_weights_is_said_in_words_not_at_most_0(ex):
    ex.set(model="llama-3-70b", gpu="a100-80gb-sxm", weight_dtype="int8", kv=True, context_len=2**20, batch=1)
    assert "at most 0" not in ex.readout
    assert "cannot hold even one sequence's 1M-token KV cache" in ex.readout and "nothing fits" in ex.readout
    assert not ex.view.fits and "(does not fit)" in ex._panels.current_text.get_text()


def test_the_point_is_public_intensity_and_flops(ex):
    ex.set(batch=64)
    intensity, flops = ex.point
    assert intensity == 64 and flops == pytest.approx(64 * 2e12)  # 64 FLOP/B at 2 TB/s, memory-bound
    assert ex._panels.current.get_xdata()[0] == intensity


def test_an_unknown_control_name_is_a_type_error_naming_the_controls(ex):
    with pytest.raises(TypeError, match=r"unknown control 'batchsize'.*batch"):
        ex.set(batchsize=4)


def test_show_displays_only_the_named_controls():
    plt.close("all")
    focused = RooflineExplorer(show=("batch", "gpu"))
    try:
        box = focused.widget()
        shown = [c for row in box.children[0].children for c in getattr(row, "children", [row])]
        assert set(map(id, shown)) == {id(focused.controls["batch"]), id(focused.controls["gpu"])}
    finally:
        focused.close()
    with pytest.raises(ValueError, match="unknown controls"):
        RooflineExplorer(show=("batch", "speed"))


def test_display_bundle_carries_the_widget_a_png_fallback_and_the_readout(ex):
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    import base64

    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["text/plain"] == ex.readout


def test_memory_wall_is_drawn_where_it_bites(ex):
    ex.set(kv=True, context_len=4096, batch=64)
    wall = ex._panels.sweeps["tps"]["wall"]
    assert wall.get_visible() and wall.get_xdata()[0] == 130  # 80 GiB less 16 GB of weights, 4K-token caches
    ex.set(kv=False)
    assert not wall.get_visible()
    assert "memory wall" not in [t.get_text() for lg in ex._panels.legends(ex._panels.ax_tps) for t in lg.get_texts()]


def test_500_random_control_changes_raise_nothing_keep_one_figure_and_flat_memory(ex):
    rng = random.Random(4)
    extremes = {"batch": [1, 4096, 0, 10**7], "context_len": [0, 2**20, 10**9, -5], "prompt_len": [16, 2**17, 10**8],
                "bandwidth_fraction": [0.05, 1.0, 0.0, 2.0]}
    names = list(CONTROL_NAMES)

    def change() -> None:
        name = rng.choice(names)
        if name in extremes and rng.random() < 0.3:
            ex.set(**{name: rng.choice(extremes[name])})
        else:
            control = ex.controls[name]
            options = _options(control) if hasattr(control, "options") else None
            if options is not None:
                control.value = rng.choice(options)
            elif name == "kv":
                control.value = not control.value
            else:
                control.value = round(rng.uniform(0.05, 1.0), 2)
        assert "tok/s" in ex.readout

    def live() -> tuple[int, int]:
        gc.collect()
        return len(gc.get_objects()), sys.getallocatedblocks()

    # Memory: live Python objects and allocator blocks after a collection (tracemalloc would slow
    # every change several-fold). The label caches are bounded LRUs that fill over the first few
    # hundred changes, so measure the last hundred: a leaked artist per change would add about a
    # thousand objects there; a cache that has stopped growing adds none.
    for _ in range(300):
        change()
    growth = []
    for _ in range(2):
        before = live()
        for _ in range(100):
            change()
        after = live()
        growth.append((after[0] - before[0], after[1] - before[1]))
    assert plt.get_fignums() == [ex.figure.number]
    objects, blocks = growth[-1]
    assert objects < 500 and blocks < 4000, growth
    assert ex.state["batch"] in BATCH_OPTIONS
    assert ex.state["context_len"] in CONTEXT_OPTIONS


def test_the_explorer_draws_with_the_reference_physics_in_starter_mode(monkeypatch):
    """With LAB_IMPL=starter every switched function raises; the explorer must not call any of them."""
    import roofline_lab
    from roofline_lab import lab

    def not_yet(*args, **kwargs):
        raise NotImplementedError("starter stub")

    from roofline_lab import plot, presets, step_model, widgets

    for module in (lab, roofline_lab, step_model, plot, widgets, presets):
        for name in lab.FUNCTIONS:
            if hasattr(module, name):  # also catches a `from roofline_lab import ridge_point` there
                monkeypatch.setattr(module, name, not_yet)
    explorer = RooflineExplorer(batch=64)
    try:
        assert "8,000 tok/s" in explorer.readout
        explorer.set(gpu="h100-sxm", batch=156, kv=True, context_len=4096)
        assert "H100" in explorer.readout
    finally:
        explorer.close()


def test_without_ipympl_the_figure_is_a_png_image_widget_that_follows_the_controls(ex):
    import ipywidgets

    box = ex.widget()
    image = box.children[1]
    assert isinstance(image, ipywidgets.Image)
    before = bytes(image.value)
    assert before.startswith(b"\x89PNG")
    ex.controls["batch"].value = 512
    assert bytes(image.value) != before
    assert "batch 512" in box.children[2].value  # the readout line under the figure


def test_flops_fraction_derates_compute_so_prefill_takes_twice_as_long_and_decode_does_not_move(ex):
    ex.set(phase="prefill", prompt_len=2048, batch=1, flops_fraction=1.0)
    full = ex.view.batch_step_ms
    ex.set(flops_fraction=0.5)
    assert ex.view.batch_step_ms == pytest.approx(2 * full)
    assert "50% of peak FLOP/s" in ex.readout
    ex.set(phase="decode", flops_fraction=1.0)
    decode = ex.view.batch_step_ms
    ex.set(flops_fraction=0.5)
    assert ex.view.batch_step_ms == pytest.approx(decode)  # memory-bound: untouched
    assert ex._panels.roof["plateau"].get_ydata()[0] == pytest.approx(0.5 * 312e12)


def test_the_gpus_dropdown_follows_tp_choices_and_a_tp_change_redraws_once(ex):
    from roofline_lab.parallel import tp_choices

    ex.set(gpu="h100-sxm", model="llama-3-70b")
    assert _options(ex.controls["tp"]) == tp_choices("llama-3-70b", "h100-sxm")
    assert "roofline-control-tp" in ex.controls["tp"]._dom_classes
    before = ex.render_count
    ex.controls["tp"].value = 8
    assert ex.render_count - before == 1 and ex.state["tp"] == 8 and "(TP8)" in ex.readout
    with pytest.raises(ValueError, match=r"tp=3 .*\[1, 2, 4, 8\]"):
        ex.set(tp=3)
    before = ex.render_count
    ex.controls["model"].value = "8b-lab"
    assert ex.render_count - before == 1
    assert _options(ex.controls["tp"]) == tp_choices("8b-lab", "h100-sxm")
    assert ex.controls["tp"].value == ex.state["tp"]

"""plot.py: the roofline drawn where the step model says, readable units, colour-blind-safe styles,
the seed's points labelled, and clear errors for bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from roofline_lab import get_gpu, reference
from roofline_lab.labels import PathLabel
from roofline_lab.plot import (
    OKABE_ITO,
    STYLE,
    decade_limits,
    draw_points,
    draw_roofline,
    roofline_figure,
    update_points,
    update_roofline,
)


@pytest.fixture
def ax():
    fig = Figure()
    yield fig.add_subplot()


def test_draw_roofline_puts_slope_plateau_and_ridge_where_the_a100_numbers_say(ax):
    art = draw_roofline(312e12, 2.0e12, ax, x_range=(0.1, 1e4))
    ridge_x, ridge_y = art["ridge"].get_xdata()[0], art["ridge"].get_ydata()[0]
    assert ridge_x == pytest.approx(156.0) and ridge_y == 312e12
    xs, ys = art["slope"].get_xdata(), art["slope"].get_ydata()
    np.testing.assert_allclose(ys, 2.0e12 * np.asarray(xs))  # memory slope: bandwidth x intensity
    assert xs[-1] == pytest.approx(156.0)
    assert list(art["plateau"].get_ydata()) == [312e12, 312e12]
    assert art["plateau"].get_xdata()[-1] == 1e4
    assert art["ridge_label"].get_text() == "ridge 156 FLOP/B"
    assert ax.get_xscale() == ax.get_yscale() == "log"


def test_memory_and_compute_regions_meet_at_the_ridge(ax):
    art = draw_roofline(989.5e12, 3.35e12, ax, x_range=(0.1, 1e4))
    ridge = reference.ridge_point(989.5e12, 3.35e12)
    memory, compute = art["memory_region"], art["compute_region"]
    assert memory.get_x() == 0.1 and memory.get_x() + memory.get_width() == pytest.approx(ridge)
    assert compute.get_x() == pytest.approx(ridge)
    assert to_hex(memory.get_facecolor()) != to_hex(compute.get_facecolor())
    assert art["memory_text"].get_text() == "memory-bound" and art["compute_text"].get_text() == "compute-bound"


def test_update_roofline_moves_the_same_artists_to_another_chip(ax):
    art = draw_roofline(312e12, 2.0e12, ax)
    ids = {k: id(v) for k, v in art.items()}
    ridge = update_roofline(art, 989.5e12, 3.35e12, (0.1, 1e4))
    assert ridge == pytest.approx(295.37, rel=1e-3)
    assert art["ridge"].get_xdata()[0] == pytest.approx(ridge)
    assert {k: id(v) for k, v in art.items()} == ids


def test_y_ticks_read_in_tflops_and_x_ticks_in_plain_flop_per_byte(ax):
    draw_roofline(312e12, 2.0e12, ax)
    yfmt, xfmt = ax.yaxis.get_major_formatter(), ax.xaxis.get_major_formatter()
    assert yfmt(3.12e14, 0) == "312"
    assert yfmt(1e11, 0) == "0.1"
    assert xfmt(2048.0, 0) == "2,048"
    assert xfmt(0.1, 0) == "0.1"
    assert "TFLOP/s" in ax.get_ylabel() and "FLOP/byte" in ax.get_xlabel()


def test_draw_points_labels_every_point_and_update_moves_them(ax):
    art = draw_points([1, 8, 64], [2e12, 16e12, 128e12], ["b=1", "b=8", "b=64"], ax)
    assert [label.get_text() for label in art["labels"]] == ["b=1", "b=8", "b=64"]
    update_points(art, [2, 16, 128], [4e12, 32e12, 256e12])
    assert list(art["points"].get_xdata()) == [2, 16, 128]
    assert art["labels"][2].xy[0] == 128  # a still figure's labels are real text (Annotations)


def test_draw_points_refuses_mismatched_or_bad_input_with_the_argument_named(ax):
    with pytest.raises(ValueError, match="labels must have one entry per point"):
        draw_points([1, 2], [1e12, 2e12], ["only one"], ax)
    with pytest.raises(ValueError, match="intensities and attainable_flops must match"):
        draw_points([1, 2], [1e12], ["a", "b"], ax)
    with pytest.raises(ValueError, match="intensities"):
        draw_points([1, -2], [1e12, 1e12], ["a", "b"], ax)
    with pytest.raises(ValueError, match="kind must be"):
        draw_points([1], [1e12], ["a"], ax, kind="sparkly")


def test_draw_roofline_refuses_bad_rates_and_ranges(ax):
    with pytest.raises(ValueError, match="peak_flops"):
        draw_roofline(-1, 2e12, ax)
    with pytest.raises(TypeError, match="mem_bandwidth"):
        draw_roofline(312e12, "2 TB/s", ax)
    with pytest.raises(ValueError, match="x_range"):
        draw_roofline(312e12, 2e12, ax, x_range=(10, 1))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        draw_roofline(312e12, 2e12, "axes")


def test_styles_use_the_okabe_ito_palette_with_a_distinct_marker_per_point_series():
    palette = {to_hex(c) for c in OKABE_ITO.values()}
    for name in ("decode", "prefill", "current", "throughput", "latency", "wall"):
        assert to_hex(STYLE[name]["color"]) in palette, name
    markers = [STYLE[k]["marker"] for k in ("decode", "prefill", "current", "ridge")]
    assert len(set(markers)) == len(markers)


def test_roofline_figure_places_the_seed_decode_and_prefill_points():
    plt.close("all")
    fig, art = roofline_figure("a100-lab", "8b-lab", "fp16")
    try:
        np.testing.assert_allclose(art["decode"]["points"].get_xdata(), [1, 8, 64, 156, 512])
        np.testing.assert_allclose(art["prefill"]["points"].get_xdata(), [128, 2048])
        # attainable: bandwidth x intensity below the ridge, the peak above it
        np.testing.assert_allclose(art["decode"]["points"].get_ydata(), [2e12, 16e12, 128e12, 312e12, 312e12])
        assert [t.get_text() for t in art["prefill"]["labels"]] == ["L=128", "L=2048"]
    finally:
        plt.close(fig)


def test_roofline_figure_on_a_tpu_asked_for_fp16_uses_its_bf16_peak():
    plt.close("all")
    fig, art = roofline_figure("tpu-v5e", "8b-lab", "fp16")
    try:
        assert art["roofline"]["plateau"].get_ydata()[0] == get_gpu("tpu-v5e").peak_flops("bf16")
        assert "bf16 math" in fig.axes[0].get_title()
    finally:
        plt.close(fig)


def test_roofline_figure_draws_into_a_given_axes_and_makes_no_new_figure(ax):
    plt.close("all")
    fig, _ = roofline_figure(ax=ax)
    assert fig is ax.figure
    assert plt.get_fignums() == []


def test_path_label_changes_text_and_reuses_cached_glyph_paths(ax):
    from roofline_lab.labels import _label_marker

    label = PathLabel(ax, "b=64", (64, 1e12))
    first = label.get_marker().vertices.copy()
    label.set_text("b=156")
    assert label.get_text() == "b=156"
    assert label.get_marker().vertices.shape != first.shape
    hits = _label_marker.cache_info().hits
    label.set_text("b=64")
    assert _label_marker.cache_info().hits == hits + 1  # laid out once, then reused
    np.testing.assert_array_equal(label.get_marker().vertices, first)
    assert ax.get_legend_handles_labels() == ([], [])  # its text is not a legend label


def test_the_slide_figure_legend_lists_the_series_only(ax):
    _fig, _ = roofline_figure(ax=ax)
    _handles, labels = ax.get_legend_handles_labels()
    assert labels == ["A100 (lab rounding), fp16", "decode (batch b)", "prefill (prompt L)"]


def test_decade_limits_pad_to_whole_decades():
    assert decade_limits([2e12, 312e12], pad=2.0) == (1e12, 1e15)
    assert decade_limits([1.5e12, 312e12], pad=2.0) == (1e11, 1e15)
    assert decade_limits([]) == (0.1, 10.0)

"""roofline_lab.pixels: data -> pixels by log arithmetic equals matplotlib's transforms."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from roofline_lab.pixels import data_pixels, data_pixels_array


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(6, 4), dpi=90)
    ax.set_xscale("log")
    ax.set_yscale("log")
    yield ax
    plt.close(fig)


@pytest.mark.parametrize("limits", [((0.1, 1e4), (1e9, 1e15)), ((3.0, 7.0), (2.0, 5e3)), ((1e4, 0.1), (1e15, 1e9))])
def test_log_log_pixels_equal_trans_data_and_the_x_axis_transform(ax, limits):
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    rng = np.random.default_rng(0)
    for x, y in zip(10 ** rng.uniform(-2, 5, 20), 10 ** rng.uniform(8, 16, 20), strict=True):
        np.testing.assert_allclose(data_pixels(ax, x, y), ax.transData.transform((x, y)), rtol=0, atol=1e-6)
        frac = float(rng.uniform(-0.5, 1.5))
        np.testing.assert_allclose(data_pixels(ax, x, frac, y_fraction=True),
                                   ax.get_xaxis_transform().transform((x, frac)), rtol=0, atol=1e-6)


def test_other_axes_transforms_and_values_are_left_to_matplotlib(ax):
    assert data_pixels(ax, 0.0, 1.0) is None  # log of 0: ask the transform (it says -inf / nan)
    assert data_pixels(ax, 1.0, float("nan")) is None
    assert data_pixels(ax, 1.0, float("inf"), y_fraction=True) is None
    ax.set_yscale("linear")
    assert data_pixels(ax, 1.0, 1.0) is None
    assert data_pixels(ax, 2.0, 0.5, y_fraction=True) is not None  # x still log
    ax.set_xscale("symlog")
    assert data_pixels(ax, 2.0, 0.5, y_fraction=True) is None


def test_pixels_follow_new_limits_and_a_moved_axes(ax):
    """The matrices it reads are the ones transData recomputes after set_xlim / set_position."""
    ax.set_xlim(1, 100)
    ax.set_ylim(1, 100)
    before = data_pixels(ax, 10.0, 10.0)
    ax.set_xlim(1, 1000)
    ax.set_position((0.3, 0.3, 0.4, 0.4))
    after = data_pixels(ax, 10.0, 10.0)
    assert after != before
    np.testing.assert_allclose(after, ax.transData.transform((10.0, 10.0)), rtol=0, atol=1e-6)


def test_many_points_at_once_drop_the_ones_a_log_axis_cannot_show(ax):
    ax.set_xlim(1, 1e4)
    ax.set_ylim(1e3, 1e9)
    xy = np.array([[2.0, 5e4], [0.0, 1e5], [30.0, np.nan], [700.0, 2e8], [-1.0, 1e4]])
    got = data_pixels_array(ax, xy)
    np.testing.assert_allclose(got, ax.transData.transform(xy[[0, 3]]), rtol=0, atol=1e-6)
    ax.set_xscale("linear")
    assert data_pixels_array(ax, xy) is None

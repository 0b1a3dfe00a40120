"""The browser frames (roofline_lab.frames): the same pixels as Pillow's PNG, for less work."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore
from PIL import Image

from roofline_lab.frames import png_rgba, send_cheap_frames


def _decoded(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA"
    return np.asarray(image)


def _frame(rows_on: list[int], height: int = 40, width: int = 23, seed: int = 0) -> np.ndarray:
    """A diff-like frame: zero everywhere but the given rows, which hold random pixels."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((height, width, 4), np.uint8)
    for r in rows_on:
        pixels[r] = rng.integers(0, 256, (width, 4), dtype=np.uint8)
    return pixels


@pytest.mark.parametrize("rows_on", [[], [0], [39], [0, 39], [5, 6, 7, 30], list(range(40)), [1, 3, 5, 7, 9]])
def test_png_rgba_decodes_to_the_same_pixels_whatever_rows_are_zero(rows_on):
    pixels = _frame(rows_on)
    assert np.array_equal(_decoded(png_rgba(pixels)), pixels)


def test_png_rgba_on_a_rendered_figure_and_its_diff():
    fig = plt.figure(figsize=(4, 3), dpi=72)
    ax = fig.add_subplot()
    (line,) = ax.plot([1, 2, 3], [1, 4, 2])
    fig.canvas.draw()
    before = np.asarray(fig.canvas.buffer_rgba()).copy()
    line.set_ydata([3, 1, 2])
    fig.canvas.draw()
    after = np.asarray(fig.canvas.buffer_rgba())
    plt.close(fig)
    diff = np.where((after != before).any(axis=2, keepdims=True), after, 0).astype(np.uint8)
    assert 0 < diff.any(axis=2).sum() < diff.shape[0] * diff.shape[1]  # a real, partial diff
    for pixels in (after, diff):
        assert np.array_equal(_decoded(png_rgba(np.ascontiguousarray(pixels))), pixels)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 4), np.float32),
                                 np.zeros((4, 16), np.uint8)])
def test_png_rgba_names_what_it_takes(bad):
    with pytest.raises(ValueError, match=r"pixels must be a \(height, width, 4\) uint8 array"):
        png_rgba(bad)


def _web_canvas(cheap: bool, facecolor: str = "white"):
    fig = plt.figure(figsize=(3, 2), dpi=50, facecolor=facecolor)
    canvas = FigureCanvasWebAggCore(fig)
    (line,) = fig.add_subplot().plot([0, 1], [0, 1])
    if cheap:
        assert send_cheap_frames(canvas)
    return fig, canvas, line


@pytest.mark.parametrize("facecolor", ["white", "none"])
def test_a_web_canvas_sends_what_matplotlib_would_send_full_then_diff_then_nothing(facecolor):
    runs = []
    for cheap in (False, True):
        fig, canvas, line = _web_canvas(cheap, facecolor)
        frames = []
        for y in ([0, 1], [1, 0], [1, 0]):  # first frame full; then what changed; then no change
            line.set_ydata(y)
            FigureCanvasAgg.draw(canvas)  # the web canvas's draw would also send the frame: no page here
            canvas._png_is_old = True
            png = canvas.get_diff_image()
            frames.append((canvas._current_image_mode, _decoded(png)))
        assert canvas.get_diff_image() is None  # nothing new drawn since
        runs.append(frames)
        plt.close(fig)
    for (mode, ours), (mode_mpl, theirs) in zip(runs[1], runs[0], strict=True):
        assert mode == mode_mpl
        assert np.array_equal(ours, theirs)
    if facecolor == "none":  # transparent pixels: every frame is sent whole
        assert [m for m, _ in runs[1]] == ["full", "full", "full"]
        return
    assert [m for m, _ in runs[1]] == ["full", "diff", "diff"]
    assert runs[1][1][1].any() and not runs[1][2][1].any()


def test_only_web_canvases_are_changed():
    fig = plt.figure()
    assert send_cheap_frames(fig.canvas) is False  # Agg: no frames to send
    assert "get_diff_image" not in vars(fig.canvas)
    plt.close(fig)

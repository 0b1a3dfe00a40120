"""PathLabel's sprites (roofline_lab.labels): stamped images that look like the outline they cache."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from roofline_lab import labels
from roofline_lab.labels import PathLabel


def _ink(sprites: bool, rotation: float) -> np.ndarray:
    """Darkness (0..1) of a small figure holding one label, drawn with or without sprites."""
    saved = labels.SPRITES
    labels.SPRITES = sprites
    try:
        fig = plt.figure(figsize=(2.0, 1.0), dpi=90)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        PathLabel(ax, "b=64, 156 Lg", (0.5, 0.5), transform=ax.transAxes, rotation=rotation, ha="center",
                  va="center", fontsize=9, color="tab:red")
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
        plt.close(fig)
    finally:
        labels.SPRITES = saved
    return 1 - pixels.mean(axis=2) / 255


@pytest.mark.parametrize("rotation", [0.0, 90.0])
def test_a_sprite_lands_where_the_outline_would_and_reads_the_same_way_up(rotation):
    stamped, outline = _ink(True, rotation), _ink(False, rotation)
    assert stamped.sum() > 20 and outline.sum() > 20  # both drew something
    assert stamped.sum() == pytest.approx(outline.sum(), rel=0.05)  # the same amount of ink

    def centre(ink: np.ndarray) -> np.ndarray:
        rows, cols = np.indices(ink.shape)
        return np.array([(rows * ink).sum(), (cols * ink).sum()]) / ink.sum()

    assert np.abs(centre(stamped) - centre(outline)).max() < 1.5  # whole-pixel placement: within a pixel or so
    # the same way up: flipped or mirrored, a sprite keeps its ink and its centre but not its shape.
    # Whole-pixel placement and Agg's marker path differ by up to a pixel, so compare at the
    # best shift within one pixel (measured: 0.53 of the ink this way up, 1.02 flipped or mirrored)

    def mismatch(a: np.ndarray) -> float:
        return min(np.abs(np.roll(a, (dy, dx), axis=(0, 1)) - outline).sum() / outline.sum()
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))

    assert mismatch(stamped) < 0.75
    assert mismatch(stamped[::-1]) > 0.75 and mismatch(stamped[:, ::-1]) > 0.75


def test_sprites_are_drawn_once_per_text_size_and_colour():
    labels._sprite.cache_clear()
    for _ in range(3):
        _ink(True, 0.0)
    info = labels._sprite.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_vector_output_keeps_the_outline(tmp_path):
    fig = plt.figure(figsize=(2.0, 1.0))
    ax = fig.add_axes((0, 0, 1, 1))
    PathLabel(ax, "b=64", (0.5, 0.5), transform=ax.transAxes)
    fig.savefig(tmp_path / "label.svg")
    plt.close(fig)
    svg = (tmp_path / "label.svg").read_text()
    assert "<image" not in svg  # no bitmap in a vector file
    assert "<path" in svg

"""roofline_lab.generations: the ridge-over-time points come from the catalog, not a hand list."""

from __future__ import annotations

import pytest

from roofline_lab import get_gpu, gpu_names
from roofline_lab.generations import ridge_points

NEW_IN_2026_CATALOG = ("b300", "gb300", "mi355x", "tpu-v7", "h20", "rtx-5090", "dgx-spark", "trainium2")


def test_every_catalog_chip_with_a_year_and_a_16_bit_peak_appears():
    points = {p.key: p for p in ridge_points()}
    expected = {k for k in gpu_names() if k != "a100-lab" and get_gpu(k).year
                and {"fp16", "bf16"} & set(get_gpu(k).dense_flops)}
    assert set(points) == expected
    assert set(NEW_IN_2026_CATALOG) <= set(points)
    for p in points.values():
        g = get_gpu(p.key)
        assert p.year == g.year
        assert p.ridge_flops_per_byte == pytest.approx(g.peak_flops(p.dtype) / g.mem_bandwidth)
    years = [p.year for p in ridge_points()]
    assert years == sorted(years)


def test_h20_stands_out_as_a_decode_chip():
    points = {p.key: p for p in ridge_points()}
    # H20: 148 TFLOP/s dense fp16 over 4.0 TB/s, a ridge of about 37 FLOP/byte
    assert points["h20"].ridge_flops_per_byte == pytest.approx(37, abs=1)
    datacenter = [p for p in points.values() if p.year >= 2022 and p.vendor == "NVIDIA"
                  and "GeForce" not in p.name and p.key != "h20"]
    assert all(p.ridge_flops_per_byte > 5 * points["h20"].ridge_flops_per_byte for p in datacenter)


def test_exclude_is_checked():
    assert "v100-sxm2" not in {p.key for p in ridge_points(exclude=("v100-sxm2",))}
    with pytest.raises(ValueError, match="not-a-chip"):
        ridge_points(exclude=("not-a-chip",))
    with pytest.raises(TypeError, match="exclude"):
        ridge_points(exclude="a100-lab")  # type: ignore[arg-type]

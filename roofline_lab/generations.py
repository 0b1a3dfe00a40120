"""Hardware generations: the points of the ridge-over-time figure (notebook 08), picked from the
catalog (`data/gpus.toml`: each chip's `year` and dense 16-bit peak), never from a hand list."""

from __future__ import annotations

from dataclasses import dataclass

from roofline_lab.hardware import get_gpu, gpu_names

#: Catalog rows that are teaching presets rather than chips (the seed lab's rounded A100).
PRESET_KEYS: tuple[str, ...] = ("a100-lab",)


@dataclass(frozen=True)
class RidgePoint:
    """One chip on the ridge-over-time figure: its ship year and its dense 16-bit ridge."""

    key: str
    name: str
    vendor: str
    year: int
    dtype: str  # "fp16" where the chip lists it, else "bf16" (TPUs, Gaudi)
    ridge_flops_per_byte: float
    mem_bandwidth_bytes_per_s: float


def ridge_points(*, exclude: tuple[str, ...] = PRESET_KEYS) -> list[RidgePoint]:
    """Every catalog chip with a ship year and a dense fp16 or bf16 peak, sorted by year then ridge.

    The ridge is dense peak / bandwidth in the chip's own 16-bit format (`default_dtype`).
    exclude: catalog keys to leave out (by default the teaching preset, a copy of the A100).
    """
    if isinstance(exclude, str) or not all(isinstance(k, str) for k in exclude):
        raise TypeError(f"exclude must be a tuple of catalog keys, got {exclude!r}")
    unknown = sorted(set(exclude) - set(gpu_names()))
    if unknown:
        raise ValueError(f"exclude names keys not in the catalog: {unknown}; known: {', '.join(gpu_names())}")
    points = []
    for key in gpu_names():
        g = get_gpu(key)
        if key in exclude or not g.year or not ({"fp16", "bf16"} & set(g.dense_flops)):
            continue
        dtype = g.default_dtype
        points.append(RidgePoint(key, g.name, g.vendor, g.year, dtype, g.ridge(dtype), g.mem_bandwidth))
    return sorted(points, key=lambda p: (p.year, p.ridge_flops_per_byte))


__all__ = ["PRESET_KEYS", "RidgePoint", "ridge_points"]

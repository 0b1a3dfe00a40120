"""The accelerator catalog: data/gpus.toml loaded into SI units, looked up by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

from roofline_lab import reference
from roofline_lab._lookup import Catalog
from roofline_lab.dtypes import canonical_dtype

TERA = 1e12
GIGA = 1e9


@dataclass(frozen=True)
class Accelerator:
    """One accelerator's datasheet figures, in SI units.

    dense_flops / sparse_flops map dtype -> FLOP/s (OP/s for integers). Only dense
    figures feed the model; sparse ones are kept to show the datasheet trap.
    """

    key: str
    name: str
    vendor: str
    form_factor: str
    memory_bytes: int  # exact device bytes ("80 GB" HBM = 80 GiB)
    mem_bandwidth: float  # bytes/s
    dense_flops: MappingProxyType[str, float]
    sparse_flops: MappingProxyType[str, float]
    sources: tuple[str, ...]
    note: str = ""
    memory_type: str = ""
    aliases: tuple[str, ...] = ()
    unverified: tuple[str, ...] = field(default=())
    memory_label: str = ""  # the vendor's label ("80 GB"), for display
    memory_source: str = ""
    board_power_w: float | None = None  # vendor TDP in watts; None where none is published
    year: int = 0  # first year the part shipped to customers
    power_and_year_source: str = ""

    def peak_flops(self, dtype: str = "fp16") -> float:
        """Dense peak FLOP/s for a compute dtype; raises if the vendor lists none."""
        key = canonical_dtype(dtype)
        if key not in self.dense_flops:
            raise ValueError(
                f"{self.name} has no {key} peak in the catalog; "
                f"compute dtypes it lists: {', '.join(self.dense_flops)}"
            )
        return self.dense_flops[key]

    def ridge(self, dtype: str = "fp16") -> float:
        """Ridge point in FLOP/byte for a compute dtype (dense peak / bandwidth)."""
        return reference.ridge_point(self.peak_flops(dtype), self.mem_bandwidth)

    def runs(self, dtype: str) -> str:
        """The compute dtype this chip would use for `dtype`: itself if listed, else its default."""
        key = canonical_dtype(dtype)
        return key if key in self.dense_flops else self.default_dtype

    @property
    def default_dtype(self) -> str:
        """fp16 where listed, else bf16 (TPUs, Gaudi): the 16-bit format the chip runs."""
        return "fp16" if "fp16" in self.dense_flops else "bf16"


def _accelerator(key: str, row: dict[str, Any]) -> Accelerator:
    return Accelerator(
        key=key,
        name=row["name"],
        vendor=row["vendor"],
        form_factor=row["form_factor"],
        memory_bytes=_memory_bytes(key, row["memory_bytes"]),
        mem_bandwidth=row["bandwidth_gb_per_s"] * GIGA,
        dense_flops=MappingProxyType({d: v * TERA for d, v in row["dense_tflops"].items()}),
        sparse_flops=MappingProxyType({d: v * TERA for d, v in row["sparse_tflops"].items()}),
        sources=tuple(row["sources"]),
        note=row.get("note", ""),
        memory_type=row.get("memory_type", ""),
        aliases=tuple(row.get("aliases", ())),
        unverified=tuple(row.get("unverified", ())),
        memory_label=row["memory_label"],
        memory_source=row["memory_source"],
        board_power_w=row.get("board_power_w"),
        year=row["year"],
        power_and_year_source=row["power_and_year_source"],
    )


def _memory_bytes(key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"gpus.toml [gpu.{key}] memory_bytes must be a positive integer byte count, got {value!r}")
    return value


@cache
def _catalog() -> Catalog[Accelerator]:
    return Catalog("GPU", "gpus.toml", "gpu", _accelerator)


def gpu_names() -> list[str]:
    """Catalog keys in file order (the course preset 'a100-lab' first)."""
    return list(_catalog().items)


def get_gpu(name: str | Accelerator) -> Accelerator:
    """Look up an accelerator by key, alias or full name, any case: get_gpu('H100') -> H100 SXM."""
    return name if isinstance(name, Accelerator) else _catalog().get(name)

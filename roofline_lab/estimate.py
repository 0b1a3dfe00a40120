"""StepEstimate: one forward step's work, and its time under the per-operator roofline.

Built by roofline_lab.step_model (decode_step, prefill_step, mixed_step); fields are
floats, or arrays after a sweep. All quantities are SI: FLOP, FLOP/s, bytes, bytes/s, seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from roofline_lab import reference

Array = float | np.ndarray


@dataclass(frozen=True)
class StepEstimate:
    """One forward step's work and time. Fields are floats, or arrays after a sweep.

    tokens: tokens produced or consumed by the step (decode: batch; prefill: batch * prompt).
    flops: all FLOPs, of which attention_flops are attention's (the rest, linear_flops, the GEMMs).
    peak_flops, mem_bandwidth: the rates the step runs at (datasheet x flops_fraction /
    bandwidth_fraction). resident_bytes: weights + KV cache held; fits: within memory_capacity_bytes.
    compute_dtype: the dtype the math ran in (bf16 where a chip lists no fp16).
    """

    phase: str
    tokens: Array
    flops: Array
    weight_bytes: Array
    kv_bytes: Array
    peak_flops: float
    mem_bandwidth: float
    attention_flops: Array = 0.0
    overhead_s: float = 0.0
    comm_time_s: Array = 0.0
    resident_bytes: Array = 0.0
    memory_capacity_bytes: float = math.inf
    compute_dtype: str = ""

    @property
    def linear_flops(self) -> Array:
        """FLOPs of the weight GEMMs (projections, MLP, experts, head)."""
        return self.flops - self.attention_flops

    @property
    def bytes(self) -> Array:
        """Bytes moved from or to memory in the step."""
        return self.weight_bytes + self.kv_bytes

    @property
    def intensity(self) -> Array:
        """FLOP/byte of the step."""
        return self.flops / self.bytes

    @property
    def ridge(self) -> float:
        """FLOP/byte at which this chip, at these achieved rates, turns compute-bound."""
        return reference.ridge_point(self.peak_flops, self.mem_bandwidth)

    @property
    def memory_time_s(self) -> Array:
        return self.bytes / self.mem_bandwidth

    @property
    def compute_time_s(self) -> Array:
        return self.flops / self.peak_flops

    @property
    def weights_time_s(self) -> Array:
        """The GEMMs on their own roofline: max(weight bytes / BW, linear FLOPs / peak)."""
        return np.maximum(self.weight_bytes / self.mem_bandwidth, self.linear_flops / self.peak_flops)

    @property
    def attention_time_s(self) -> Array:
        """Attention on its own roofline: max(KV bytes / BW, attention FLOPs / peak)."""
        return np.maximum(self.kv_bytes / self.mem_bandwidth, self.attention_flops / self.peak_flops)

    @property
    def time_s(self) -> Array:
        """Seconds per step: weights time + attention time + communication + fixed overhead."""
        return self.weights_time_s + self.attention_time_s + self.comm_time_s + self.overhead_s

    @property
    def one_roofline_time_s(self) -> Array:
        """The seed's (v1) model: max(all bytes / BW, all FLOPs / peak), no overhead."""
        return np.maximum(self.memory_time_s, self.compute_time_s)

    @property
    def weights_bound(self) -> Any:
        """'compute' or 'memory': which roof the GEMMs sit under (an array of them after a sweep)."""
        return _regime(self.linear_flops / self.peak_flops >= self.weight_bytes / self.mem_bandwidth)

    @property
    def attention_bound(self) -> Any:
        """'compute' or 'memory': which roof attention sits under."""
        return _regime(self.attention_flops / self.peak_flops >= self.kv_bytes / self.mem_bandwidth)

    @property
    def compute_bound(self) -> Array:
        """The one-roofline verdict: the step's FLOPs take at least as long as its bytes
        (intensity >= ridge). Which roof each operator sits under: weights_bound, attention_bound."""
        return self.compute_time_s >= self.memory_time_s

    @property
    def tokens_per_s(self) -> Array:
        return self.tokens / self.time_s

    @property
    def flops_utilization(self) -> Array:
        """Share of the (derated) peak the step keeps busy, 0..1."""
        return self.flops / self.time_s / self.peak_flops

    @property
    def fits(self) -> Any:
        """Whether the weights and the KV cache held fit in the GPU's memory (array after a sweep)."""
        fits = np.asarray(self.resident_bytes) <= self.memory_capacity_bytes
        return bool(fits) if fits.ndim == 0 else fits


def _regime(compute: Any) -> Any:
    labels = np.where(compute, "compute", "memory")
    return str(labels) if labels.ndim == 0 else labels

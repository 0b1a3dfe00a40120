"""What every serving module shares: the named errors, small argument checks, and `_Engine`,
one model on `tp` GPUs with fixed step options, asking the step model for its three steps."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from roofline_lab import _checks, step_model
from roofline_lab.hardware import Accelerator, get_gpu
from roofline_lab.models import Model, get_model
from roofline_lab.step_model import StepEstimate

Array = float | np.ndarray

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6

#: The step-model keywords serving forwards, with the values that mean "not used".
STEP_OPTION_DEFAULTS: Mapping[str, object] = MappingProxyType(dict(
    weight_dtype="fp16", compute_dtype=None, kv_dtype="fp16", bandwidth_fraction=1.0,
    flops_fraction=1.0, overhead_s=0.0, attention=True,
))


class LatencyTargetError(ValueError):
    """No batch (or chunk) meets a latency target: the message names the floor."""


class MemoryWallError(ValueError):
    """Not even one sequence fits in memory next to the weights."""


def _price(name: str, value: object) -> float:
    """A price in dollars: a finite number >= 0 (a negative price is named, not clipped)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a price in US dollars (a number >= 0), got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a price in US dollars >= 0, got {value!r}")
    return x


def _tp(tp: object) -> int:
    return int(_checks.number("tp", tp, integer=True))


def _target(name: str, value: object) -> float | np.ndarray:
    return _checks.numbers_array(name, value)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


@dataclass(frozen=True)
class _Engine:
    """One model on `tp` GPUs with fixed step options; the step model does the work (tp included)."""

    model: Model
    gpu: Accelerator
    tp: int
    options: Mapping[str, object]

    @classmethod
    def build(cls, model: Model | str, gpu: Accelerator | str, tp: int = 1, **options: object) -> _Engine:
        unknown = set(options) - set(STEP_OPTION_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown step options {sorted(unknown)}; allowed: {', '.join(STEP_OPTION_DEFAULTS)}")
        return cls(get_model(model), get_gpu(gpu), _tp(tp), MappingProxyType(dict(options)))

    def _kwargs(self, relevant: tuple[str, ...] | None = None) -> dict[str, object]:
        passed = {k: v for k, v in self.options.items() if relevant is None or k in relevant}
        if self.tp != 1:
            passed["tp"] = self.tp
        return passed

    # -- the three steps, as (estimate, seconds) ---------------------------------------------
    def decode(self, batch: Array, context_len: Array = 0) -> tuple[StepEstimate, Array]:
        s = step_model.decode_step(self.model, self.gpu, batch, context_len, **self._kwargs())
        return s, s.time_s

    def prefill(self, prompt_len: Array, batch: Array = 1) -> tuple[StepEstimate, Array]:
        s = step_model.prefill_step(self.model, self.gpu, prompt_len, batch, **self._kwargs())
        return s, s.time_s

    def mixed(self, decode_batch: Array, prefill_tokens: Array, context_len: Array = 0) -> tuple[StepEstimate, Array]:
        s = step_model.mixed_step(self.model, self.gpu, decode_batch, prefill_tokens, context_len, **self._kwargs())
        return s, s.time_s

    def max_batch(self, context_len: Array, memory_fraction: float = 1.0) -> int | np.ndarray:
        return step_model.max_batch(self.model, self.gpu, context_len, memory_fraction=memory_fraction,
                                    **self._kwargs(("weight_dtype", "kv_dtype")))

    def describe(self) -> str:
        return f"{self.model.key} on {self.tp} x {self.gpu.name}" if self.tp > 1 else \
            f"{self.model.key} on one {self.gpu.name}"

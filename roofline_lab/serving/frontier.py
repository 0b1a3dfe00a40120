"""The latency-throughput frontier: decode steps as the batch grows (per-user speed against
throughput per GPU, up to the memory wall), the best batch under a latency target, and the
same for prefill (TTFT against prefill tokens/s)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from roofline_lab import _checks
from roofline_lab.hardware import Accelerator
from roofline_lab.models import Model
from roofline_lab.serving._engine import (
    Array,
    LatencyTargetError,
    MemoryWallError,
    _Engine,
    _ms,
    _target,
)


@dataclass(frozen=True)
class Frontier:
    """Decode steps as the batch grows, for one model on `tp` GPUs at one context length.

    batch: the batches swept (ints); step_time_s: seconds per decode step at each, which is the
    inter-token latency every sequence sees; memory_wall_batch: the largest batch that fits.
    """

    model: str
    gpu: str
    tp: int
    context_len: int
    batch: np.ndarray
    step_time_s: np.ndarray
    memory_wall_batch: int

    @property
    def inter_token_latency_s(self) -> np.ndarray:
        return self.step_time_s

    @property
    def per_user_tokens_per_s(self) -> np.ndarray:
        """Tokens/s one user sees: 1 / inter-token latency."""
        return 1.0 / self.step_time_s

    @property
    def tokens_per_s(self) -> np.ndarray:
        """Tokens/s the whole replica (all `tp` GPUs) produces: batch / step time."""
        return self.batch / self.step_time_s

    @property
    def tokens_per_s_per_gpu(self) -> np.ndarray:
        return self.tokens_per_s / self.tp

    @property
    def fits(self) -> np.ndarray:
        return self.batch <= self.memory_wall_batch


def _wall_or_raise(engine: _Engine, context_len: int, memory_fraction: float) -> int:
    wall = int(engine.max_batch(context_len, memory_fraction))
    if wall < 1:
        raise MemoryWallError(
            f"not even batch 1 fits: {engine.describe()} at context {context_len:,} "
            f"(memory_fraction {memory_fraction:g}); use more GPUs (tp), a smaller weight or KV dtype, "
            f"or a shorter context"
        )
    return wall


def decode_frontier(
    model: Model | str,
    gpu: Accelerator | str,
    context_len: int,
    *,
    tp: int = 1,
    batch: Array | None = None,
    memory_fraction: float = 1.0,
    **step_options: object,
) -> Frontier:
    """The latency-throughput frontier: decode step time for every batch from 1 up to the memory wall.

    batch=None sweeps 1, 2, ... max_batch(context_len) (the memory wall, at `memory_fraction`
    of the GPUs' memory); pass an array to choose the batches (they may pass the wall: see
    `Frontier.fits`). step_options go to the step model (weight_dtype, kv_dtype, compute_dtype,
    bandwidth_fraction, flops_fraction, overhead_s, attention).

    8b-lab on a100-lab at context 0: batch 1 takes 8 ms (125 tok/s per user), batch 64 the same
    8 ms (8,000 tok/s); past batch 156 the step grows and throughput stays at 19,500 tok/s.
    """
    engine = _Engine.build(model, gpu, tp, **step_options)
    context_len = int(_checks.number("context_len", context_len, integer=True, allow_zero=True))
    memory_fraction = _checks.fraction("memory_fraction", memory_fraction)
    wall = int(engine.max_batch(max(context_len, 1), memory_fraction))
    if batch is None:
        if wall < 1:
            _wall_or_raise(engine, context_len, memory_fraction)
        batches = np.arange(1, wall + 1, dtype=np.float64)
    else:
        batches = np.atleast_1d(_checks.numbers_array("batch", batch, integer=True)).astype(np.float64)
    _, time_s = engine.decode(batches, context_len)
    return Frontier(engine.model.key, engine.gpu.key, engine.tp, context_len, batches.astype(np.int64),
                    np.asarray(time_s, dtype=np.float64), wall)


def batch_under_latency(frontier: Frontier, max_inter_token_latency_s: Array) -> int | np.ndarray:
    """Largest swept batch that fits and whose step meets each target (0 where none does). Arrays OK.

    The frontier's step time never falls as the batch grows, so this is the batch with the
    most throughput under the target.
    """
    target = _target("max_inter_token_latency_s", max_inter_token_latency_s)
    ok_time = np.where(frontier.fits, frontier.step_time_s, np.inf)
    # best[i] = largest batch whose step time <= target; step time is non-decreasing in batch
    idx = np.searchsorted(np.maximum.accumulate(ok_time), np.asarray(target) * (1 + 1e-12), side="right")
    best = np.where(idx > 0, frontier.batch[np.maximum(idx - 1, 0)], 0)
    return int(best) if np.ndim(best) == 0 else best.astype(np.int64)


@dataclass(frozen=True)
class OperatingPoint:
    """One chosen batch on the frontier and what it delivers."""

    batch: int
    step_time_s: float
    tokens_per_s: float
    tp: int
    limited_by: str  # "latency" (the next batch misses the target) or "memory" (the wall)

    @property
    def inter_token_latency_s(self) -> float:
        return self.step_time_s

    @property
    def per_user_tokens_per_s(self) -> float:
        return 1.0 / self.step_time_s

    @property
    def tokens_per_s_per_gpu(self) -> float:
        return self.tokens_per_s / self.tp


def best_decode_batch(
    model: Model | str,
    gpu: Accelerator | str,
    context_len: int,
    max_inter_token_latency_s: float,
    *,
    tp: int = 1,
    memory_fraction: float = 1.0,
    **step_options: object,
) -> OperatingPoint:
    """The batch with the most decode throughput whose inter-token latency meets the target.

    Raises LatencyTargetError, naming the floor (the batch-1 step time), when no batch meets
    it, and MemoryWallError when not even batch 1 fits. 8b-lab on a100-lab, context 0, 10 ms:
    batch 195 (step 10.0 ms, 19,500 tok/s), limited by latency.
    """
    target = _checks.number("max_inter_token_latency_s", max_inter_token_latency_s)
    engine = _Engine.build(model, gpu, tp, **step_options)
    context_len = int(_checks.number("context_len", context_len, integer=True, allow_zero=True))
    _wall_or_raise(engine, max(context_len, 1), _checks.fraction("memory_fraction", memory_fraction))
    f = decode_frontier(model, gpu, context_len, tp=tp, memory_fraction=memory_fraction, **step_options)
    b = batch_under_latency(f, target)
    if b == 0:
        raise LatencyTargetError(
            f"no batch meets max_inter_token_latency_s={target:g} ({_ms(target)}): the fastest decode step, "
            f"batch 1 at context {context_len:,}, takes {_ms(float(f.step_time_s[0]))} for {engine.describe()}; "
            f"that is the floor. Raise the target, add GPUs (tp) or use a smaller weight dtype."
        )
    i = b - 1
    return OperatingPoint(int(b), float(f.step_time_s[i]), float(f.tokens_per_s[i]), f.tp,
                          "memory" if b == f.memory_wall_batch else "latency")


@dataclass(frozen=True)
class PrefillFrontier:
    """Prefill steps as the number of prompts per step grows: TTFT against prefill throughput."""

    model: str
    gpu: str
    tp: int
    prompt_len: int
    batch: np.ndarray
    ttft_s: np.ndarray
    memory_wall_batch: int

    @property
    def tokens_per_s(self) -> np.ndarray:
        """Prompt tokens per second the replica prefills: batch * prompt_len / TTFT."""
        return self.batch * self.prompt_len / self.ttft_s

    @property
    def tokens_per_s_per_gpu(self) -> np.ndarray:
        return self.tokens_per_s / self.tp


def prefill_frontier(
    model: Model | str,
    gpu: Accelerator | str,
    prompt_len: int,
    *,
    tp: int = 1,
    batch: Array | None = None,
    memory_fraction: float = 1.0,
    **step_options: object,
) -> PrefillFrontier:
    """TTFT (the prefill step's time, no queueing) and prefill tokens/s as prompts per step grow.

    batch=None sweeps 1 .. min(64, the memory wall at prompt_len). Prefill is compute-bound from
    a few hundred tokens on, so batching prompts buys little throughput and costs TTFT.
    """
    engine = _Engine.build(model, gpu, tp, **step_options)
    prompt_len = int(_checks.number("prompt_len", prompt_len, integer=True))
    memory_fraction = _checks.fraction("memory_fraction", memory_fraction)
    wall = _wall_or_raise(engine, prompt_len, memory_fraction)
    batches = (np.arange(1, min(64, wall) + 1, dtype=np.float64) if batch is None else
               np.atleast_1d(_checks.numbers_array("batch", batch, integer=True)).astype(np.float64))
    _, time_s = engine.prefill(prompt_len, batches)
    return PrefillFrontier(engine.model.key, engine.gpu.key, engine.tp, prompt_len, batches.astype(np.int64),
                           np.asarray(time_s, dtype=np.float64), wall)


def best_prefill_batch(
    model: Model | str,
    gpu: Accelerator | str,
    prompt_len: int,
    max_ttft_s: float,
    *,
    tp: int = 1,
    memory_fraction: float = 1.0,
    **step_options: object,
) -> OperatingPoint:
    """Most prompts one prefill step can take with its time (the TTFT, no queueing) under max_ttft_s.

    Raises LatencyTargetError naming the floor (one prompt's prefill time) when none meets it.
    """
    target = _checks.number("max_ttft_s", max_ttft_s)
    f = prefill_frontier(model, gpu, prompt_len, tp=tp, memory_fraction=memory_fraction, **step_options,
                         batch=np.arange(1, 1 + min(1024, _Engine.build(model, gpu, tp, **step_options).max_batch(
                             prompt_len, memory_fraction) or 1)))
    ok = (f.ttft_s <= target * (1 + 1e-12)) & (f.batch <= f.memory_wall_batch)
    if not ok.any():
        raise LatencyTargetError(
            f"no prefill batch meets max_ttft_s={target:g} ({_ms(target)}): one {prompt_len:,}-token prompt "
            f"takes {_ms(float(f.ttft_s[0]))} to prefill for {f.model} on {f.tp} x {f.gpu}; that is the floor. "
            f"Raise the target, add GPUs (tp), or shorten the prompt (prefix caching)."
        )
    i = int(np.flatnonzero(ok)[-1])
    b = int(f.batch[i])
    return OperatingPoint(b, float(f.ttft_s[i]), float(f.tokens_per_s[i]), f.tp,
                          "memory" if b == f.memory_wall_batch else "latency")

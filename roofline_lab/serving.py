"""Serving on the roofline: the latency-throughput frontier, latency targets, cost and energy
per token, serving-engine ideas as numbers, and the capstone's deployment-plan checker.

Everything here is built on the step model (`decode_step`, `prefill_step`, `mixed_step`,
`max_batch`): a decode step's time *is* the inter-token latency every sequence in the batch
sees, so sweeping the batch traces the curve practitioners choose a deployment on:

    per-user speed   = 1 / step time                  (tokens/s each user sees)
    throughput / GPU = batch / step time / GPUs        (what the bill is divided by)
    $ per 1M tokens  = GPU $/hour / (3600 * tokens/s) * 1e6

Tensor parallelism (`tp`): when the installed step model accepts `tp`, it is passed through
(and only when tp != 1). Otherwise this module splits the model the simple way itself: weights
and KV cache divided over `tp` GPUs (so `tp` times the memory, bandwidth and FLOP/s of one), plus
a clearly labelled all-reduce term, `fallback_tp_comm_time_s`: two all-reduces per layer, each
`FALLBACK_ALLREDUCE_LATENCY_S` plus a ring transfer over `FALLBACK_TP_LINK_BYTES_PER_S`.

All quantities are SI (seconds, bytes, FLOP, FLOP/s, watts, joules); money is US dollars.
Functions that accept numpy arrays say so. Needs only numpy.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

import numpy as np

from roofline_lab import _checks, step_model
from roofline_lab import attention as _attention
from roofline_lab._lookup import Catalog
from roofline_lab.hardware import Accelerator, get_gpu
from roofline_lab.models import Model, get_model
from roofline_lab.step_model import StepEstimate, attention_flops_per_token

Array = float | np.ndarray

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6

#: Fallback TP only (used while the step model has no `tp`): the time of one small all-reduce.
#: 10 us sits between model defaults (5-8 us: llm-analysis, GenZ) and 8 x H100 NCCL measurements
#: of small messages (23-37 us, vidur's all_reduce.csv), as collected in shared/reference/scale_out.md.
FALLBACK_ALLREDUCE_LATENCY_S = 10e-6
#: Fallback TP only: per-GPU, per-direction link bandwidth of the ring, NVLink 4 on an H100/H200
#: SXM (18 links x 25 GB/s = 450 GB/s; JAX scaling book gpus.md, via scale_out.md).
FALLBACK_TP_LINK_BYTES_PER_S = 450e9
#: Bytes per activation value sent by the fallback all-reduce (fp16/bf16 activations).
ACTIVATION_BYTES = 2.0

#: The step-model keywords this module forwards, with the values that mean "not used".
STEP_OPTION_DEFAULTS: Mapping[str, object] = MappingProxyType(dict(
    weight_dtype="fp16", compute_dtype=None, kv_dtype="fp16", bandwidth_fraction=1.0,
    flops_fraction=1.0, overhead_s=0.0, attention=True,
))


class LatencyTargetError(ValueError):
    """No batch (or chunk) meets a latency target: the message names the floor."""


class MemoryWallError(ValueError):
    """Not even one sequence fits in memory next to the weights."""


# =========================================================================== checks


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


# =========================================================================== the step model, with tp


def _supports(func: object, keyword: str) -> bool:
    return keyword in inspect.signature(func).parameters


def native_tp() -> bool:
    """True when the installed step model takes `tp` itself (issue 14); else serving splits it."""
    return _supports(step_model.decode_step, "tp")


def aggregate_gpu(gpu: Accelerator | str, tp: int, flops_fraction: float = 1.0) -> Accelerator:
    """`tp` GPUs seen as one: tp x the memory, bandwidth and (flops_fraction x) FLOP/s of one.

    This is tensor parallelism's first-order effect (weights and KV cache split tp ways, every
    GPU streaming its share at once); the communication it adds is `fallback_tp_comm_time_s`.
    """
    g = get_gpu(gpu)
    tp = _tp(tp)
    flops_scale = tp * _checks.fraction("flops_fraction", flops_fraction)
    if tp == 1 and flops_scale == 1:
        return g
    changes: dict[str, Any] = dict(
        dense_flops=MappingProxyType({d: v * flops_scale for d, v in g.dense_flops.items()}),
        sparse_flops=MappingProxyType({d: v * flops_scale for d, v in g.sparse_flops.items()}),
    )
    if tp > 1:
        changes.update(key=f"{g.key}-x{tp}", name=f"{tp} x {g.name}", memory_bytes=g.memory_bytes * tp,
                       mem_bandwidth=g.mem_bandwidth * tp)
    return dataclasses.replace(g, **changes)


def fallback_tp_comm_time_s(model: Model | str, tp: int, tokens: Array) -> Array:
    """Serving's stand-in all-reduce time per step, used only while the step model lacks `tp`.

    Megatron-style TP does two all-reduces of the [tokens, hidden] activations per layer:
    2 * n_layers * (latency + 2 (tp - 1)/tp * tokens * hidden * 2 bytes / link bandwidth), with
    FALLBACK_ALLREDUCE_LATENCY_S and FALLBACK_TP_LINK_BYTES_PER_S. 0 at tp = 1. Arrays OK.
    Llama-3-70B (80 layers), TP8, one token: 160 x (10 us + 7 ns) = 1.6 ms.
    """
    m = get_model(model)
    tp = _tp(tp)
    tokens = _checks.numbers_array("tokens", tokens)
    if tp == 1:
        return tokens * 0.0
    hidden = m.hidden_size or m.n_heads * m.head_dim
    ring_bytes = 2 * (tp - 1) / tp * tokens * hidden * ACTIVATION_BYTES
    return 2 * m.n_layers * (FALLBACK_ALLREDUCE_LATENCY_S + ring_bytes / FALLBACK_TP_LINK_BYTES_PER_S)


@dataclass(frozen=True)
class _Engine:
    """One model on `tp` GPUs with fixed step options; asks the step model and adds what it lacks."""

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

    # -- what the installed step model can do, and what serving adds -----------------------
    @property
    def _native(self) -> bool:
        return self.tp == 1 or native_tp()

    def _call_options(self, func: object, relevant: tuple[str, ...] | None = None) -> dict[str, object]:
        passed = {}
        for key, value in self.options.items():
            if relevant is not None and key not in relevant:
                continue
            if _supports(func, key):
                passed[key] = value
            elif key not in ("flops_fraction", "overhead_s") and value != STEP_OPTION_DEFAULTS[key]:
                raise TypeError(f"the installed step model has no {key!r} option")
        if self.tp != 1 and self._native:
            passed["tp"] = self.tp
        return passed

    def _step_gpu(self, func: object) -> Accelerator:
        flops_fraction = self.options.get("flops_fraction", 1.0)
        native_fraction = _supports(func, "flops_fraction")
        return aggregate_gpu(
            self.gpu, 1 if self._native else self.tp, 1.0 if native_fraction else flops_fraction  # type: ignore[arg-type]
        )

    def _extra_s(self, func: object, tokens: Array) -> Array:
        extra = 0.0 if _supports(func, "overhead_s") else _checks.number(
            "overhead_s", self.options.get("overhead_s", 0.0), allow_zero=True)
        if not self._native:
            extra = extra + fallback_tp_comm_time_s(self.model, self.tp, tokens)
        return extra

    # -- the three steps, as (estimate, seconds) ---------------------------------------------
    def decode(self, batch: Array, context_len: Array = 0) -> tuple[StepEstimate, Array]:
        f = step_model.decode_step
        s = f(self.model, self._step_gpu(f), batch, context_len, **self._call_options(f))
        return s, s.time_s + self._extra_s(f, s.tokens)

    def prefill(self, prompt_len: Array, batch: Array = 1) -> tuple[StepEstimate, Array]:
        f = step_model.prefill_step
        s = f(self.model, self._step_gpu(f), prompt_len, batch, **self._call_options(f))
        return s, s.time_s + self._extra_s(f, s.tokens)

    def mixed(self, decode_batch: Array, prefill_tokens: Array, context_len: Array = 0) -> tuple[StepEstimate, Array]:
        f = step_model.mixed_step
        s = f(self.model, self._step_gpu(f), decode_batch, prefill_tokens, context_len, **self._call_options(f))
        return s, s.time_s + self._extra_s(f, s.tokens)

    def max_batch(self, context_len: Array, memory_fraction: float = 1.0) -> int | np.ndarray:
        f = step_model.max_batch
        options = self._call_options(f, ("weight_dtype", "kv_dtype"))
        return f(self.model, self._step_gpu(f), context_len, memory_fraction=memory_fraction, **options)

    def describe(self) -> str:
        return f"{self.model.key} on {self.tp} x {self.gpu.name}" if self.tp > 1 else \
            f"{self.model.key} on one {self.gpu.name}"


# =========================================================================== 1. the frontier


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


# =========================================================================== 2. cost and energy


def usd_per_million_tokens(usd_per_gpu_hour: Array, tokens_per_s: Array, n_gpus: Array = 1) -> Array:
    """Dollars per million tokens: n_gpus * GPU $/hour / (3600 * tokens/s) * 1e6. Arrays OK.

    One $3.60/hour GPU producing 1,000 tok/s: 3.60 / 3.6e6 * 1e6 = $1.00 per million tokens.
    Works for decode (generated tokens/s) and prefill (prompt tokens/s) alike.
    """
    if isinstance(usd_per_gpu_hour, (list, tuple, np.ndarray)):
        price = np.asarray(usd_per_gpu_hour, dtype=float)
        if not np.isfinite(price).all() or (price < 0).any():
            raise ValueError(
                f"usd_per_gpu_hour must be a price in US dollars >= 0 everywhere, got {usd_per_gpu_hour!r}")
    else:
        price = _price("usd_per_gpu_hour", usd_per_gpu_hour)
    tps = _checks.numbers_array("tokens_per_s", tokens_per_s)
    n = _checks.numbers_array("n_gpus", n_gpus, integer=True)
    return n * price / (SECONDS_PER_HOUR * tps) * TOKENS_PER_MILLION


def board_power_w(gpu: Accelerator | str) -> float:
    """The catalog's board power (TDP) of a GPU in watts; a clear error if the catalog has none."""
    g = get_gpu(gpu)
    power = getattr(g, "board_power_w", None)
    if not power:
        raise ValueError(f"the catalog has no board_power_w for {g.name}; pass board_power_w=... (watts, its TDP)")
    return float(power)


def tokens_per_joule(tokens_per_s: Array, board_power_w: Array, n_gpus: Array = 1) -> Array:
    """Tokens per joule at full board power: tokens/s / (n_gpus * watts). Arrays OK.

    An upper-bound style figure: it charges every GPU its TDP (a real board often draws less
    in memory-bound decode). 8,000 tok/s on one 400 W A100: 20 tokens per joule.
    """
    tps = _checks.numbers_array("tokens_per_s", tokens_per_s)
    watts = _checks.numbers_array("board_power_w", board_power_w)
    n = _checks.numbers_array("n_gpus", n_gpus, integer=True)
    return tps / (n * watts)


@dataclass(frozen=True)
class Price:
    """One example on-demand price from data/prices.toml."""

    key: str
    name: str
    usd_per_gpu_hour: float
    provider: str
    date: str
    label: str
    source: str
    note: str = ""


def _price_row(key: str, row: dict[str, Any]) -> Price:
    return Price(key=key, name=row["name"], usd_per_gpu_hour=_price(f"prices.toml {key}", row["usd_per_gpu_hour"]),
                 provider=row["provider"], date=row["date"], label=row["label"], source=row["source"],
                 note=row.get("note", ""))


@cache
def _prices() -> Catalog[Price]:
    return Catalog("price", "prices.toml", "price", _price_row)


def price_names() -> list[str]:
    """GPU keys that have an example price."""
    return list(_prices().items)


def example_price(gpu: Accelerator | str) -> Price:
    """The example on-demand price for a GPU (see Price.label for provider, date and source)."""
    key = get_gpu(gpu).key
    if key not in _prices().items:
        raise ValueError(f"no example price for {key!r} in prices.toml; pass usd_per_gpu_hour=... "
                         f"(GPUs with a price: {', '.join(price_names())})")
    return _prices().items[key]


# =========================================================================== 3. serving-engine ideas


# --- continuous batching ------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchingSimulation:
    """A seeded simulation of one server: arrivals in, the batch it actually runs, tokens out."""

    policy: str
    batch_sizes: np.ndarray  # the batch of every decode step
    step_times_s: np.ndarray
    tokens: int
    elapsed_s: float  # including idle time waiting for arrivals
    offered_tokens_per_s: float  # request rate x mean output length
    static_ideal_tokens_per_s: float  # every step at max_batch
    max_batch: int

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed_s

    @property
    def mean_batch(self) -> float:
        return float(self.batch_sizes.mean())

    @property
    def share_of_ideal(self) -> float:
        """Achieved throughput / the static ideal (a full batch every step)."""
        return self.tokens_per_s / self.static_ideal_tokens_per_s

    def batch_histogram(self, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """(share of steps, bin edges) of the batch sizes the server ran."""
        counts, edges = np.histogram(self.batch_sizes, bins=bins, range=(0.5, self.max_batch + 0.5))
        return counts / counts.sum(), edges


def simulate_batching(
    frontier: Frontier,
    request_rate_per_s: float,
    mean_output_tokens: float,
    *,
    max_batch: int | None = None,
    policy: str = "continuous",
    n_steps: int = 3000,
    seed: int = 0,
) -> BatchingSimulation:
    """Poisson arrivals, geometric output lengths, one decode step at a time (numpy Generator, seeded).

    policy="continuous": every step, finished sequences leave and waiting ones take their slots
    (iteration-level scheduling, Orca/vLLM). policy="static": a batch is formed when the server is
    idle and runs until its longest sequence ends, while finished slots sit empty.
    Step times come from the frontier (its batch b step time). Prefill is left out.
    """
    rate = _checks.number("request_rate_per_s", request_rate_per_s)
    mean_len = _checks.number("mean_output_tokens", mean_output_tokens)
    if mean_len < 1:
        raise ValueError(f"mean_output_tokens must be >= 1, got {mean_output_tokens!r}")
    if policy not in ("continuous", "static"):
        raise ValueError(f"policy must be 'continuous' or 'static', got {policy!r}")
    cap = frontier.memory_wall_batch if max_batch is None else int(_checks.number("max_batch", max_batch, integer=True))
    if cap > int(frontier.batch.max()) or cap < 1:
        raise ValueError(f"max_batch must be between 1 and the frontier's largest batch {int(frontier.batch.max())}, "
                         f"got {cap}")
    lookup = np.full(int(frontier.batch.max()) + 1, np.nan)
    lookup[frontier.batch] = frontier.step_time_s
    n_steps = int(_checks.number("n_steps", n_steps, integer=True))
    rng = np.random.default_rng(seed)

    queue: deque[int] = deque()
    remaining = np.zeros(0, dtype=np.int64)
    batches = np.zeros(n_steps, dtype=np.int64)
    times = np.zeros(n_steps)
    clock = 0.0
    tokens = 0
    step = 0
    while step < n_steps:
        room = cap - remaining.size
        if room and queue and (policy == "continuous" or remaining.size == 0):
            take = [queue.popleft() for _ in range(min(room, len(queue)))]
            remaining = np.concatenate([remaining, np.asarray(take, dtype=np.int64)])
        if remaining.size == 0:  # idle: wait for the next arrival
            clock += rng.exponential(1.0 / rate)
            queue.append(int(rng.geometric(1.0 / mean_len)))
            continue
        b = remaining.size if policy == "continuous" else int(np.count_nonzero(remaining))
        dt = float(lookup[b])
        clock += dt
        tokens += b
        batches[step], times[step] = b, dt
        step += 1
        arrivals = int(rng.poisson(rate * dt))
        queue.extend(int(x) for x in rng.geometric(1.0 / mean_len, size=arrivals))
        remaining = remaining - 1
        if policy == "continuous":
            remaining = remaining[remaining > 0]
        elif not (remaining > 0).any():
            remaining = np.zeros(0, dtype=np.int64)
        else:
            remaining = np.maximum(remaining, 0)
    ideal = cap / float(lookup[cap])
    return BatchingSimulation(policy, batches, times, tokens, clock, rate * mean_len, ideal, cap)


# --- paged KV and gpu_memory_utilization --------------------------------------------------------

@dataclass(frozen=True)
class KVBudget:
    """Where the memory of `tp` GPUs goes, and how many sequences that leaves room for."""

    memory_bytes: float
    reserved_bytes: float  # (1 - gpu_memory_utilization) of memory, kept back by the engine
    weight_bytes: float
    activation_bytes: float  # rough live activations of one forward pass (see kv_cache_budget)
    kv_budget_bytes: float
    kv_bytes_per_token: float
    block_tokens: int
    n_blocks: int
    context_len: int
    max_batch_bound: int  # step model's max_batch at memory_fraction 1: weights + KV only
    sequences_paged: int  # fixed-size blocks, at most one part-filled block per sequence
    sequences_contiguous: int  # every sequence reserves max_model_len tokens up front


def activation_bytes_estimate(model: Model | str, max_batched_tokens: int) -> float:
    """A rough stand-in for the activation memory an engine's profiling run finds.

    The largest live tensors of one layer for `max_batched_tokens` tokens in 16-bit: the input
    and output (2 x hidden) and the MLP's gate and up projections (2 x intermediate):
    tokens * (2 * hidden + 2 * intermediate) * 2 bytes. Llama-3-70B, 8,192 tokens: 1.21 GB.
    An assumption for teaching, not a measurement; 0 for presets without those shapes.
    """
    m = get_model(model)
    tokens = _checks.number("max_batched_tokens", max_batched_tokens, integer=True)
    return tokens * (2 * m.hidden_size + 2 * m.intermediate_size) * ACTIVATION_BYTES


def kv_cache_budget(
    model: Model | str,
    gpu: Accelerator | str,
    context_len: int,
    *,
    gpu_memory_utilization: float = 0.9,
    block_tokens: int = 16,
    max_batched_tokens: int = 8192,
    activation_bytes: float | None = None,
    max_model_len: int | None = None,
    tp: int = 1,
    weight_dtype: str = "fp16",
    kv_dtype: str = "fp16",
) -> KVBudget:
    """Why `max_batch` is an upper bound: the engine's reserve, activations, and block rounding.

    A vLLM-style engine takes gpu_memory_utilization of the memory, loads the weights, sets
    aside the activations of a max_batched_tokens forward pass, and cuts the rest into blocks of
    block_tokens tokens of KV cache (PagedAttention). A sequence of context_len tokens holds
    ceil(context_len / block_tokens) blocks. Without paging, each sequence would reserve
    max_model_len (default: context_len) contiguous tokens.
    """
    engine = _Engine.build(model, gpu, tp, weight_dtype=weight_dtype, kv_dtype=kv_dtype)
    context_len = int(_checks.number("context_len", context_len, integer=True))
    util = _checks.fraction("gpu_memory_utilization", gpu_memory_utilization)
    block_tokens = int(_checks.number("block_tokens", block_tokens, integer=True))
    max_len = context_len if max_model_len is None else int(_checks.number("max_model_len", max_model_len,
                                                                            integer=True))
    if max_len < context_len:
        raise ValueError(f"max_model_len ({max_len}) must be >= context_len ({context_len})")
    memory = engine.gpu.memory_bytes * engine.tp
    weights = engine.model.weight_bytes(weight_dtype)
    acts = (activation_bytes_estimate(engine.model, max_batched_tokens) if activation_bytes is None
            else _checks.number("activation_bytes", activation_bytes, allow_zero=True))
    kv_budget = max(util * memory - weights - acts, 0.0)
    per_token = engine.model.kv_bytes_per_token(kv_dtype)
    n_blocks = int(kv_budget // (block_tokens * per_token))
    return KVBudget(
        memory_bytes=memory, reserved_bytes=(1 - util) * memory, weight_bytes=weights, activation_bytes=acts,
        kv_budget_bytes=kv_budget, kv_bytes_per_token=per_token, block_tokens=block_tokens, n_blocks=n_blocks,
        context_len=context_len, max_batch_bound=int(engine.max_batch(context_len, 1.0)),
        sequences_paged=n_blocks // math.ceil(context_len / block_tokens),
        sequences_contiguous=int(kv_budget // (max_len * per_token)),
    )


# --- prefix caching ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrefixSavings:
    """Prefill FLOPs of one prompt with and without a cached shared prefix."""

    prompt_tokens: int
    cached_tokens: Array
    flops_without_cache: float
    flops_with_cache: Array

    @property
    def saved_flops(self) -> Array:
        return self.flops_without_cache - self.flops_with_cache

    @property
    def saved_fraction(self) -> Array:
        return self.saved_flops / self.flops_without_cache


def prefill_flops(model: Model | str, prompt_tokens: Array, cached_tokens: Array = 0) -> Array:
    """FLOPs to prefill positions cached_tokens+1 .. prompt_tokens of one prompt. Arrays OK.

    2 FLOP per block weight per new token, the output head once (the last token's logits), and
    causal attention for the new tokens: every (query, key) pair the full prompt has that the
    cached prefix did not, as the step model counts them. With cached_tokens=0 this is
    prefill_step(...).flops for one prompt.
    """
    m = get_model(model)
    total = _checks.numbers_array("prompt_tokens", prompt_tokens, integer=True)
    cached = _checks.numbers_array("cached_tokens", cached_tokens, integer=True, allow_zero=True)
    if np.any(np.asarray(cached) > np.asarray(total)):
        raise ValueError(f"cached_tokens must be <= prompt_tokens, got {cached_tokens!r} > {prompt_tokens!r}")
    linear = step_model.INFERENCE_FLOPS_PER_PARAM_TOKEN * (m.block_params_per_token * (total - cached) + m.head_params)
    return linear + _attention.prefill_flops(m, 1, total) - _attention.prefill_flops(m, 1, cached)


def prefix_cache_savings(model: Model | str, prompt_tokens: int, cached_tokens: Array) -> PrefixSavings:
    """What a cached shared prefix (a system prompt) saves in prefill FLOPs. cached_tokens: arrays OK.

    Without attention FLOPs the saving would be cached/prompt; attention makes the late tokens
    dearer than the early ones, so caching the first half saves a little less than half.
    """
    total = int(_checks.number("prompt_tokens", prompt_tokens, integer=True))
    full = float(prefill_flops(model, total, 0))
    return PrefixSavings(total, cached_tokens, full, prefill_flops(model, total, cached_tokens))


# --- disaggregated prefill / decode: in the capstone section (needs Problem) ---------------------


# --- speculative decoding ------------------------------------------------------------------------

def expected_tokens_per_verify(acceptance_rate: Array, draft_tokens: Array) -> Array:
    """Tokens one verify step yields on average: (1 - a^(k+1)) / (1 - a); k + 1 when a = 1. Arrays OK.

    Each of k drafted tokens is accepted with probability a until the first rejection, and the
    verify pass always adds one token of its own (Leviathan et al. 2023, arXiv:2211.17192).
    a = 0.8, k = 4: (1 - 0.8^5) / 0.2 = 3.3616 tokens.
    """
    a = _checks.numbers_array("acceptance_rate", acceptance_rate, allow_zero=True)
    if np.any(np.asarray(a) > 1):
        raise ValueError(f"acceptance_rate must be a probability in [0, 1], got {acceptance_rate!r}")
    k = _checks.numbers_array("draft_tokens", draft_tokens, integer=True, allow_zero=True)
    a_arr, k_arr = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(k, dtype=float))
    safe = np.where(a_arr < 1, a_arr, 0.5)
    out = np.where(a_arr < 1, (1 - safe ** (k_arr + 1)) / (1 - safe), k_arr + 1)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class SpeculativeEstimate:
    """One draft-then-verify cycle against plain decoding, for `batch` sequences."""

    expected_tokens: Array  # per sequence per cycle
    draft_time_s: Array  # k draft decode steps
    verify_time_s: Array  # one target pass over k + 1 tokens per sequence
    baseline_time_s: Array  # one plain target decode step
    batch: Array

    @property
    def cycle_time_s(self) -> Array:
        return self.draft_time_s + self.verify_time_s

    @property
    def tokens_per_s(self) -> Array:
        return self.batch * self.expected_tokens / self.cycle_time_s

    @property
    def baseline_tokens_per_s(self) -> Array:
        return self.batch / self.baseline_time_s

    @property
    def speedup(self) -> Array:
        """> 1: speculation pays."""
        return self.tokens_per_s / self.baseline_tokens_per_s


def speculative_decoding(
    model: Model | str,
    draft_model: Model | str,
    gpu: Accelerator | str,
    *,
    draft_tokens: int,
    acceptance_rate: float,
    batch: Array = 1,
    context_len: int = 0,
    tp: int = 1,
    **step_options: object,
) -> SpeculativeEstimate:
    """Speculative decoding on the roofline: k cheap draft steps, then one target pass over k + 1 tokens.

    The verify pass reads the target's weights and each sequence's KV cache once but does k + 1
    tokens' FLOPs: while the target is memory-bound those FLOPs were idle, so the pass costs about
    one decode step and yields expected_tokens_per_verify(a, k) tokens. It pays when
    expected tokens > (k draft steps + verify) / one step; batch (arrays OK) erodes it, because
    a compute-bound target has no idle FLOPs. Verify time = max(weight bytes / BW, linear FLOPs /
    peak) + max(KV bytes / BW, attention FLOPs / peak), the step model's two-part split.
    The draft runs on the same GPUs.
    """
    k = int(_checks.number("draft_tokens", draft_tokens, integer=True))
    expected = expected_tokens_per_verify(acceptance_rate, k)
    target = _Engine.build(model, gpu, tp, **step_options)
    draft_engine = _Engine.build(draft_model, gpu, tp, **step_options)
    batch = _checks.numbers_array("batch", batch, integer=True)
    context_len = int(_checks.number("context_len", context_len, integer=True, allow_zero=True))
    _, baseline = target.decode(batch, context_len)
    _, one_draft = draft_engine.decode(batch, context_len)
    no_attention = _Engine.build(model, gpu, tp, **{**step_options, "attention": False})
    linear, _ = no_attention.decode(batch * (k + 1), 0)  # weights once, k + 1 tokens of linear FLOPs
    kv_bytes = batch * context_len * target.model.kv_bytes_per_token(str(step_options.get("kv_dtype", "fp16")))
    attn_flops = (k + 1) * batch * attention_flops_per_token(target.model, context_len)
    bw, peak = linear.mem_bandwidth, linear.peak_flops
    verify = (np.maximum(linear.weight_bytes / bw, linear.flops / peak) + np.maximum(kv_bytes / bw, attn_flops / peak)
              + target._extra_s(step_model.decode_step, batch * (k + 1)))
    return SpeculativeEstimate(expected, k * one_draft, verify, baseline, batch)


# --- chunked prefill ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChunkBudget:
    """The largest prefill chunk a mixed step can carry and still meet an inter-token target."""

    prefill_tokens: int
    step_time_s: float
    decode_only_time_s: float
    decode_batch: int

    @property
    def prefill_tokens_per_s(self) -> float:
        return self.prefill_tokens / self.step_time_s


def chunked_prefill_budget(
    model: Model | str,
    gpu: Accelerator | str,
    decode_batch: int,
    context_len: int,
    max_inter_token_latency_s: float,
    *,
    tp: int = 1,
    max_tokens: int = 32768,
    **step_options: object,
) -> ChunkBudget:
    """Token budget for chunked prefill: the biggest chunk whose mixed step meets the target.

    Every step carries decode_batch decode tokens plus a prefill chunk (one weight read for both,
    `mixed_step`); the decode users see the whole mixed step as their inter-token latency, so the
    chunk is what is left of the target. Raises LatencyTargetError naming the floor (the
    decode-only step) when even that misses the target; 0 tokens when only a chunk of 1 would.
    """
    target = _checks.number("max_inter_token_latency_s", max_inter_token_latency_s)
    engine = _Engine.build(model, gpu, tp, **step_options)
    decode_batch = int(_checks.number("decode_batch", decode_batch, integer=True))
    context_len = int(_checks.number("context_len", context_len, integer=True, allow_zero=True))
    _, alone = engine.decode(decode_batch, context_len)
    if alone > target * (1 + 1e-12):
        raise LatencyTargetError(
            f"no chunk meets max_inter_token_latency_s={target:g} ({_ms(target)}): decode alone at batch "
            f"{decode_batch} and context {context_len:,} already takes {_ms(float(alone))} for "
            f"{engine.describe()}; that is the floor. Lower the decode batch or raise the target."
        )
    chunks = np.arange(1, int(_checks.number("max_tokens", max_tokens, integer=True)) + 1, dtype=np.float64)
    _, times = engine.mixed(decode_batch, chunks, context_len)
    ok = np.flatnonzero(np.asarray(times) <= target * (1 + 1e-12))
    if ok.size == 0:
        return ChunkBudget(0, float(alone), float(alone), decode_batch)
    i = int(ok[-1])
    return ChunkBudget(int(chunks[i]), float(times[i]), float(alone), decode_batch)


# =========================================================================== 4. the capstone


@dataclass(frozen=True)
class Problem:
    """A deployment to design: a model, allowed chips, traffic and latency targets.

    Each request brings prompt_tokens and generates output_tokens (their sum is the context the
    KV cache must hold). Decode steps read the mean context, prompt + output / 2.
    max_ttft_s: None for no TTFT target. memory_fraction is the engine's gpu_memory_utilization.
    usd_per_gpu_hour: {gpu key: price}; a chip left out uses its example price (prices.toml).
    """

    name: str
    question: str
    model: str
    gpus: tuple[str, ...]
    request_rate_per_s: float
    prompt_tokens: int = 3072
    output_tokens: int = 1024
    max_inter_token_latency_s: float = 0.050
    max_ttft_s: float | None = 2.0
    weight_dtype: str = "fp16"
    kv_dtype: str = "fp16"
    memory_fraction: float = 0.9
    tp_options: tuple[int, ...] = (1, 2, 4, 8)
    max_gpus: int = 64
    usd_per_gpu_hour: Mapping[str, float] = field(default_factory=dict, hash=False)

    @property
    def context_len(self) -> int:
        return self.prompt_tokens + self.output_tokens

    @property
    def mean_decode_context(self) -> int:
        return self.prompt_tokens + self.output_tokens // 2

    @property
    def output_tokens_per_s(self) -> float:
        """Generated tokens per second the traffic asks for."""
        return self.request_rate_per_s * self.output_tokens

    def price(self, gpu: str) -> float:
        key = get_gpu(gpu).key
        if key in self.usd_per_gpu_hour:
            return _price(f"usd_per_gpu_hour[{key!r}]", self.usd_per_gpu_hour[key])
        return example_price(key).usd_per_gpu_hour


@dataclass(frozen=True)
class Plan:
    """A learner's answer: which chip, how many, split tp ways per replica, and the decode batch cap.

    n_gpus / tp replicas each serve an equal share of the traffic with at most `batch`
    sequences in flight (the engine's max_num_seqs).
    """

    gpu: str
    n_gpus: int
    tp: int
    batch: int


@dataclass(frozen=True)
class PlanReport:
    """Every number the checker looked at, and which constraints failed."""

    plan: Plan
    replicas: float
    max_batch: int  # memory wall per replica at the full context
    decode_step_s: float  # at plan.batch, mean decode context
    prefill_s: float  # one prompt's prefill on one replica
    prefill_share: float  # fraction of each replica's time spent on prefill
    inter_token_latency_s: float  # decode step stretched by the prefill interleaved with it
    ttft_s: float  # prefill time + mean M/D/1 queueing for the prefill work
    capacity_tokens_per_s: float  # generated tokens/s all replicas can deliver at plan.batch
    demand_tokens_per_s: float
    usd_per_hour: float
    usd_per_million_tokens: float  # at the demanded load
    failures: tuple[str, ...]
    hints: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.failures


def _problem_engine(problem: Problem, gpu: str, tp: int) -> _Engine:
    return _Engine.build(problem.model, gpu, tp, weight_dtype=problem.weight_dtype, kv_dtype=problem.kv_dtype)


def evaluate_plan(problem: Problem, plan: Plan) -> PlanReport:
    """Check a plan against the problem's constraints; name each one that fails, with a hint.

    Constraints, per replica (n_gpus / tp of them, sharing the traffic equally):
    - "tp": tp is one of problem.tp_options and divides n_gpus (and n_gpus <= max_gpus);
    - "memory": batch <= max_batch at the full context (weights + KV in memory_fraction of memory);
    - "prefill": the replica's prefill work, rate_r * prefill time, is under 100 % of its time;
    - "latency": decode step / (1 - prefill share) <= the inter-token target (chunked prefill
      spreads the prefill work over the decode steps, stretching each);
    - "throughput": batch sequences deliver batch * (1 - prefill share) / step time tokens/s,
      at least the replica's share of the demand (Little's law: otherwise the queue grows);
    - "ttft": prefill time + mean M/D/1 wait p * t / (2 (1 - p)) <= max_ttft_s.
    """
    if not isinstance(plan, Plan):
        raise TypeError(f"plan must be a serving.Plan, got {plan!r}")
    gpu = get_gpu(plan.gpu).key
    allowed = [get_gpu(g).key for g in problem.gpus]
    n = int(_checks.number("n_gpus", plan.n_gpus, integer=True))
    tp = int(_checks.number("tp", plan.tp, integer=True))
    batch = int(_checks.number("batch", plan.batch, integer=True))
    failures: list[str] = []
    hints: list[str] = []
    if gpu not in allowed:
        failures.append("gpu")
        hints.append(f"gpu: this problem is about {', '.join(allowed)}, not {gpu}")
    if tp not in problem.tp_options or n % tp or n > problem.max_gpus:
        failures.append("tp")
        hints.append(f"tp: tp must be one of {problem.tp_options} and divide n_gpus (got n_gpus {n}, tp {tp}); "
                     f"at most {problem.max_gpus} GPUs")
    replicas = n / tp
    if failures:  # no step to price: the chip or the split is not allowed
        nan = math.nan
        return PlanReport(Plan(gpu, n, tp, batch), replicas, 0, nan, nan, nan, nan, nan, 0.0,
                          problem.output_tokens_per_s, nan, nan, tuple(failures), tuple(hints))
    engine = _problem_engine(problem, gpu, tp)
    wall = int(engine.max_batch(problem.context_len, problem.memory_fraction))
    _, step_s = engine.decode(batch, problem.mean_decode_context)
    _, prefill_s = engine.prefill(problem.prompt_tokens, 1)
    step_s, prefill_s = float(step_s), float(prefill_s)
    rate_r = problem.request_rate_per_s / replicas
    p = rate_r * prefill_s
    itl = step_s / (1 - p) if p < 1 else math.inf
    capacity = replicas * batch * max(1 - p, 0.0) / step_s
    ttft = prefill_s + (p * prefill_s / (2 * (1 - p)) if p < 1 else math.inf)
    demand = problem.output_tokens_per_s
    if batch > wall:
        failures.append("memory")
        per_seq = problem.context_len * engine.model.kv_bytes_per_token(problem.kv_dtype)
        hints.append(
            f"memory: {batch} sequences of {problem.context_len:,} tokens need {batch * per_seq / 1e9:,.0f} GB of "
            f"KV cache, but TP{tp} on {gpu} holds at most {wall} next to "
            f"{engine.model.weight_bytes(problem.weight_dtype) / 1e9:,.0f} GB of weights; lower the batch or raise tp"
        )
    if p >= 1:
        failures.append("prefill")
        hints.append(f"prefill: each replica gets {rate_r:.2f} prompts/s at {_ms(prefill_s)} each, "
                     f"{100 * p:.0f} % of its time: add replicas or raise tp")
    elif itl > problem.max_inter_token_latency_s:
        failures.append("latency")
        hints.append(f"latency: a decode step of batch {batch} takes {_ms(step_s)}, {_ms(itl)} with prefill "
                     f"interleaved ({100 * p:.0f} % of the time), over the {_ms(problem.max_inter_token_latency_s)} "
                     f"target: lower the batch, raise tp, or add replicas")
    if capacity < demand * (1 - 1e-12):
        failures.append("throughput")
        some = f"{replicas:g} replica{'' if replicas == 1 else 's'}"
        hints.append(f"throughput: {some} x batch {batch} deliver {capacity:,.0f} tok/s, the traffic "
                     f"needs {demand:,.0f}: add replicas or raise the batch")
    if problem.max_ttft_s is not None and ttft > problem.max_ttft_s and "prefill" not in failures:
        failures.append("ttft")
        hints.append(f"ttft: the first token takes {_ms(ttft)} (prefill {_ms(prefill_s)} plus queueing), over the "
                     f"{_ms(problem.max_ttft_s)} target: raise tp or add replicas")
    usd_hour = n * problem.price(gpu) if gpu in allowed or gpu in price_names() else math.nan
    cost = usd_hour / (SECONDS_PER_HOUR * demand) * TOKENS_PER_MILLION
    return PlanReport(Plan(gpu, n, tp, batch), replicas, wall, step_s, prefill_s, p, itl, ttft, capacity, demand,
                      usd_hour, cost, tuple(failures), tuple(hints))


def largest_feasible_batches(problem: Problem, gpu: str, tp: int) -> dict[int, int]:
    """{n_gpus: the biggest batch cap that passes every constraint} for one chip and tp (0: none).

    n_gpus runs over tp, 2 tp, ... max_gpus. Useful to draw cost against GPU count.
    """
    engine = _problem_engine(problem, gpu, tp)
    wall = int(engine.max_batch(problem.context_len, problem.memory_fraction))
    out = {n: 0 for n in range(tp, problem.max_gpus + 1, tp)}
    if wall < 1:
        return out
    batches = np.arange(1, wall + 1, dtype=np.float64)
    _, step_s = engine.decode(batches, problem.mean_decode_context)
    _, prefill_s = engine.prefill(problem.prompt_tokens, 1)
    prefill_s = float(prefill_s)
    for n in out:
        replicas = n / tp
        p = problem.request_rate_per_s / replicas * prefill_s
        if p >= 1:
            continue
        ttft = prefill_s + p * prefill_s / (2 * (1 - p))
        if problem.max_ttft_s is not None and ttft > problem.max_ttft_s:
            continue
        ok = (step_s / (1 - p) <= problem.max_inter_token_latency_s) & (
            replicas * batches * (1 - p) / step_s >= problem.output_tokens_per_s * (1 - 1e-12))
        if ok.any():
            out[n] = int(batches[np.flatnonzero(ok)[-1]])
    return out


@dataclass(frozen=True)
class ReplicaOption:
    """What one replica of `tp` GPUs can do for a problem, before the traffic is split."""

    gpu: str
    tp: int
    max_batch: int  # memory wall at the full context
    prefill_s: float  # one prompt's prefill
    best_batch: int  # largest batch whose decode step alone meets the inter-token target (0: none)
    step_s: float  # decode step at best_batch (nan if none)
    tokens_per_s: float  # generated tokens/s at best_batch with no prefill (0 if none)


def replica_options(problem: Problem, gpu: str | None = None) -> list[ReplicaOption]:
    """One row per tp option: memory wall, prefill time, and the decode-only best batch and tokens/s.

    A first sizing step for the capstone: replicas needed >= demand / tokens_per_s (prefill then
    takes its share of each replica's time on top).
    """
    key = get_gpu(gpu or problem.gpus[0]).key
    rows = []
    for tp in problem.tp_options:
        engine = _problem_engine(problem, key, tp)
        wall = int(engine.max_batch(problem.context_len, problem.memory_fraction))
        _, prefill_s = engine.prefill(problem.prompt_tokens, 1)
        best, step_s, tps = 0, math.nan, 0.0
        if wall >= 1:
            _, steps = engine.decode(np.arange(1, wall + 1, dtype=np.float64), problem.mean_decode_context)
            ok = np.flatnonzero(np.asarray(steps) <= problem.max_inter_token_latency_s)
            if ok.size:
                best = int(ok[-1]) + 1
                step_s = float(steps[ok[-1]])
                tps = best / step_s
        rows.append(ReplicaOption(key, tp, wall, float(prefill_s), best, step_s, tps))
    return rows


@cache
def _reference(problem: Problem) -> PlanReport:
    best: PlanReport | None = None
    for gpu in problem.gpus:
        key = get_gpu(gpu).key
        for tp in problem.tp_options:
            for n, b in largest_feasible_batches(problem, key, tp).items():
                if b:
                    report = evaluate_plan(problem, Plan(key, n, tp, b))
                    if best is None or report.usd_per_hour < best.usd_per_hour * (1 - 1e-12):
                        best = report
                    break  # more replicas of this tp only cost more
    if best is None:
        raise ValueError(f"problem {problem.name!r} has no feasible plan with up to {problem.max_gpus} GPUs "
                         f"of {', '.join(problem.gpus)}")
    return best


def reference_plan(problem: Problem) -> PlanReport:
    """The cheapest feasible plan: every chip and tp option, the fewest replicas that pass, and at
    that size the largest batch cap that passes (ties: the first chip, then the smaller tp)."""
    return _reference(problem)


@dataclass(frozen=True)
class PlanCheck:
    """The checker's verdict on a learner's plan."""

    report: PlanReport
    reference: PlanReport
    within: float  # allowed cost above the reference, 0.10

    @property
    def cost_ratio(self) -> float:
        return self.report.usd_per_million_tokens / self.reference.usd_per_million_tokens

    @property
    def ok(self) -> bool:
        return self.report.feasible and self.cost_ratio <= 1 + self.within + 1e-12

    @property
    def message(self) -> str:
        r = self.report
        plan = f"{r.plan.n_gpus} x {r.plan.gpu}, TP{r.plan.tp}, batch {r.plan.batch}"
        if not r.feasible:
            return f"✗ {plan} is not feasible ({', '.join(r.failures)}):\n  " + "\n  ".join(r.hints)
        numbers_line = (f"{_ms(r.inter_token_latency_s)} between tokens, TTFT {_ms(r.ttft_s)}, "
                        f"${r.usd_per_million_tokens:.2f} per million generated tokens")
        if not self.ok:
            return (f"✗ {plan} is feasible ({numbers_line}) but costs {self.cost_ratio:.2f} x the reference; "
                    f"within {100 * self.within:.0f} % is the goal. Can fewer GPUs, or another tp, still pass?")
        return f"✓ {plan} is feasible and within {100 * self.within:.0f} % of the best cost: {numbers_line}"


def check_plan(problem: Problem, plan: Plan, *, within: float = 0.10, verbose: bool = True) -> PlanCheck:
    """The capstone checker: is the plan feasible, and within `within` (10 %) of the reference cost?

    Prints one verdict (with a hint per failed constraint) unless verbose=False.
    """
    within = _checks.number("within", within, allow_zero=True)
    result = PlanCheck(evaluate_plan(problem, plan), reference_plan(problem), within)
    if verbose:
        print(result.message)
    return result


def neighbouring_plans(plan: Plan) -> list[Plan]:
    """Plans one step away: one replica more or fewer, tp halved or doubled (same GPUs), batch +-1."""
    out = []
    for n in (plan.n_gpus - plan.tp, plan.n_gpus + plan.tp):
        if n >= plan.tp:
            out.append(Plan(plan.gpu, n, plan.tp, plan.batch))
    for tp in (plan.tp // 2, plan.tp * 2):
        if tp >= 1 and plan.n_gpus % tp == 0 and tp != plan.tp:
            out.append(Plan(plan.gpu, plan.n_gpus, tp, plan.batch))
    for b in (plan.batch - 1, plan.batch + 1):
        if b >= 1:
            out.append(Plan(plan.gpu, plan.n_gpus, plan.tp, b))
    return out


# --- disaggregated prefill / decode -------------------------------------------------------------

@dataclass(frozen=True)
class DisaggregationComparison:
    """GPUs needed by one mixed pool against separate prefill and decode pools, same targets."""

    mixed: PlanReport
    prefill_gpus: int
    prefill_tp: int
    decode_gpus: int
    decode_tp: int
    decode_batch: int

    @property
    def disaggregated_gpus(self) -> int:
        return self.prefill_gpus + self.decode_gpus


def compare_disaggregated(problem: Problem, gpu: str | None = None) -> DisaggregationComparison:
    """Size a prefill pool and a decode pool separately (DistServe, Splitwise) and compare with one mixed pool.

    Prefill pool: the fewest GPUs (any tp option) whose replicas keep prefill under 100 % busy and
    meet the TTFT target (prefill + M/D/1 wait). Decode pool: the fewest GPUs whose replicas meet
    the inter-token target with no prefill stretching their steps, hold the batch in memory and
    deliver the demanded tokens/s. The KV transfer between pools is left out (a lower bound).
    """
    key = get_gpu(gpu or problem.gpus[0]).key
    mixed = reference_plan(dataclasses.replace(problem, gpus=(key,)))
    best_prefill: tuple[int, int] | None = None
    best_decode: tuple[int, int, int] | None = None
    for tp in problem.tp_options:
        engine = _problem_engine(problem, key, tp)
        wall = int(engine.max_batch(problem.prompt_tokens, problem.memory_fraction))
        if wall >= 1:
            _, t = engine.prefill(problem.prompt_tokens, 1)
            t = float(t)
            for n in range(tp, problem.max_gpus + 1, tp):
                p = problem.request_rate_per_s / (n / tp) * t
                ttft = t + p * t / (2 * (1 - p)) if p < 1 else math.inf
                if p < 1 and (problem.max_ttft_s is None or ttft <= problem.max_ttft_s):
                    if best_prefill is None or n < best_prefill[0]:
                        best_prefill = (n, tp)
                    break
        wall = int(engine.max_batch(problem.context_len, problem.memory_fraction))
        if wall < 1:
            continue
        f = decode_frontier(problem.model, key, problem.mean_decode_context, tp=tp,
                            batch=np.arange(1, wall + 1), weight_dtype=problem.weight_dtype,
                            kv_dtype=problem.kv_dtype)
        b = batch_under_latency(dataclasses.replace(f, memory_wall_batch=wall), problem.max_inter_token_latency_s)
        if b:
            per_replica = float(f.tokens_per_s[b - 1])
            n = tp * math.ceil(problem.output_tokens_per_s / per_replica - 1e-12)
            if n <= problem.max_gpus and (best_decode is None or n < best_decode[0]):
                best_decode = (n, tp, int(b))
    if best_prefill is None or best_decode is None:
        raise ValueError(f"problem {problem.name!r}: no disaggregated plan fits in {problem.max_gpus} GPUs of {key}")
    return DisaggregationComparison(mixed, best_prefill[0], best_prefill[1], *best_decode)


# --- the capstone problems ------------------------------------------------------------------------

CAPSTONE = Problem(
    name="llama-3-70b-h100",
    question=("Serve Llama-3-70B at 4K context (3,072-token prompts, 1,024 generated tokens) with at most "
              "50 ms between tokens and a first token within 2 s, for 8 requests per second: how many H100s, "
              "what TP, what batch, what $ per million tokens?"),
    model="llama-3-70b",
    gpus=("h100-sxm",),
    request_rate_per_s=8.0,
)

VARIANTS: Mapping[str, Problem] = MappingProxyType({
    p.name: p for p in (
        CAPSTONE,
        dataclasses.replace(
            CAPSTONE, name="llama-3-70b-h200", gpus=("h200-sxm",),
            question="The same traffic on H200s (141 GB, 4.8 TB/s, pricier per hour): fewer GPUs, and cheaper tokens?"),
        dataclasses.replace(
            CAPSTONE, name="llama-3-70b-h100-20ms", max_inter_token_latency_s=0.020,
            question="The same traffic on H100s, but at most 20 ms between tokens (50 tok/s per user)."),
        dataclasses.replace(
            CAPSTONE, name="deepseek-v3-h200-fp8", model="deepseek-v3", gpus=("h200-sxm",), weight_dtype="fp8",
            kv_dtype="fp8", request_rate_per_s=8.0, max_gpus=64,
            question=("A mixture of experts: DeepSeek-V3 (671B, 37B active) in fp8 on H200s, same traffic and "
                      "targets. Its weights need a whole node; its MLA cache is tiny.")),
    )
})


def get_problem(name: str) -> Problem:
    """A capstone problem by name: one of VARIANTS."""
    if name not in VARIANTS:
        raise ValueError(f"unknown problem {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name]


# =========================================================================== lecturer presets


@dataclass(frozen=True)
class ServingPreset:
    """A lecturer preset for the explorer: `settings` uses the explorer's control names
    (model, gpu, batch, context, kv, dtype, compute_dtype, phase); `extra` holds what the
    explorer cannot show yet (tp, a latency target, GPU count); `lesson` is computed here."""

    name: str
    settings: Mapping[str, object]
    lesson: str
    extra: Mapping[str, object] = field(default_factory=dict)


def _preset_settings(**values: object) -> Mapping[str, object]:
    base = dict(dtype="fp16", compute_dtype="fp16", kv=True, bandwidth_fraction=1.0, phase="decode", prompt=2048)
    return MappingProxyType({**base, **values})


def frontier_presets() -> list[ServingPreset]:
    """Presets for the latency-throughput frontier (8B on one H100 at 4K context), numbers computed."""
    model, gpu, ctx = "llama-3-8b", "h100-sxm", 4096
    out = []
    for target in (0.020, 0.050):
        op = best_decode_batch(model, gpu, ctx, target)
        out.append(ServingPreset(
            f"best batch under {target * 1e3:.0f} ms",
            _preset_settings(model=model, gpu=gpu, batch=op.batch, context=ctx),
            f"At {ctx:,} tokens of context the largest batch with steps under {target * 1e3:.0f} ms is {op.batch}: "
            f"{op.tokens_per_s:,.0f} tok/s from the GPU, {op.per_user_tokens_per_s:.0f} tok/s for each user "
            f"(limited by {op.limited_by}).",
            MappingProxyType(dict(max_inter_token_latency_s=target, tp=1)),
        ))
    f = decode_frontier(model, gpu, ctx)
    out.append(ServingPreset(
        "the memory wall", _preset_settings(model=model, gpu=gpu, batch=f.memory_wall_batch, context=ctx),
        f"Batch {f.memory_wall_batch} is all that fits at {ctx:,} tokens: {f.tokens_per_s[-1]:,.0f} tok/s at "
        f"{f.step_time_s[-1] * 1e3:.0f} ms per token; past it the frontier simply ends.",
        MappingProxyType(dict(tp=1)),
    ))
    return out


def capstone_presets() -> list[ServingPreset]:
    """The capstone's reference answer for each variant, as a preset (tp and GPU count in `extra`)."""
    out = []
    for problem in VARIANTS.values():
        r = reference_plan(problem)
        out.append(ServingPreset(
            f"capstone answer: {problem.name}",
            _preset_settings(model=problem.model, gpu=r.plan.gpu, batch=r.plan.batch, context=problem.context_len,
                             dtype=problem.weight_dtype, compute_dtype=problem.weight_dtype),
            f"{r.plan.n_gpus} x {r.plan.gpu} as {r.replicas:g} TP{r.plan.tp} replicas, batch {r.plan.batch}: "
            f"{r.inter_token_latency_s * 1e3:.0f} ms between tokens, "
            f"${r.usd_per_million_tokens:.2f} per million tokens.",
            MappingProxyType(dict(tp=r.plan.tp, n_gpus=r.plan.n_gpus, problem=problem.name)),
        ))
    return out


__all__ = [
    "CAPSTONE",
    "FALLBACK_ALLREDUCE_LATENCY_S",
    "FALLBACK_TP_LINK_BYTES_PER_S",
    "VARIANTS",
    "BatchingSimulation",
    "ChunkBudget",
    "DisaggregationComparison",
    "Frontier",
    "KVBudget",
    "LatencyTargetError",
    "MemoryWallError",
    "OperatingPoint",
    "Plan",
    "PlanCheck",
    "PlanReport",
    "PrefillFrontier",
    "PrefixSavings",
    "Price",
    "Problem",
    "ReplicaOption",
    "ServingPreset",
    "SpeculativeEstimate",
    "activation_bytes_estimate",
    "aggregate_gpu",
    "batch_under_latency",
    "best_decode_batch",
    "best_prefill_batch",
    "board_power_w",
    "capstone_presets",
    "check_plan",
    "chunked_prefill_budget",
    "compare_disaggregated",
    "decode_frontier",
    "evaluate_plan",
    "example_price",
    "expected_tokens_per_verify",
    "fallback_tp_comm_time_s",
    "frontier_presets",
    "get_problem",
    "kv_cache_budget",
    "largest_feasible_batches",
    "native_tp",
    "neighbouring_plans",
    "prefill_flops",
    "prefill_frontier",
    "prefix_cache_savings",
    "price_names",
    "reference_plan",
    "replica_options",
    "simulate_batching",
    "speculative_decoding",
    "tokens_per_joule",
    "usd_per_million_tokens",
]

"""Two serving-engine ideas about the batch: continuous batching (a seeded simulation of
arrivals) and the paged KV budget that makes `max_batch` an upper bound."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from roofline_lab import _checks
from roofline_lab.hardware import Accelerator
from roofline_lab.models import Model, get_model
from roofline_lab.serving._engine import (
    _Engine,
)
from roofline_lab.serving.frontier import Frontier

#: Bytes per activation value in `activation_bytes_estimate` (fp16/bf16 activations).
ACTIVATION_BYTES = 2.0


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

"""Disaggregated prefill and decode (DistServe, Splitwise): each pool sized for its regime,
against one mixed pool at the same latency targets."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from roofline_lab.hardware import get_gpu
from roofline_lab.serving.capstone import PlanReport, Problem, _problem_engine, reference_plan
from roofline_lab.serving.frontier import batch_under_latency, decode_frontier

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

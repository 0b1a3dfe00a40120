"""The capstone: a deployment Problem, a learner's Plan, `evaluate_plan` naming each failed
constraint, the reference (cheapest feasible) plan, the checker, and the problem variants."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

import numpy as np

from roofline_lab import _checks
from roofline_lab.hardware import get_gpu
from roofline_lab.serving._engine import (
    SECONDS_PER_HOUR,
    TOKENS_PER_MILLION,
    _Engine,
    _ms,
    _price,
)
from roofline_lab.serving.cost import example_price, price_names


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

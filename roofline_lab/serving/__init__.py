"""Serving on the roofline: the latency-throughput frontier, latency targets, cost and energy
per token, serving-engine ideas as numbers, and the capstone's deployment-plan checker.

Everything here is built on the step model (`decode_step`, `prefill_step`, `mixed_step`,
`max_batch`, all taking `tp`): a decode step's time *is* the inter-token latency every sequence
in the batch sees, so sweeping the batch traces the curve practitioners choose a deployment on:

    per-user speed   = 1 / step time                  (tokens/s each user sees)
    throughput / GPU = batch / step time / GPUs        (what the bill is divided by)
    $ per 1M tokens  = GPU $/hour / (3600 * tokens/s) * 1e6

Modules, by job (every public name is re-exported here, so `roofline_lab.serving.X` works):
- `frontier`: decode and prefill frontiers, the best batch under a latency target;
- `cost`: $ per million tokens, tokens per joule, example prices;
- `batching`: continuous-batching simulation, the paged KV budget;
- `prefill_ideas`: prefix caching, speculative decoding, chunked prefill;
- `capstone`: Problem, Plan, evaluate_plan, reference_plan, check_plan, the variants;
- `disaggregation`: separate prefill and decode pools against one mixed pool.

All quantities are SI (seconds, bytes, FLOP, FLOP/s, watts, joules); money is US dollars.
Functions that accept numpy arrays say so. Needs only numpy.
"""

from __future__ import annotations

from roofline_lab.serving._engine import (
    SECONDS_PER_HOUR,
    STEP_OPTION_DEFAULTS,
    TOKENS_PER_MILLION,
    LatencyTargetError,
    MemoryWallError,
)
from roofline_lab.serving.batching import (
    ACTIVATION_BYTES,
    BatchingSimulation,
    KVBudget,
    activation_bytes_estimate,
    kv_cache_budget,
    simulate_batching,
)
from roofline_lab.serving.capstone import (
    CAPSTONE,
    VARIANTS,
    Plan,
    PlanCheck,
    PlanReport,
    Problem,
    ReplicaOption,
    check_plan,
    evaluate_plan,
    get_problem,
    largest_feasible_batches,
    neighbouring_plans,
    reference_plan,
    replica_options,
)
from roofline_lab.serving.cost import (
    Price,
    board_power_w,
    example_price,
    price_names,
    tokens_per_joule,
    usd_per_million_tokens,
)
from roofline_lab.serving.disaggregation import DisaggregationComparison, compare_disaggregated
from roofline_lab.serving.frontier import (
    Frontier,
    OperatingPoint,
    PrefillFrontier,
    batch_under_latency,
    best_decode_batch,
    best_prefill_batch,
    decode_frontier,
    prefill_frontier,
)
from roofline_lab.serving.prefill_ideas import (
    ChunkBudget,
    PrefixSavings,
    SpeculativeEstimate,
    chunked_prefill_budget,
    expected_tokens_per_verify,
    prefill_flops,
    prefix_cache_savings,
    speculative_decoding,
)

__all__ = [
    "ACTIVATION_BYTES",
    "CAPSTONE",
    "SECONDS_PER_HOUR",
    "STEP_OPTION_DEFAULTS",
    "TOKENS_PER_MILLION",
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
    "SpeculativeEstimate",
    "activation_bytes_estimate",
    "batch_under_latency",
    "best_decode_batch",
    "best_prefill_batch",
    "board_power_w",
    "check_plan",
    "chunked_prefill_budget",
    "compare_disaggregated",
    "decode_frontier",
    "evaluate_plan",
    "example_price",
    "expected_tokens_per_verify",
    "get_problem",
    "kv_cache_budget",
    "largest_feasible_batches",
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

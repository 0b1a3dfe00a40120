"""Serving-engine ideas that trade FLOPs for time: prefix caching (prefill FLOPs saved),
speculative decoding (idle FLOPs spent on drafted tokens) and chunked prefill (a token budget
chosen against an inter-token target)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from roofline_lab import _checks, step_model
from roofline_lab import attention as _attention
from roofline_lab.hardware import Accelerator
from roofline_lab.models import Model, get_model
from roofline_lab.serving._engine import (
    Array,
    LatencyTargetError,
    _Engine,
    _ms,
)
from roofline_lab.step_model import attention_flops_per_token

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
    verify = np.maximum(linear.weight_bytes / bw, linear.flops / peak) + np.maximum(kv_bytes / bw, attn_flops / peak)
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

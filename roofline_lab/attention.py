"""Attention's share of a step: the FLOPs of Q.K^T and softmax(..).V, and the KV cache it reads.

Attention is its own operator in a step (its own kernels), so the step model puts it on
its own roofline: max(KV bytes / bandwidth, attention FLOPs / peak). Counts are per step;
arrays broadcast. All quantities are SI: FLOP, bytes.
"""

from __future__ import annotations

import numpy as np

from roofline_lab.models import Model

Array = float | np.ndarray


def flops_per_pair(m: Model) -> float:
    """FLOPs one query head spends on one cached token: 2 * head_dim for Q.K^T, 2 * head_dim for P.V."""
    return 4.0 * m.head_dim


def decode_flops(m: Model, batch: Array, context_len: Array) -> Array:
    """Attention FLOPs of one decode step: each of `batch` new tokens attends to context_len cached ones."""
    return batch * m.n_layers * m.n_heads * flops_per_pair(m) * context_len


def prefill_flops(m: Model, batch: Array, prompt_len: Array) -> Array:
    """Causal attention FLOPs of `batch` prompts: token i attends to i tokens, L (L + 1) / 2 pairs."""
    return batch * m.n_layers * m.n_heads * flops_per_pair(m) * prompt_len * (prompt_len + 1) / 2


def decode_kv_bytes(m: Model, batch: Array, context_len: Array, kv_dtype: str) -> Array:
    """KV-cache bytes one decode step reads: every sequence's cached tokens, every layer."""
    return batch * context_len * m.kv_bytes_per_token(kv_dtype)


def resident_kv_bytes(m: Model, context_len: Array, kv_dtype: str) -> Array:
    """KV-cache bytes one sequence of context_len tokens holds in memory."""
    return context_len * m.kv_bytes_per_token(kv_dtype)

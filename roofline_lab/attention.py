"""Attention's share of a step: the FLOPs of Q.K^T and softmax(..).V, and the KV cache it reads.

Attention is its own operator in a step (its own kernels), so the step model puts it on
its own roofline: max(KV bytes / bandwidth, attention FLOPs / peak). Three shapes:

- MHA/GQA: per query head per cached token, 2 * head_dim FLOP for Q.K^T and as many for P.V.
- MLA (DeepSeek): decode runs the absorbed form serving engines use (FlashMLA): each head
  scores the cached latent (kv_lora_rank + rope dims) and mixes the kv_lora_rank part,
  2 (kv_lora_rank + qk_rope_head_dim) + 2 kv_lora_rank FLOP (2,176 for V3); prefill runs
  the expanded form, 2 (head_dim + rope) + 2 head_dim, with qk_nope_head_dim = v_head_dim
  = head_dim (true for V3).
- Limited layers: n_local_layers see only `attention_window` tokens: the last W ("sliding",
  Mistral, Gemma 3, gpt-oss) or those since the last multiple of W ("chunked", Llama 4).
  They read and hold fewer tokens of KV; the other layers see the whole context.

Counts are per step; arrays broadcast. All quantities are SI: FLOP, bytes.
"""

from __future__ import annotations

import numpy as np

from roofline_lab.dtypes import dtype_bytes
from roofline_lab.models import Model

Array = float | np.ndarray


def flops_per_pair(m: Model, *, absorbed: bool = True) -> float:
    """FLOPs one query head spends on one cached token (absorbed: MLA's decode form)."""
    if not m.kv_lora_rank:
        return 4.0 * m.head_dim
    if absorbed:
        return 2.0 * (m.kv_lora_rank + m.qk_rope_head_dim) + 2.0 * m.kv_lora_rank
    return 2.0 * (m.head_dim + m.qk_rope_head_dim) + 2.0 * m.head_dim


def kv_bytes_per_layer_token(m: Model, kv_dtype: str) -> float:
    """KV-cache bytes one token leaves in one layer: K and V of every KV head, or MLA's latent."""
    return (m.kv_latent_dim or 2 * m.n_kv_heads * m.head_dim) * dtype_bytes(kv_dtype)


def _limited(m: Model, context_len: Array) -> Array:
    """Cached tokens a limited layer attends to after context_len tokens."""
    if m.window_kind == "chunked":
        return np.mod(context_len, m.attention_window)
    return np.minimum(context_len, m.attention_window)


def attended(m: Model, context_len: Array) -> Array:
    """Layer-tokens one new token attends to after context_len cached tokens, summed over layers."""
    full = (m.n_layers - m.n_local_layers) * context_len
    return full + m.n_local_layers * _limited(m, context_len) if m.n_local_layers else full


def held(m: Model, context_len: Array) -> Array:
    """Layer-tokens of KV a sequence of context_len tokens keeps (a chunk may fill to W)."""
    full = (m.n_layers - m.n_local_layers) * context_len
    return full + m.n_local_layers * np.minimum(context_len, m.attention_window) if m.n_local_layers else full


def causal_pairs(m: Model, prompt_len: Array) -> Array:
    """(query, key) pairs of one prompt's causal attention, summed over layers.

    A full layer: token i attends to i tokens, L (L + 1) / 2 pairs. A sliding layer caps each
    at W; a chunked layer restarts at every multiple of W.
    """
    full = (m.n_layers - m.n_local_layers) * prompt_len * (prompt_len + 1) / 2
    if not m.n_local_layers:
        return full
    w = m.attention_window
    if m.window_kind == "chunked":
        chunks, rest = np.floor_divide(prompt_len, w), np.mod(prompt_len, w)
        local = chunks * w * (w + 1) / 2 + rest * (rest + 1) / 2
    else:
        local = np.where(prompt_len <= w, prompt_len * (prompt_len + 1) / 2, w * (w + 1) / 2 + (prompt_len - w) * w)
    return full + m.n_local_layers * local


def decode_flops(m: Model, batch: Array, context_len: Array) -> Array:
    """Attention FLOPs of one decode step: each of `batch` new tokens attends to its cached ones."""
    return batch * m.n_heads * flops_per_pair(m) * attended(m, context_len)


def prefill_flops(m: Model, batch: Array, prompt_len: Array) -> Array:
    """Causal attention FLOPs of `batch` prompts of prompt_len tokens."""
    return batch * m.n_heads * flops_per_pair(m, absorbed=False) * causal_pairs(m, prompt_len)


def decode_kv_bytes(m: Model, batch: Array, context_len: Array, kv_dtype: str) -> Array:
    """KV-cache bytes one decode step reads: the tokens each layer attends to, every sequence."""
    return batch * attended(m, context_len) * kv_bytes_per_layer_token(m, kv_dtype)


def resident_kv_bytes(m: Model, context_len: Array, kv_dtype: str) -> Array:
    """KV-cache bytes one sequence of context_len tokens holds in memory."""
    return held(m, context_len) * kv_bytes_per_layer_token(m, kv_dtype)

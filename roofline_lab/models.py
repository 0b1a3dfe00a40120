"""Model presets: data/models.toml, with the weight and KV-cache sizes each shape implies.

Lab presets (8b-lab, 70b-lab) carry no vocabulary: every one of their n_params weights is
streamed each step at exactly the dtype's bytes, as in the seed. Real checkpoints (a row
with hidden_size and vocab_size) are read the way serving engines read them: the input
embedding is a gather of one row per token, the output head a matmul read every step,
narrow dtypes keep the head and embedding in 16 bits, and int4 carries group scales.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from roofline_lab._lookup import Catalog
from roofline_lab.dtypes import canonical_dtype, dtype_bytes

#: int4 checkpoints (GPTQ/AWQ style) store a 16-bit scale and a 16-bit zero per group of 128
#: weights: 4 + 32/128 = 4.25 bits a weight.
INT4_GROUP_SIZE = 128
INT4_BITS_PER_WEIGHT = 4 + 2 * 16 / INT4_GROUP_SIZE
#: Bytes a weight of the output head and input embedding keeps when the body is quantized.
HEAD_BYTES = 2.0


def kv_values_per_token(n_layers: float, n_kv_heads: float, head_dim: float) -> float:
    """Values a token leaves in an MHA/GQA KV cache: 2 (K and V) * n_layers * n_kv_heads * head_dim."""
    return 2 * n_layers * n_kv_heads * head_dim


@dataclass(frozen=True)
class Model:
    """A transformer's size and attention shape, from its published config."""

    key: str
    name: str
    n_params: float
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    source: str
    active_params: float = 0.0  # 0 means "same as n_params" (dense models)
    kv_latent_dim: int = 0  # MLA: width of the cached latent per layer; 0 for MHA/GQA
    hidden_size: int = 0
    intermediate_size: int = 0
    vocab_size: int = 0
    tie_embeddings: bool = False
    # mixture of experts (0 = dense)
    n_routed_experts: int = 0
    experts_per_token: int = 0
    n_shared_experts: int = 0
    moe_intermediate_size: int = 0
    n_dense_layers: int = 0
    moe_layer_step: int = 1
    routed_expert_params: float = 0.0
    # multi-head latent attention (0 = none)
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    # limited attention: n_local_layers of the n_layers see only attention_window tokens
    n_local_layers: int = 0
    attention_window: int = 0
    window_kind: str = ""
    note: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def flop_params(self) -> float:
        """Parameters that multiply each token (active experts only, for MoE), as published."""
        return self.active_params or self.n_params

    @property
    def is_checkpoint(self) -> bool:
        """A real model's config (vocabulary and width known), not a lab rounding."""
        return self.vocab_size > 0 and self.hidden_size > 0

    @property
    def head_params(self) -> float:
        """Output head (vocab x hidden) weights: read every step; 0 for lab presets."""
        return float(self.vocab_size * self.hidden_size) if self.is_checkpoint else 0.0

    @property
    def embedding_params(self) -> float:
        """Input embedding weights stored apart from the head (untied): gathered, never streamed."""
        return 0.0 if self.tie_embeddings else self.head_params

    @property
    def n_moe_layers(self) -> int:
        """Layers with routed experts: every moe_layer_step-th one after the n_dense_layers leading ones."""
        if not self.n_routed_experts:
            return 0
        return len(range(self.n_dense_layers + self.moe_layer_step - 1, self.n_layers, self.moe_layer_step))

    def kv_elements_per_token(self) -> int:
        """Cached values per token: K and V for every KV head of every layer, or MLA's latent."""
        if self.kv_latent_dim:
            return self.n_layers * self.kv_latent_dim
        return int(kv_values_per_token(self.n_layers, self.n_kv_heads, self.head_dim))

    def kv_bytes_per_token(self, kv_dtype: str = "fp16") -> float:
        """KV-cache bytes one token adds (Llama-3-8B in fp16: 131,072 = 128 KiB)."""
        return self.kv_elements_per_token() * dtype_bytes(kv_dtype)

    def body_bytes_per_param(self, weight_dtype: str = "fp16") -> float:
        """Stored bytes of a transformer-block weight: the dtype's, plus group scales for int4 checkpoints."""
        if self.is_checkpoint and canonical_dtype(weight_dtype) == "int4":
            return INT4_BITS_PER_WEIGHT / 8
        return dtype_bytes(weight_dtype)

    def head_bytes_per_param(self, weight_dtype: str = "fp16") -> float:
        """Bytes of an output-head or embedding weight: kept in 16 bits when the body is narrower."""
        return max(dtype_bytes(weight_dtype), HEAD_BYTES)

    def weight_bytes(self, weight_dtype: str = "fp16") -> float:
        """Bytes of all weights as stored (8B lab preset in fp16: 16e9; int4 Llama-3-8B: ~5.8e9)."""
        outer = self.head_params + self.embedding_params
        body = (self.n_params - outer) * self.body_bytes_per_param(weight_dtype)
        return body + outer * self.head_bytes_per_param(weight_dtype)

    def routed_fraction_read(self, tokens: Any) -> Any:
        """Expected share of the routed experts a step of `tokens` tokens touches.

        Uniform top-k routing: each expert is missed by one token with probability 1 - k/E,
        so a layer touches E (1 - (1 - k/E)^B) of its E experts for B tokens. Arrays OK.
        """
        return 1 - (1 - self.experts_per_token / self.n_routed_experts) ** np.asarray(tokens, dtype=float)

    def streamed_weight_bytes(self, weight_dtype: str, tokens: Any) -> Any:
        """Expected weight bytes a step of `tokens` tokens reads (decode: tokens = batch). Arrays OK.

        Always read: attention, dense layers, shared experts, the output head; MoE adds the
        routed experts the batch touches; an untied embedding adds one gathered row a token.
        """
        body, head = self.body_bytes_per_param(weight_dtype), self.head_bytes_per_param(weight_dtype)
        tokens = np.asarray(tokens, dtype=float)
        if self.n_routed_experts:
            always = self.n_params - self.routed_expert_params - self.embedding_params - self.head_params
            blocks = always + self.routed_expert_params * self.routed_fraction_read(tokens)
        elif self.flop_params < self.n_params:  # MoE row without its expert shape: the v1 bound
            blocks = np.minimum(self.n_params, self.flop_params * tokens) - self.head_params - self.embedding_params
        else:
            blocks = self.n_params - self.head_params - self.embedding_params + 0 * tokens
        gathered = np.minimum(tokens, self.vocab_size) * self.hidden_size if self.embedding_params else 0 * tokens
        return _scalar(blocks * body + (self.head_params + gathered) * head)

    def streamed_bytes_per_flop_param(self, weight_dtype: str = "fp16") -> float:
        """Bytes a full read of the streamed weights (all but the gathered embedding) costs per
        weight that multiplies a token: the dtype's bytes for a dense model, more for MoE."""
        gathered = self.embedding_params * self.head_bytes_per_param(weight_dtype)
        return (self.weight_bytes(weight_dtype) - gathered) / (self.block_params_per_token + self.head_params)

    @property
    def block_params_per_token(self) -> float:
        """Weights of the transformer blocks (no embedding, no head) that multiply each token."""
        if self.n_routed_experts:
            routed = self.routed_expert_params * self.experts_per_token / self.n_routed_experts
            return self.n_params - self.routed_expert_params - self.embedding_params - self.head_params + routed
        return self.flop_params - self.embedding_params - self.head_params


def _scalar(x: Any) -> Any:
    return float(x) if np.ndim(x) == 0 else x


def _model(key: str, row: dict[str, Any]) -> Model:
    row = dict(row)
    row["aliases"] = tuple(row.get("aliases", ()))
    return Model(key=key, **row)


@cache
def _catalog() -> Catalog[Model]:
    return Catalog("model", "models.toml", "model", _model)


def model_names() -> list[str]:
    """Preset keys in file order (the course's '8b-lab' first)."""
    return list(_catalog().items)


def get_model(name: str | Model) -> Model:
    """Look up a model preset by key, alias or name, any case: get_model('8B') -> 8b-lab."""
    return name if isinstance(name, Model) else _catalog().get(name)

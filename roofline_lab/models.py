"""Model presets: data/models.toml, with the KV-cache size each shape implies."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from roofline_lab._lookup import Catalog
from roofline_lab.dtypes import dtype_bytes


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
        """Parameters that multiply each token (active experts only, for MoE)."""
        return self.active_params or self.n_params

    def kv_elements_per_token(self) -> int:
        """Cached values per token: K and V for every KV head of every layer, or MLA's latent."""
        if self.kv_latent_dim:
            return self.n_layers * self.kv_latent_dim
        return int(kv_values_per_token(self.n_layers, self.n_kv_heads, self.head_dim))

    def kv_bytes_per_token(self, kv_dtype: str = "fp16") -> float:
        """KV-cache bytes one token adds (Llama-3-8B in fp16: 131,072 = 128 KiB)."""
        return self.kv_elements_per_token() * dtype_bytes(kv_dtype)

    def weight_bytes(self, weight_dtype: str = "fp16") -> float:
        """Bytes of all weights in a dtype (8B in fp16: 16e9)."""
        return self.n_params * dtype_bytes(weight_dtype)

    @property
    def head_params(self) -> float:
        """Output-head weights counted apart from the blocks (none yet: every weight streams alike)."""
        return 0.0

    @property
    def block_params_per_token(self) -> float:
        """Weights that multiply each token, the head aside."""
        return self.flop_params - self.head_params

    def streamed_weight_bytes(self, weight_dtype: str, tokens: Any) -> Any:
        """Weight bytes a step of `tokens` tokens reads: all of them, or min(all, active x tokens) for MoE."""
        if self.flop_params == self.n_params:
            return self.weight_bytes(weight_dtype)
        return np.minimum(1.0, self.flop_params * np.asarray(tokens, float) / self.n_params) * self.weight_bytes(weight_dtype)

    def streamed_bytes_per_flop_param(self, weight_dtype: str = "fp16") -> float:
        """Bytes a full read of the weights costs per weight that multiplies a token."""
        return self.weight_bytes(weight_dtype) / (self.block_params_per_token + self.head_params)


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

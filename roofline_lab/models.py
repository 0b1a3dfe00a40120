"""Model presets: data/models.toml, with the KV-cache size each shape implies."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

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

"""Cost and energy per token: $ per million tokens, tokens per joule from the catalog's board
power, and the example on-demand prices of data/prices.toml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from roofline_lab import _checks
from roofline_lab._lookup import Catalog
from roofline_lab.hardware import Accelerator, get_gpu
from roofline_lab.serving._engine import (
    SECONDS_PER_HOUR,
    TOKENS_PER_MILLION,
    Array,
    _price,
)


def usd_per_million_tokens(usd_per_gpu_hour: Array, tokens_per_s: Array, n_gpus: Array = 1) -> Array:
    """Dollars per million tokens: n_gpus * GPU $/hour / (3600 * tokens/s) * 1e6. Arrays OK.

    One $3.60/hour GPU producing 1,000 tok/s: 3.60 / 3.6e6 * 1e6 = $1.00 per million tokens.
    Works for decode (generated tokens/s) and prefill (prompt tokens/s) alike.
    """
    if isinstance(usd_per_gpu_hour, (list, tuple, np.ndarray)):
        price = np.asarray(usd_per_gpu_hour, dtype=float)
        if not np.isfinite(price).all() or (price < 0).any():
            raise ValueError(
                f"usd_per_gpu_hour must be a price in US dollars >= 0 everywhere, got {usd_per_gpu_hour!r}")
    else:
        price = _price("usd_per_gpu_hour", usd_per_gpu_hour)
    tps = _checks.numbers_array("tokens_per_s", tokens_per_s)
    n = _checks.numbers_array("n_gpus", n_gpus, integer=True)
    return n * price / (SECONDS_PER_HOUR * tps) * TOKENS_PER_MILLION


def board_power_w(gpu: Accelerator | str) -> float:
    """The catalog's board power (TDP) of a GPU in watts; a clear error if the catalog has none."""
    g = get_gpu(gpu)
    power = getattr(g, "board_power_w", None)
    if not power:
        raise ValueError(f"the catalog has no board_power_w for {g.name}; pass board_power_w=... (watts, its TDP)")
    return float(power)


def tokens_per_joule(tokens_per_s: Array, board_power_w: Array, n_gpus: Array = 1) -> Array:
    """Tokens per joule at full board power: tokens/s / (n_gpus * watts). Arrays OK.

    An upper-bound style figure: it charges every GPU its TDP (a real board often draws less
    in memory-bound decode). 8,000 tok/s on one 400 W A100: 20 tokens per joule.
    """
    tps = _checks.numbers_array("tokens_per_s", tokens_per_s)
    watts = _checks.numbers_array("board_power_w", board_power_w)
    n = _checks.numbers_array("n_gpus", n_gpus, integer=True)
    return tps / (n * watts)


@dataclass(frozen=True)
class Price:
    """One example on-demand price from data/prices.toml."""

    key: str
    name: str
    usd_per_gpu_hour: float
    provider: str
    date: str
    label: str
    source: str
    note: str = ""


def _price_row(key: str, row: dict[str, Any]) -> Price:
    return Price(key=key, name=row["name"], usd_per_gpu_hour=_price(f"prices.toml {key}", row["usd_per_gpu_hour"]),
                 provider=row["provider"], date=row["date"], label=row["label"], source=row["source"],
                 note=row.get("note", ""))


@cache
def _prices() -> Catalog[Price]:
    return Catalog("price", "prices.toml", "price", _price_row)


def price_names() -> list[str]:
    """GPU keys that have an example price."""
    return list(_prices().items)


def example_price(gpu: Accelerator | str) -> Price:
    """The example on-demand price for a GPU (see Price.label for provider, date and source)."""
    key = get_gpu(gpu).key
    if key not in _prices().items:
        raise ValueError(f"no example price for {key!r} in prices.toml; pass usd_per_gpu_hour=... "
                         f"(GPUs with a price: {', '.join(price_names())})")
    return _prices().items[key]

"""The explorer's state -> view function keeps what a batch move cannot change (a cache) safely."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from roofline_lab import explorer
from roofline_lab.explorer import ExplorerState, explorer_view


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) if isinstance(getattr(a, f.name), np.ndarray)
               else getattr(a, f.name) == getattr(b, f.name) for f in fields(a) if f.name != "step")


def test_a_view_after_batch_moves_equals_one_computed_afresh():
    state = ExplorerState(gpu="h100-sxm", model="llama-3-70b", kv=True, context_len=8192, tp=4)
    explorer_view(state)  # fills the cache
    for batch in (1, 8, 64, 512):
        moved = replace(state, batch=batch)
        cached = explorer_view(moved)
        explorer._batch_free_steps.cache_clear()
        assert _same(cached, explorer_view(moved))


def test_a_batch_move_asks_the_step_model_only_for_its_own_point():
    explorer._batch_free_steps.cache_clear()
    state = ExplorerState(kv=True, context_len=4096)
    for batch in (1, 2, 4, 8):
        explorer_view(replace(state, batch=batch))
    info = explorer._batch_free_steps.cache_info()
    assert (info.misses, info.hits) == (1, 3)


def test_changing_a_view_in_place_leaves_the_next_view_as_it_was():
    state = ExplorerState(kv=True, context_len=4096)
    first = explorer_view(state)
    keep = {name: np.array(getattr(first, name)) for name in ("decode_x", "decode_y", "prefill_x", "tokens_per_s",
                                                              "step_ms", "comm_ms")}
    for name in keep:
        getattr(first, name)[...] = -1.0
    again = explorer_view(replace(state, batch=2))
    for name, values in keep.items():
        assert np.array_equal(getattr(again, name), values), name

"""critical_batch and mixed_step: the two helpers notebooks 05, 06 and 09 lean on."""

from __future__ import annotations

import numpy as np
import pytest

import roofline_lab as rl
from roofline_lab import reference


def test_critical_batch_is_the_seed_156_on_the_lab_a100():
    assert rl.critical_batch("8b-lab", "a100-lab") == pytest.approx(156.0)


def test_critical_batch_halves_with_int8_weights_and_fp16_math():
    w8a16 = rl.critical_batch("8b-lab", "a100-lab", weight_dtype="int8", compute_dtype="fp16")
    assert w8a16 == pytest.approx(78.0)


def test_critical_batch_w8a8_doubles_the_peak_and_undoes_the_halving():
    w8a8 = rl.critical_batch("8b-lab", "a100-lab", weight_dtype="int8", compute_dtype="int8")
    assert w8a8 == pytest.approx(rl.critical_batch("8b-lab", "a100-lab"))


def test_critical_batch_is_where_decode_step_flips_to_compute_bound():
    for gpu, wd, cd in [("a100-lab", "fp16", None), ("h100-sxm", "fp8", None), ("a100-lab", "int4", "fp16")]:
        tokens = rl.critical_batch("8b-lab", gpu, weight_dtype=wd, compute_dtype=cd)
        below = rl.decode_step("8b-lab", gpu, np.floor(tokens * 0.99), weight_dtype=wd, compute_dtype=cd)
        above = rl.decode_step("8b-lab", gpu, np.ceil(tokens * 1.01), weight_dtype=wd, compute_dtype=cd)
        assert not below.compute_bound and above.compute_bound


def test_critical_batch_agrees_with_the_seed_function_for_dense_models():
    g = rl.get_gpu("a100-80gb-sxm")
    want = reference.critical_batch_size(g.peak_flops("fp16"), g.mem_bandwidth, 2)
    assert rl.critical_batch("llama-3-70b", g) == pytest.approx(want)


def test_critical_batch_rejects_a_bad_bandwidth_fraction():
    with pytest.raises(ValueError, match="bandwidth_fraction"):
        rl.critical_batch("8b-lab", "a100-lab", bandwidth_fraction=1.5)


def test_mixed_step_reads_the_weights_once():
    m = rl.mixed_step("8b-lab", "a100-lab", 32, 128)
    d = rl.decode_step("8b-lab", "a100-lab", 32)
    p = rl.prefill_step("8b-lab", "a100-lab", 128)
    assert m.weight_bytes == d.weight_bytes == p.weight_bytes
    assert m.flops == pytest.approx(d.flops + p.flops)
    assert m.time_s < d.time_s + p.time_s


def test_a_prefill_chunk_rides_free_on_a_memory_bound_decode_step():
    alone = rl.decode_step("8b-lab", "a100-lab", 32, attention=False)
    with_chunk = rl.mixed_step("8b-lab", "a100-lab", 32, 96, attention=False)
    assert with_chunk.time_s == pytest.approx(alone.time_s, rel=0.01)
    assert with_chunk.tokens == 128


def test_mixed_step_without_kv_or_attention_equals_a_decode_batch_of_all_tokens():
    chunks = np.array([1, 64, 124, 500])
    m = rl.mixed_step("8b-lab", "a100-lab", 32, chunks, attention=False, kv_dtype="fp16")
    d = rl.decode_step("8b-lab", "a100-lab", 32 + chunks, attention=False)
    assert np.allclose(m.flops, d.flops)


def test_mixed_step_rejects_a_zero_chunk():
    with pytest.raises(ValueError, match="prefill_tokens must be a whole number > 0, got 0"):
        rl.mixed_step("8b-lab", "a100-lab", 32, 0)

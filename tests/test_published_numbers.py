"""Published numbers from the seed's notes and 'going further', through the model-level API."""

import numpy as np
import pytest

import roofline_lab as rl

KIB = 1024


def test_h100_ridge_is_about_295_flop_per_byte():
    assert rl.get_gpu("h100-sxm").ridge("fp16") == pytest.approx(295.4, abs=0.05)


def test_h100_decode_ceiling_for_8b_fp16_is_about_209_tokens_per_s():
    step = rl.decode_step("8b-lab", "h100-sxm", batch=1, weight_dtype="fp16")
    assert step.tokens_per_s == pytest.approx(209.4, abs=0.05)


def test_a100_datasheet_bandwidth_gives_ridge_153_and_the_course_rounding_156():
    assert rl.get_gpu("a100-80gb-sxm").ridge() == pytest.approx(153.0, abs=0.05)
    assert rl.get_gpu("a100-lab").ridge() == 156.0


def test_int4_weights_stream_at_500_steps_per_s():
    step = rl.decode_step("8b-lab", "a100-lab", weight_dtype="int4", compute_dtype="fp16")
    assert step.weight_bytes == 4e9
    assert 1 / step.time_s == pytest.approx(500.0)


def test_8b_decode_step_takes_at_least_8_ms():
    assert rl.decode_step("8b-lab", "a100-lab").time_s == pytest.approx(8e-3)


def test_1b_decode_step_is_about_a_millisecond():
    assert rl.decode_step("llama-3.2-1b", "a100-lab").time_s == pytest.approx(1.236e-3, rel=1e-3)


def test_llama3_8b_kv_cache_is_128_kib_per_token():
    m = rl.get_model("llama-3-8b")
    assert rl.kv_bytes_per_token(m.n_layers, m.n_kv_heads, m.head_dim, 2) == 128 * KIB
    assert m.kv_bytes_per_token("fp16") == 128 * KIB


def test_mla_caches_a_576_wide_latent_per_layer():
    assert rl.get_model("deepseek-v3").kv_bytes_per_token("bf16") == 61 * 576 * 2


def test_long_context_wall_for_8b_batch_64_is_about_1907_tokens():
    wall = rl.long_context_wall(8e9, 2, 64, 128 * KIB)
    assert wall == pytest.approx(1907.35, abs=0.01)
    step = rl.decode_step("8b-lab", "a100-lab", batch=64, context_len=round(wall))
    assert step.kv_bytes == pytest.approx(step.weight_bytes, rel=1e-3)


def test_batch_64_reads_the_same_weights_for_8000_tokens_per_s_at_41_percent():
    step = rl.decode_step("8b-lab", "a100-lab", batch=64)
    assert step.tokens_per_s == pytest.approx(8000.0)
    assert step.flops_utilization == pytest.approx(64 / 156)
    assert not step.compute_bound


def test_decode_turns_compute_bound_at_the_critical_batch_of_156():
    steps = rl.decode_step("8b-lab", "a100-lab", batch=np.array([155, 156]))
    assert steps.compute_bound.tolist() == [False, True]


def test_prefill_2048_is_compute_bound_and_int4_weights_do_not_speed_it_up():
    fp16 = rl.prefill_step("8b-lab", "a100-lab", prompt_len=2048, attention=False)
    w4a16 = rl.prefill_step(
        "8b-lab", "a100-lab", 2048, weight_dtype="int4", compute_dtype="fp16", attention=False
    )
    assert fp16.compute_bound and w4a16.compute_bound
    assert w4a16.time_s == pytest.approx(fp16.time_s)


def test_w8a8_doubles_the_peak_so_the_int8_ridge_is_312():
    step = rl.decode_step("8b-lab", "a100-lab", weight_dtype="int8")
    assert step.peak_flops == 624e12
    assert step.ridge == pytest.approx(312.0)


def test_training_costs_three_times_inference():
    assert rl.training_flops(8e9, 1e12) == pytest.approx(3 * rl.inference_flops(8e9, 1e12))
    assert rl.inference_flops(8e9, 1) == 16e9


def test_8b_fp16_on_an_80gb_a100_fits_about_520_sequences_of_1024_tokens():
    # (80 GiB - 16e9) bytes free / (1024 tokens * 131,072 bytes) = 520.8 (476 with a decimal 80 GB)
    assert rl.get_gpu("a100-lab").memory_bytes == 80 * 2**30
    assert rl.max_batch("8b-lab", "a100-lab", 1024) == 520
    assert rl.max_batch("8b-lab", "a100-lab", 1024, memory_fraction=0.9) == 456  # vLLM's default share


def test_405b_in_fp16_fits_on_no_single_gpu_in_the_catalog():
    assert all(rl.max_batch("llama-3.1-405b", g, 1) == 0 for g in rl.gpu_names())


def test_bandwidth_fraction_of_70_percent_stretches_the_memory_bound_step():
    full = rl.decode_step("8b-lab", "a100-lab")
    derated = rl.decode_step("8b-lab", "a100-lab", bandwidth_fraction=0.7)
    assert derated.time_s == pytest.approx(full.time_s / 0.7)


def test_attention_flops_grow_with_context():
    short = rl.decode_step("8b-lab", "a100-lab", batch=8, context_len=0)
    long = rl.decode_step("8b-lab", "a100-lab", batch=8, context_len=8192)
    assert long.flops - short.flops == pytest.approx(8 * 4 * 32 * 32 * 128 * 8192)

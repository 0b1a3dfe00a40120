"""Step model v2 (issue 11): each operator on its own roofline, derating, overhead, memory fit."""

from dataclasses import replace

import numpy as np
import pytest

import roofline_lab as rl
from roofline_lab import attention

# --- 1. per-operator step time ------------------------------------------------------------


def test_batch_256_at_512_tokens_takes_21_7_ms_where_one_roofline_said_16_6():
    step = rl.decode_step("8b-lab", "a100-lab", batch=256, context_len=512)
    # GEMMs: 2 * 8e9 * 256 FLOP / 312e12 = 13.13 ms (compute-bound: 256 > 156)
    assert step.weights_time_s == pytest.approx(2 * 8e9 * 256 / 312e12)
    # attention: 256 * 512 * 128 KiB = 17.2 GB / 2 TB/s = 8.59 ms (memory-bound)
    assert step.attention_time_s == pytest.approx(256 * 512 * 131072 / 2e12)
    assert step.time_s == pytest.approx(21.7e-3, abs=0.05e-3)
    assert step.one_roofline_time_s == pytest.approx(16.6e-3, abs=0.05e-3)
    assert (step.weights_bound, step.attention_bound) == ("compute", "memory")


def test_time_is_the_sum_of_the_operators_and_the_overhead():
    step = rl.decode_step("llama-3-8b", "h100-sxm", batch=[1, 64, 512], context_len=4096, overhead_s=2e-4)
    parts = step.weights_time_s + step.attention_time_s + step.comm_time_s + step.overhead_s
    np.testing.assert_allclose(step.time_s, parts, rtol=1e-15)
    assert step.comm_time_s == 0 and step.overhead_s == 2e-4
    np.testing.assert_allclose(step.flops, step.linear_flops + step.attention_flops)


def test_at_context_0_v2_is_the_one_roofline_model_exactly():
    for batch in (1, 64, 155, 156, 1024):
        step = rl.decode_step("8b-lab", "a100-lab", batch=batch)
        assert step.time_s == step.one_roofline_time_s
        assert step.attention_flops == 0 and step.kv_bytes == 0


def test_the_seed_numbers_stay_exact():
    assert 1 / rl.decode_step("8b-lab", "a100-lab").time_s == 125.0
    assert rl.decode_step("8b-lab", "a100-lab", batch=64).tokens_per_s == 8000.0
    assert rl.decode_step("8b-lab", "a100-lab").ridge == 156.0
    assert 1 / rl.decode_step("8b-lab", "a100-lab", weight_dtype="int4", compute_dtype="fp16").time_s == 500.0


def test_bound_labels_follow_a_sweep():
    step = rl.decode_step("8b-lab", "a100-lab", batch=np.array([1, 155, 156, 4096]), context_len=1024)
    assert step.weights_bound.tolist() == ["memory", "memory", "compute", "compute"]
    assert step.attention_bound.tolist() == ["memory"] * 4


def test_overhead_makes_the_1b_step_a_fixed_cost_cuda_graphs_remove():
    bare = rl.decode_step("llama-3.2-1b", "h100-sxm")
    launched = rl.decode_step("llama-3.2-1b", "h100-sxm", overhead_s=1e-3)
    assert launched.time_s == pytest.approx(bare.time_s + 1e-3)
    assert launched.tokens_per_s < 0.5 * bare.tokens_per_s  # the overhead is most of the step


# --- 2. compute derating --------------------------------------------------------------------


def test_prefill_at_half_the_peak_takes_twice_as_long():
    full = rl.prefill_step("8b-lab", "a100-lab", 2048)
    half = rl.prefill_step("8b-lab", "a100-lab", 2048, flops_fraction=0.5)
    assert full.weights_bound == full.attention_bound == "compute"
    assert half.time_s == pytest.approx(2 * full.time_s, rel=1e-12)
    assert half.peak_flops == 156e12


def test_memory_bound_decode_ignores_the_flops_fraction():
    full = rl.decode_step("8b-lab", "a100-lab", batch=8, context_len=1024)
    derated = rl.decode_step("8b-lab", "a100-lab", batch=8, context_len=1024, flops_fraction=0.5)
    assert derated.time_s == full.time_s


def test_the_effective_ridge_moves_by_the_ratio_of_the_fractions():
    step = rl.decode_step("8b-lab", "a100-lab", flops_fraction=0.4, bandwidth_fraction=0.8)
    assert step.ridge == pytest.approx(156.0 * 0.4 / 0.8)
    assert rl.critical_batch("8b-lab", "a100-lab", flops_fraction=0.4, bandwidth_fraction=0.8) == pytest.approx(78.0)


def test_mixed_step_takes_the_same_keywords():
    step = rl.mixed_step("8b-lab", "a100-lab", 32, 512, 2048, flops_fraction=0.5, overhead_s=1e-4)
    assert step.peak_flops == 156e12 and step.overhead_s == 1e-4


# --- 3. memory: fits, resident bytes ---------------------------------------------------------


def test_fits_compares_weights_plus_kv_with_the_gpu_memory():
    gpu = rl.get_gpu("a100-80gb-sxm")
    step = rl.decode_step("8b-lab", gpu, batch=np.array([1, 100, 200]), context_len=4096)
    np.testing.assert_array_equal(step.resident_bytes, 16e9 + np.array([1, 100, 200]) * 4096 * 131072)
    assert step.memory_capacity_bytes == gpu.memory_bytes
    assert step.fits.tolist() == [True, True, False]
    assert rl.decode_step("llama-3.1-405b", gpu).fits is False


def test_max_batch_uses_the_exact_80_gib():
    # (80 * 2**30 - 16e9) / (4096 * 131,072) = 130.2 sequences (119 with a decimal 80 GB)
    assert rl.max_batch("8b-lab", "a100-80gb-sxm", 4096) == 130
    assert rl.max_batch("8b-lab", "a100-80gb-sxm", 4096, memory_fraction=0.9) == 114


def test_fits_flips_exactly_at_max_batch():
    n = rl.max_batch("8b-lab", "a100-lab", 4096)
    steps = rl.decode_step("8b-lab", "a100-lab", batch=[n, n + 1], context_len=4096)
    assert steps.fits.tolist() == [True, False]


def test_prefill_holds_the_prompts_kv():
    step = rl.prefill_step("8b-lab", "a100-lab", 2048, batch=4)
    assert step.resident_bytes == 16e9 + 4 * 2048 * 131072


# --- 6. chips without fp16 -------------------------------------------------------------------


def test_a_tpu_runs_the_16_bit_default_in_bf16():
    step = rl.decode_step("8b-lab", "tpu-v5e")
    tpu = rl.get_gpu("tpu-v5e")
    assert step.compute_dtype == "bf16" and step.peak_flops == tpu.peak_flops("bf16")
    assert 1 / step.time_s == pytest.approx(tpu.mem_bandwidth / 16e9)
    assert rl.prefill_step("8b-lab", "tpu-v5e", 128, compute_dtype="fp16").compute_dtype == "bf16"


def test_a_v100_runs_bf16_in_fp16_and_others_keep_their_dtype():
    assert rl.decode_step("8b-lab", "v100-sxm2", weight_dtype="bf16").compute_dtype == "fp16"
    assert rl.decode_step("8b-lab", "a100-lab").compute_dtype == "fp16"
    assert rl.decode_step("8b-lab", "a100-lab", weight_dtype="int4", compute_dtype="fp16").compute_dtype == "fp16"
    with pytest.raises(ValueError, match="NVIDIA H100 SXM has no int4 peak"):
        rl.decode_step("8b-lab", "h100-sxm", weight_dtype="int4")


# --- 4. real checkpoints: embeddings gathered, the head read every step -----------------------

LLAMA3_8B_EMBEDDING = 128256 * 4096  # vocab x hidden, from its config.json


def test_llama3_8b_decode_streams_15_01_gb_not_16_06():
    m = rl.get_model("llama-3-8b")
    step = rl.decode_step(m, "a100-80gb-sxm")
    # every weight but the input embedding, plus the one embedding row batch 1 gathers
    assert step.weight_bytes == 2 * (m.n_params - LLAMA3_8B_EMBEDDING) + 2 * 4096
    assert step.weight_bytes / 1e9 == pytest.approx(15.01, abs=0.005)
    assert m.weight_bytes("fp16") / 1e9 == pytest.approx(16.06, abs=0.005)  # all of it stays resident


def test_the_gather_reads_one_embedding_row_per_token():
    one, many = (rl.decode_step("llama-3-8b", "a100-80gb-sxm", batch=b).weight_bytes for b in (1, 256))
    assert many - one == 255 * 4096 * 2


def test_llama3_8b_prefill_of_2048_tokens_takes_about_95_ms_not_109():
    step = rl.prefill_step("llama-3-8b", "a100-80gb-sxm", 2048)
    assert step.time_s == pytest.approx(95e-3, abs=0.5e-3)
    m = rl.get_model("llama-3-8b")
    v1_flops = 2 * m.n_params * 2048 + step.attention_flops  # every weight x every token
    assert v1_flops / step.peak_flops == pytest.approx(109e-3, abs=0.5e-3)


def test_prefill_computes_logits_for_each_prompts_last_token_only():
    m = rl.get_model("llama-3-8b")
    step = rl.prefill_step(m, "a100-lab", 512, batch=3)
    blocks = m.n_params - 2 * LLAMA3_8B_EMBEDDING
    assert step.linear_flops == 2 * blocks * 3 * 512 + 2 * LLAMA3_8B_EMBEDDING * 3


def test_a_tied_embedding_is_read_once_as_the_head():
    m = rl.get_model("llama-3.2-1b")
    assert m.tie_embeddings and m.embedding_params == 0
    assert rl.decode_step(m, "a100-lab", batch=64).weight_bytes == 2 * m.n_params


@pytest.mark.parametrize("model", ["8b-lab", "70b-lab"])
def test_lab_presets_stream_exactly_n_params(model):
    m = rl.get_model(model)
    step = rl.decode_step(m, "a100-lab", batch=[1, 64, 4096])
    np.testing.assert_array_equal(step.weight_bytes, 2 * m.n_params)
    np.testing.assert_array_equal(step.linear_flops, 2 * m.n_params * np.array([1, 64, 4096]))


# --- 4b. quantized checkpoints: group scales and a 16-bit head -----------------------------------


def test_int4_llama3_8b_streams_about_4_8_gb():
    m = rl.get_model("llama-3-8b")
    step = rl.decode_step(m, "a100-80gb-sxm", weight_dtype="int4", compute_dtype="fp16")
    blocks = m.n_params - 2 * LLAMA3_8B_EMBEDDING
    # 4 bits + a 16-bit scale and a 16-bit zero per group of 128 = 4.25 bits; the head stays fp16
    assert step.weight_bytes == blocks * 4.25 / 8 + 2 * LLAMA3_8B_EMBEDDING + 2 * 4096
    assert step.weight_bytes / 1e9 == pytest.approx(4.8, abs=0.05)
    assert m.body_bytes_per_param("int4") * 8 == 4.25


def test_the_lab_presets_keep_exactly_half_a_byte_per_int4_weight():
    assert rl.decode_step("8b-lab", "a100-lab", weight_dtype="int4", compute_dtype="fp16").weight_bytes == 4e9
    assert rl.get_model("70b-lab").weight_bytes("int4") == 35e9


def test_fp8_and_int8_checkpoints_keep_the_head_and_embedding_in_16_bits():
    m = rl.get_model("llama-3-8b")
    assert m.weight_bytes("fp8") == (m.n_params - 2 * LLAMA3_8B_EMBEDDING) + 2 * 2 * LLAMA3_8B_EMBEDDING
    assert m.weight_bytes("int8") == m.weight_bytes("fp8")
    assert m.weight_bytes("fp32") == 4 * m.n_params  # wider than 16 bits: everything in the dtype


# --- 5a. mixture of experts: expected weight bytes under top-k routing -------------------------


@pytest.mark.parametrize(("batch", "gb"), [(1, 37.5), (8, 164), (256, 671)])
def test_deepseek_v3_fp8_weight_reads_grow_with_the_experts_a_batch_touches(batch, gb):
    step = rl.decode_step("deepseek-v3", "h200-sxm", batch=batch, weight_dtype="fp8")
    assert step.weight_bytes / 1e9 == pytest.approx(gb, abs=0.5)


def test_uniform_routing_touches_e_times_one_minus_one_minus_k_over_e_to_the_b_experts():
    ds = rl.get_model("deepseek-v3")
    batch = np.array([1, 2, 8, 64, 4096])
    touched = 256 * (1 - (1 - 8 / 256) ** batch)
    np.testing.assert_allclose(256 * ds.routed_fraction_read(batch), touched)
    read = rl.weights_read(ds, batch, "fp8")
    expert_bytes = ds.routed_expert_params / 256  # fp8: one byte a weight
    np.testing.assert_allclose(np.diff(read), np.diff(touched * expert_bytes + 7168 * 2 * batch))


def test_v1_counted_296_gb_at_batch_8():
    ds = rl.get_model("deepseek-v3")
    assert min(ds.n_params, 8 * ds.active_params) / 1e9 == 296  # the bound v2 replaces
    assert rl.weights_read(ds, 8, "fp8") / 1e9 < 170


# --- 5b. MLA: absorbed attention FLOPs ---------------------------------------------------------

def test_mla_decode_spends_2176_flop_per_head_per_cached_token():
    ds = rl.get_model("deepseek-v3")
    assert attention.flops_per_pair(ds) == 2 * (512 + 64) + 2 * 512 == 2176  # v1: 4 x 128 = 512
    per_token = rl.attention_flops_per_token(ds, 4096)
    assert per_token == 61 * 128 * 2176 * 4096
    assert per_token / 1e9 == pytest.approx(69.6, abs=0.05)


def test_mla_prefill_runs_the_expanded_form():
    ds = rl.get_model("deepseek-v3")
    assert attention.flops_per_pair(ds, absorbed=False) == 2 * (128 + 64) + 2 * 128
    step = rl.prefill_step(ds, "h200-sxm", 1024, weight_dtype="fp8")
    assert step.attention_flops == 61 * 128 * 640 * 1024 * 1025 / 2


def test_mla_reads_its_576_wide_latent_per_layer():
    step = rl.decode_step("deepseek-v3", "h200-sxm", batch=4, context_len=1000, weight_dtype="fp8", kv_dtype="bf16")
    assert step.kv_bytes == 4 * 1000 * 61 * 576 * 2


# --- 5c. sliding-window and chunked attention -----------------------------------------------------


def test_mistral_reads_and_holds_at_most_its_4096_token_window():
    contexts = np.array([1024, 4096, 8192, 32768])
    step = rl.decode_step("mistral-7b", "a100-80gb-sxm", batch=8, context_len=contexts)
    np.testing.assert_array_equal(step.kv_bytes, 8 * np.minimum(contexts, 4096) * 131072)
    np.testing.assert_array_equal(step.attention_flops, 8 * 32 * 32 * 4 * 128 * np.minimum(contexts, 4096))
    assert rl.max_batch("mistral-7b", "a100-80gb-sxm", 32768) == rl.max_batch("mistral-7b", "a100-80gb-sxm", 4096)


def test_a_5_local_to_1_global_pattern_reads_the_window_in_local_layers_only():
    # Gemma 3's pattern on a Llama-3-8B-shaped stand-in: 30 of 36 layers see 1,024 tokens
    m = replace(rl.get_model("llama-3-8b"), n_layers=36, n_local_layers=30, attention_window=1024,
                window_kind="sliding")
    step = rl.decode_step(m, "h100-sxm", batch=2, context_len=32768)
    per_layer_token = 2 * 8 * 128 * 2
    assert step.kv_bytes == 2 * (6 * 32768 + 30 * 1024) * per_layer_token
    assert step.resident_bytes == m.weight_bytes() + step.kv_bytes


def test_chunked_attention_restarts_at_every_chunk():
    m = replace(rl.get_model("llama-3-8b"), n_local_layers=24, attention_window=8192, window_kind="chunked")
    contexts = np.array([100, 8191, 8192, 8300])
    step = rl.decode_step(m, "h100-sxm", batch=1, context_len=contexts)
    np.testing.assert_array_equal(step.kv_bytes, (8 * contexts + 24 * (contexts % 8192)) * 4096)
    # the cache is sized for a full chunk
    assert rl.max_batch(m, "h100-sxm", 8300) == rl.max_batch(
        replace(m, window_kind="sliding"), "h100-sxm", 8300)


@pytest.mark.parametrize("kind", ["sliding", "chunked"])
@pytest.mark.parametrize("prompt_len", [1, 5, 16, 17, 40, 64])
def test_prefill_pairs_are_the_sum_of_what_each_position_attends_to(kind, prompt_len):
    m = replace(rl.get_model("8b-lab"), n_layers=3, n_local_layers=2, attention_window=16, window_kind=kind)
    sees = [min(i, 16) if kind == "sliding" else (i - 1) % 16 + 1 for i in range(1, prompt_len + 1)]
    assert attention.causal_pairs(m, prompt_len) == prompt_len * (prompt_len + 1) / 2 + 2 * sum(sees)


def test_compute_bound_stays_the_one_roofline_verdict_beside_the_per_operator_ones():
    step = rl.decode_step("8b-lab", "a100-lab", batch=256, context_len=512)
    assert step.intensity < step.ridge and not step.compute_bound  # all bytes vs all FLOPs
    assert step.weights_bound == "compute"  # yet the GEMMs alone are past their ridge

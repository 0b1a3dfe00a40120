"""The data files: every figure sourced, dense kept apart from sparse, look-ups forgiving."""

import pytest

import roofline_lab as rl
from roofline_lab.hardware import GIGA, TERA

REQUIRED_GPUS = [
    "a100-80gb-sxm", "a100-40gb-pcie", "h100-sxm", "h100-pcie", "h200-sxm", "b200",
    "l4", "l40s", "rtx-4090", "mi300x", "tpu-v5e", "tpu-v6e", "a100-lab",
    # 2026
    "b300", "gb300", "mi355x", "tpu-v7", "h20", "rtx-5090", "dgx-spark", "trainium2",
]
SCALAR_FIELDS = ("bandwidth_gb_per_s", "board_power_w", "year", "memory_bytes")
# Ridge points (dense 16-bit peak / bandwidth, FLOP/byte) as published in shared/reference/gpu_specs.md
PUBLISHED_RIDGES = {
    "a100-80gb-sxm": 153.0, "a100-40gb-pcie": 200.6, "h100-sxm": 295.4, "h100-pcie": 378.2,
    "h200-sxm": 206.1, "b200": 281.2, "l4": 403.3, "l40s": 419.0, "rtx-4090": 163.9,
    "mi300x": 246.7, "tpu-v5e": 240.5, "tpu-v6e": 560.4,
}
ALL_GPUS = rl.gpu_names()


def test_catalog_holds_every_accelerator_the_course_names():
    assert set(REQUIRED_GPUS) <= set(ALL_GPUS)
    assert ALL_GPUS[0] == "a100-lab"


@pytest.mark.parametrize("key", ALL_GPUS)
def test_every_entry_is_sourced_and_complete(key):
    gpu = rl.get_gpu(key)
    assert gpu.sources and all(len(s) > 20 for s in gpu.sources)
    assert gpu.note
    assert gpu.memory_bytes > 0 and gpu.mem_bandwidth > 0
    assert gpu.default_dtype in gpu.dense_flops
    assert set(gpu.dense_flops) <= set(rl.DTYPE_BYTES)
    for field in gpu.unverified:
        table, _, dtype = field.partition(".")
        assert table in SCALAR_FIELDS or dtype in getattr(gpu, table.replace("tflops", "flops")), field


@pytest.mark.parametrize("key", ALL_GPUS)
def test_every_entry_has_a_sourced_power_and_shipping_year(key):
    gpu = rl.get_gpu(key)
    assert 2015 <= gpu.year <= 2026
    assert len(gpu.power_and_year_source) > 30
    if gpu.board_power_w is None:  # only where the vendor publishes none, and the source says so
        assert gpu.vendor in ("Google", "Apple", "AWS")
        assert "publishes no" in gpu.power_and_year_source
    else:
        assert 30 <= gpu.board_power_w <= 2000


def test_the_2026_parts_show_the_trends_the_course_teaches():
    # H20: a Hopper cut for export, ridge about 37, decode turns compute-bound at batch ~37
    assert rl.get_gpu("h20").ridge("fp16") == pytest.approx(37.0, abs=0.1)
    # Blackwell Ultra: int8 cut to a sliver of fp8, the second datasheet trap beside sparsity
    for key in ("b300", "gb300"):
        gpu = rl.get_gpu(key)
        assert gpu.peak_flops("int8") < gpu.peak_flops("fp8") / 20
        assert "int8" in gpu.note
    # the newest parts ship later than the ones they follow
    assert rl.get_gpu("b300").year > rl.get_gpu("b200").year - 1 and rl.get_gpu("tpu-v7").year > rl.get_gpu("tpu-v6e").year


@pytest.mark.parametrize("key", ALL_GPUS)
def test_memory_is_exact_bytes_and_the_label_counts_binary_units(key):
    """A vendor's "80 GB" of HBM/GDDR/LPDDR is 80 GiB: memory dies come in binary sizes."""
    gpu = rl.get_gpu(key)
    assert isinstance(gpu.memory_bytes, int)
    number, unit = gpu.memory_label.split()
    assert unit in ("GB", "GiB")
    assert gpu.memory_bytes == int(number) * 2**30
    assert len(gpu.memory_source) > 20


def test_exact_memory_matches_what_the_driver_reports_where_known():
    # nvidia-smi memory.total: A100 80GB 81920 MiB (all of it), H100 SXM 81559 MiB (driver keeps 361)
    assert rl.get_gpu("a100-80gb-sxm").memory_bytes == 81920 * 2**20 == 85_899_345_920
    assert rl.get_gpu("a100-40gb-pcie").memory_bytes == 40960 * 2**20
    h100 = rl.get_gpu("h100-sxm")
    assert 0 < h100.memory_bytes - 81559 * 2**20 < 2**30
    assert h100.memory_label == "80 GB" and h100.memory_bytes > 80e9
    # rocm-smi on an MI300X: 206,141,652,992 bytes, 16 MiB below 192 GiB
    assert rl.get_gpu("mi300x").memory_bytes - 206_141_652_992 == 16 * 2**20


@pytest.mark.parametrize("key", sorted(PUBLISHED_RIDGES))
def test_ridge_recomputed_from_the_catalog_matches_the_published_table(key):
    gpu = rl.get_gpu(key)
    assert gpu.ridge(gpu.default_dtype) == pytest.approx(PUBLISHED_RIDGES[key], abs=0.06)


@pytest.mark.parametrize("key", ALL_GPUS)
def test_sparse_peaks_are_never_the_dense_ones(key):
    gpu = rl.get_gpu(key)
    for dtype, sparse in gpu.sparse_flops.items():
        if dtype in gpu.dense_flops:
            assert sparse != gpu.dense_flops[dtype]
            assert sparse / gpu.dense_flops[dtype] == pytest.approx(2.0, rel=0.03)


def test_h100_dense_fp16_is_half_the_printed_sparse_figure():
    h100 = rl.get_gpu("h100-sxm")
    assert h100.sparse_flops["fp16"] == 1979 * TERA
    assert h100.peak_flops("fp16") == 989.5 * TERA


def test_course_a100_is_the_datasheet_a100_with_bandwidth_rounded():
    lab, sheet = rl.get_gpu("a100-lab"), rl.get_gpu("a100-80gb-sxm")
    assert lab.dense_flops == sheet.dense_flops
    assert (lab.mem_bandwidth, sheet.mem_bandwidth) == (2000 * GIGA, 2039 * GIGA)
    assert "2,039" in lab.note and "round" in lab.note


@pytest.mark.parametrize("name", ["h100", "H100-SXM", "NVIDIA H100 SXM", "h100_sxm5", " H100 "])
def test_gpu_lookup_is_case_insensitive_with_aliases(name):
    assert rl.get_gpu(name).key == "h100-sxm"


def test_unknown_gpu_suggests_the_closest_names():
    with pytest.raises(ValueError, match=r"unknown GPU 'H10'.*did you mean 'h100'"):
        rl.get_gpu("H10")


def test_dtypes_and_their_sizes():
    expected = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
    assert {d: rl.dtype_bytes(d) for d in expected} == expected
    assert rl.dtype_bytes("BF16") == rl.dtype_bytes("bfloat16") == 2


def test_dtype_typo_suggests_the_closest():
    with pytest.raises(ValueError, match=r"unknown dtype 'fp61'.*did you mean 'fp16'"):
        rl.dtype_bytes("fp61")


REQUIRED_MODELS = ["llama-3-8b", "llama-3-70b", "llama-3.1-405b", "llama-3.2-1b", "mistral-7b", "deepseek-v3"]


@pytest.mark.parametrize("key", rl.model_names())
def test_every_model_is_sourced(key):
    m = rl.get_model(key)
    assert "config" in m.source or "Seed lab" in m.source
    assert m.n_params > 0 and m.n_layers > 0 and m.n_kv_heads > 0 and m.head_dim > 0


def test_model_presets_cover_the_course():
    assert set(REQUIRED_MODELS) <= set(rl.model_names())
    assert rl.get_model("8B").n_params == 8e9 and rl.get_model("70b").n_params == 70e9


def _dense_llama_params(m: rl.Model) -> int:
    """Parameter count implied by a Llama-style config (embeddings, attention, SwiGLU MLP, norms)."""
    d = m.hidden_size
    attention = d * m.n_heads * m.head_dim * 2 + d * m.n_kv_heads * m.head_dim * 2
    layer = attention + 3 * d * m.intermediate_size + 2 * d
    embeddings = m.vocab_size * d * (1 if m.tie_embeddings else 2)
    return embeddings + m.n_layers * layer + d


@pytest.mark.parametrize("key", ["llama-3.2-1b", "llama-3-8b", "mistral-7b", "llama-3-70b", "llama-3.1-405b"])
def test_published_parameter_count_matches_the_config_shape(key):
    m = rl.get_model(key)
    assert _dense_llama_params(m) == m.n_params


def test_moe_model_multiplies_only_its_active_parameters():
    ds = rl.get_model("deepseek-v3")
    assert ds.flop_params == 37e9 and ds.n_params == 671e9
    # the shape's always-read part plus 8 of 256 routed experts: 37.5B, the published "37B activated"
    per_token = ds.block_params_per_token + ds.head_params + ds.embedding_params
    assert per_token == pytest.approx(ds.active_params, rel=0.02)


MOE_MODELS = [k for k in rl.model_names() if rl.get_model(k).flop_params < rl.get_model(k).n_params]


@pytest.mark.parametrize("key", MOE_MODELS)
def test_routed_expert_params_are_recomputed_from_the_shape(key):
    m = rl.get_model(key)
    assert m.n_routed_experts > m.experts_per_token > 0 and m.moe_intermediate_size > 0
    expert = 3 * m.hidden_size * m.moe_intermediate_size  # gate, up and down projections (SwiGLU)
    assert m.routed_expert_params == m.n_moe_layers * m.n_routed_experts * expert
    assert m.routed_expert_params < m.n_params


def test_deepseek_v3_has_58_moe_layers_after_3_dense_ones():
    ds = rl.get_model("deepseek-v3")
    assert (ds.n_dense_layers, ds.n_moe_layers, ds.n_shared_experts) == (3, 58, 1)


@pytest.mark.parametrize("key", rl.model_names())
def test_attention_fields_are_consistent(key):
    m = rl.get_model(key)
    if m.kv_lora_rank:  # MLA caches the compressed KV plus the shared rope key
        assert m.kv_latent_dim == m.kv_lora_rank + m.qk_rope_head_dim
    assert (m.attention_window > 0) == (m.n_local_layers > 0) == (m.window_kind in ("sliding", "chunked"))
    assert 0 <= m.n_local_layers <= m.n_layers
    assert 1 <= m.moe_layer_step and 0 <= m.n_dense_layers < m.n_layers


# ---- the 2026 models: parameter counts recomputed from each config.json -------------------

# What a family's layer carries beyond the Llama shape, read off its modelling code:
# Qwen3 and Gemma 3 RMSNorm each query and key head (q_norm, k_norm: 2 * head_dim);
# Gemma 3 has four norms a layer (around attention and around the MLP), not two;
# gpt-oss has biases on q/k/v/o, on each expert's gate_up and down, and on the router,
# plus one learned attention sink per head.
FAMILY_EXTRAS = {
    "llama-4-scout": {}, "llama-4-maverick": {},
    "qwen3-32b": {"qk_norm": True}, "qwen3-30b-a3b": {"qk_norm": True},
    "gemma-3-27b": {"qk_norm": True, "norms": 4},
    "gpt-oss-120b": {"biases": True}, "gpt-oss-20b": {"biases": True},
}
# Totals as the model cards print them (billions), and what they include
CARD_TOTALS = {
    "llama-4-scout": 109, "llama-4-maverick": 400,  # with the vision encoder (~1B)
    "qwen3-32b": 32.8, "qwen3-30b-a3b": 30.5, "gpt-oss-120b": 116.83, "gpt-oss-20b": 20.91,
    "gemma-3-27b": 27.4,  # with the 0.4B SigLIP vision encoder
}
CARD_ACTIVE = {  # gpt-oss's card leaves the input embedding out of "active"
    "llama-4-scout": 17, "llama-4-maverick": 17, "qwen3-30b-a3b": 3.3,
    "gpt-oss-120b": 5.13, "gpt-oss-20b": 3.61,
}


def _moe_layers(m) -> int:
    """Layers with routed experts: every moe_layer_step-th one after n_dense_layers dense ones."""
    if not m.n_routed_experts:
        return 0
    return len(range(m.n_dense_layers + m.moe_layer_step - 1, m.n_layers, m.moe_layer_step))


def _config_params(m, *, qk_norm=False, norms=2, biases=False) -> tuple[int, int, int]:
    """(total, active, routed-expert) parameters implied by a config: embeddings, attention,
    MLP or experts (SwiGLU, 3 matrices each), router, norms. Routed-expert parameters count
    the expert matrices only (gpt-oss's expert biases, 0.03 %, stay with the always-read part)."""
    d, q_width, kv_width = m.hidden_size, m.n_heads * m.head_dim, m.n_kv_heads * m.head_dim
    attention = 2 * d * q_width + 2 * d * kv_width
    attention += 2 * m.head_dim if qk_norm else 0
    attention += (q_width + 2 * kv_width + d + m.n_heads) if biases else 0  # + one sink per head
    n_moe = _moe_layers(m)
    experts = m.n_routed_experts
    expert = 3 * d * m.moe_intermediate_size
    if biases:  # gate_up bias (2 * width) and down bias (d)
        expert += 2 * m.moe_intermediate_size + d
    router = d * experts + (experts if biases else 0)
    dense_layer = attention + 3 * d * m.intermediate_size + norms * d
    moe_layer = attention + (experts + m.n_shared_experts) * expert + router + norms * d
    embeddings = m.vocab_size * d * (1 if m.tie_embeddings else 2)
    total = embeddings + (m.n_layers - n_moe) * dense_layer + n_moe * moe_layer + d
    active = total - n_moe * experts * expert + n_moe * m.experts_per_token * expert
    routed = n_moe * experts * 3 * d * m.moe_intermediate_size  # expert weights, biases aside
    return total, active, routed


@pytest.mark.parametrize("key", sorted(FAMILY_EXTRAS))
def test_2026_parameter_counts_match_the_config_shape(key):
    m = rl.get_model(key)
    total, active, routed = _config_params(m, **FAMILY_EXTRAS[key])
    assert m.n_params == total
    assert m.flop_params == active
    assert m.routed_expert_params == routed
    assert total / 1e9 == pytest.approx(CARD_TOTALS[key], rel=0.025)
    if key in CARD_ACTIVE:
        card_active = active - (m.vocab_size * m.hidden_size if key.startswith("gpt-oss") else 0)
        assert card_active / 1e9 == pytest.approx(CARD_ACTIVE[key], rel=0.03)


@pytest.mark.parametrize("key", sorted(FAMILY_EXTRAS))
def test_2026_models_cite_their_config_and_window(key):
    m = rl.get_model(key)
    assert "config.json" in m.source and "/blob/main/config.json" in m.source
    window = m.attention_window
    if window:
        assert 0 < m.n_local_layers < m.n_layers
        assert m.window_kind == ("chunked" if key.startswith("llama-4") else "sliding")


def test_2026_attention_patterns_are_the_published_ones():
    gemma = rl.get_model("gemma-3-27b")  # 5 local : 1 global over 62 layers -> 10 global
    assert (gemma.n_layers - gemma.n_local_layers, gemma.attention_window) == (10, 1024)
    for key in ("gpt-oss-120b", "gpt-oss-20b"):  # alternating 128-token windows
        m = rl.get_model(key)
        assert 2 * m.n_local_layers == m.n_layers and m.attention_window == 128
    for key in ("llama-4-scout", "llama-4-maverick"):  # 3 chunked layers in 4, 8K chunks
        m = rl.get_model(key)
        assert 4 * m.n_local_layers == 3 * m.n_layers and m.attention_window == 8192
    assert _moe_layers(rl.get_model("llama-4-maverick")) == 24


def test_deepseek_r1_is_an_alias_of_v3():
    assert rl.get_model("deepseek-r1").key == "deepseek-v3"

"""Properties that hold for any input, checked with hypothesis."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import roofline_lab as rl
from roofline_lab import attention, reference

settings.register_profile("roofline", deadline=None, max_examples=100)
settings.load_profile("roofline")

n_params = st.floats(min_value=1e6, max_value=2e12)
tokens = st.integers(min_value=1, max_value=1 << 16)
dtype_bytes = st.sampled_from(sorted(set(rl.DTYPE_BYTES.values())))
batches = st.integers(min_value=1, max_value=4096)
gpus = st.sampled_from([g for g in rl.gpu_names() if "fp16" in rl.get_gpu(g).dense_flops])
models = st.sampled_from(rl.model_names())
# Chunked attention (Llama 4) forgets its context at every chunk boundary, so its step time
# is not monotone in context; every other model's is.
unchunked = st.sampled_from([k for k in rl.model_names() if rl.get_model(k).window_kind != "chunked"])


@given(n_params, n_params, tokens, dtype_bytes)
def test_intensity_does_not_depend_on_model_size(small, large, num_tokens, nbytes):
    a = rl.arithmetic_intensity(small, num_tokens, nbytes)
    b = rl.arithmetic_intensity(large, num_tokens, nbytes)
    assert a == pytest.approx(b, rel=1e-12) == pytest.approx(2 * num_tokens / nbytes)


@given(gpus, st.sampled_from([2.0, 1.0]))
def test_decode_flips_to_compute_bound_exactly_at_the_critical_batch(gpu_key, nbytes):
    gpu = rl.get_gpu(gpu_key)
    peak = gpu.peak_flops("fp16")
    ridge = rl.ridge_point(peak, gpu.mem_bandwidth)
    critical = rl.critical_batch_size(peak, gpu.mem_bandwidth, nbytes)
    first = math.ceil(critical)  # the first whole batch at or past the ridge
    assert not rl.is_compute_bound(rl.arithmetic_intensity(8e9, first - 1, nbytes), ridge)
    assert rl.is_compute_bound(rl.arithmetic_intensity(8e9, first, nbytes), ridge)


@given(n_params, dtype_bytes, st.floats(min_value=1e10, max_value=1e13), batches)
def test_seed_throughput_is_linear_in_batch(params, nbytes, bandwidth, batch):
    one = rl.decode_tokens_per_second(params, nbytes, bandwidth, batch=1)
    many = rl.decode_tokens_per_second(params, nbytes, bandwidth, batch=batch)
    assert many == pytest.approx(batch * one, rel=1e-12)


@given(unchunked, gpus, batches, st.lists(st.integers(0, 1 << 20), min_size=2, max_size=8))
def test_step_time_never_decreases_with_context(model, gpu, batch, contexts):
    contexts = np.sort(np.array(contexts))
    times = rl.decode_step(model, gpu, batch=batch, context_len=contexts).time_s
    assert np.all(np.diff(times) >= 0)


@given(n_params, dtype_bytes, batches, st.floats(min_value=1e3, max_value=1e7))
def test_at_the_wall_kv_bytes_equal_weight_bytes(params, nbytes, batch, kv_per_token):
    wall = rl.long_context_wall(params, nbytes, batch, kv_per_token)
    assert wall * batch * kv_per_token == pytest.approx(params * nbytes, rel=1e-12)


@given(models, gpus, batches)
@example("deepseek-v3", "h100-sxm", 1)
def test_step_model_with_no_context_is_the_seed_model_on_the_weights_it_streams(model, gpu, batch):
    m, g = rl.get_model(model), rl.get_gpu(gpu)
    step = rl.decode_step(m, g, batch=batch)
    if not m.is_checkpoint and m.flop_params == m.n_params:  # the lab presets: the seed exactly
        assert step.intensity == pytest.approx(reference.arithmetic_intensity(m.n_params, batch, 2))
    params_read = rl.weights_read(m, batch, "fp16") / 2  # less than all for a gathered embedding or a MoE
    seed_ceiling = reference.decode_tokens_per_second(params_read, 2, g.mem_bandwidth, batch)
    assert step.tokens_per_s <= seed_ceiling * (1 + 1e-12)
    if step.weights_bound == "memory":
        assert step.tokens_per_s == pytest.approx(seed_ceiling)


@given(st.floats(min_value=1e-3, max_value=1e6), gpus)
def test_attainable_flops_is_capped_by_both_roofs(intensity, gpu_key):
    gpu = rl.get_gpu(gpu_key)
    peak = gpu.peak_flops("fp16")
    y = rl.attainable_flops(intensity, peak, gpu.mem_bandwidth)
    assert y <= peak and y <= gpu.mem_bandwidth * intensity * (1 + 1e-12)
    assert y == pytest.approx(min(peak, gpu.mem_bandwidth * intensity))


@given(models, gpus, st.integers(1, 1 << 17))
def test_the_max_batch_fits_and_one_more_does_not(model, gpu, context):
    m, g = rl.get_model(model), rl.get_gpu(gpu)
    fits = rl.max_batch(m, g, context)
    kv = attention.resident_kv_bytes(m, context, "fp16")  # context x kv per token, capped by any window
    if not m.n_local_layers:
        assert kv == context * m.kv_bytes_per_token("fp16")
    used = m.weight_bytes("fp16") + fits * kv
    assert fits >= 0
    if fits > 0:
        assert used <= g.memory_bytes
    assert m.weight_bytes("fp16") + (fits + 1) * kv > g.memory_bytes


@given(st.integers(1, 4096), st.integers(1, 4096))
def test_moe_reads_more_experts_with_more_tokens_but_never_more_than_all(a, b):
    ds = rl.get_model("deepseek-v3")
    small, large = sorted((a, b))
    read_small, read_large = (rl.weights_read(ds, t, "fp8") for t in (small, large))
    assert read_small <= read_large <= ds.weight_bytes("fp8")
    # never more than the v1 bound, min(all, active x tokens): tokens share experts
    assert read_small <= min(ds.weight_bytes("fp8"), rl.weights_read(ds, 1, "fp8") * small) * (1 + 1e-12)
    assert rl.weights_read("8b-lab", a, "fp16") == 16e9


# --- step model v2: each operator on its own roofline -------------------------------------------

contexts = st.integers(min_value=0, max_value=1 << 20)
fractions = st.floats(min_value=0.01, max_value=1.0)


@given(models, gpus, batches, contexts, fractions, fractions)
def test_per_operator_time_is_at_least_each_operators_own_roofline(model, gpu, batch, context, ff, bf):
    s = rl.decode_step(model, gpu, batch, context, flops_fraction=ff, bandwidth_fraction=bf)
    assert s.weights_time_s >= s.weight_bytes / s.mem_bandwidth
    assert s.weights_time_s >= s.linear_flops / s.peak_flops
    assert s.attention_time_s >= s.kv_bytes / s.mem_bandwidth
    assert s.attention_time_s >= s.attention_flops / s.peak_flops * (1 - 1e-12)
    assert s.time_s >= s.one_roofline_time_s * (1 - 1e-12)  # a sum of maxima >= the max of the sums


@given(models, gpus, batches, fractions)
def test_without_attention_terms_v2_is_the_one_roofline_model(model, gpu, batch, ff):
    s = rl.decode_step(model, gpu, batch, 0, flops_fraction=ff)
    assert s.time_s == s.one_roofline_time_s


@given(unchunked, gpus, st.lists(batches, min_size=2, max_size=6), contexts)
def test_step_time_never_decreases_with_batch(model, gpu, batch_list, context):
    times = rl.decode_step(model, gpu, np.sort(np.array(batch_list)), context).time_s
    assert np.all(np.diff(times) >= 0)


@given(unchunked, gpus, batches, st.lists(st.integers(1, 1 << 20), min_size=2, max_size=6))
def test_prefill_time_never_decreases_with_prompt_length(model, gpu, batch, prompts):
    times = rl.prefill_step(model, gpu, np.sort(np.array(prompts)), batch).time_s
    assert np.all(np.diff(times) >= 0)


@given(models, gpus, batches, contexts, st.lists(fractions, min_size=2, max_size=6))
def test_step_time_never_decreases_as_the_flops_fraction_falls(model, gpu, batch, context, ffs):
    times = [rl.decode_step(model, gpu, batch, context, flops_fraction=f).time_s for f in sorted(ffs, reverse=True)]
    assert np.all(np.diff(times) >= 0)


@given(models, gpus, st.integers(1, 1 << 17))
def test_fits_flips_exactly_at_max_batch(model, gpu, context):
    n = rl.max_batch(model, gpu, context)
    if n == 0:
        assert not rl.decode_step(model, gpu, 1, context).fits
    else:
        assert rl.decode_step(model, gpu, [n, n + 1], context).fits.tolist() == [True, False]

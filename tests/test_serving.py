"""roofline_lab.serving: every formula against a hand-derived number, the frontier's shape, the
capstone's reference plan, the seeded batching simulation, and named errors for bad input.

Hand numbers use the lab presets (8b-lab: 16 GB of fp16 weights; a100-lab: 312 TFLOP/s fp16,
2.0 TB/s) at context 0, where every version of the step model gives the seed's numbers.
"""

from __future__ import annotations

import dataclasses
import time
import tomllib
from importlib import resources

import numpy as np
import pytest

from roofline_lab import decode_step, get_gpu, get_model, gpu_names, max_batch, prefill_step
from roofline_lab import serving as sv

LAB = dict(model="8b-lab", gpu="a100-lab")


# ----------------------------------------------------------------------------- cost and energy


def test_dollars_per_million_tokens_by_hand():
    # $3.60/hour = $0.001/s; 1,000 tok/s -> $1e-6 per token -> $1.00 per million
    assert sv.usd_per_million_tokens(3.60, 1000) == pytest.approx(1.00)
    # two $2/hour GPUs making 8,000 tok/s together: 4 / (3600 * 8000) * 1e6 = 0.138889
    assert sv.usd_per_million_tokens(2.0, 8000, n_gpus=2) == pytest.approx(4 / 28.8)
    np.testing.assert_allclose(sv.usd_per_million_tokens(3.6, np.array([1000.0, 2000.0])), [1.0, 0.5])
    assert sv.usd_per_million_tokens(0.0, 1000) == 0.0  # a free GPU is allowed


def test_prefill_cost_uses_prompt_tokens_per_second():
    # 8b-lab prefill of 2,048 tokens, attention FLOPs off: 2 * 8e9 * 2048 / 312e12 = 105.0 ms of weight
    # GEMMs plus writing 2048 x 128 KiB of KV at 2 TB/s (0.13 ms) = 105.2 ms -> 19,475 tok/s
    seconds = 2 * 8e9 * 2048 / 312e12 + 2048 * 131_072 / 2e12
    step = prefill_step("8b-lab", "a100-lab", 2048, attention=False)
    assert step.tokens_per_s == pytest.approx(2048 / seconds)
    assert sv.usd_per_million_tokens(3.9, step.tokens_per_s) == pytest.approx(3.9 / 3600 * seconds / 2048 * 1e6)


def test_tokens_per_joule_by_hand():
    assert sv.tokens_per_joule(8000, 400) == pytest.approx(20.0)
    assert sv.tokens_per_joule(8000, 400, n_gpus=4) == pytest.approx(5.0)


def test_board_power_reads_the_catalog_or_says_what_to_pass():
    gpu = get_gpu("h100-sxm")
    if getattr(gpu, "board_power_w", None):
        assert 300 <= sv.board_power_w(gpu) <= 1500
    else:
        with pytest.raises(ValueError, match="board_power_w"):
            sv.board_power_w(gpu)


@pytest.mark.parametrize("price", [-1.0, -0.01, float("nan"), float("inf")])
def test_negative_or_non_finite_price_is_named(price):
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        sv.usd_per_million_tokens(price, 1000)


def test_price_of_wrong_type_is_named():
    with pytest.raises(TypeError, match="usd_per_gpu_hour"):
        sv.usd_per_million_tokens("3.6", 1000)
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        sv.usd_per_million_tokens([3.6, -1.0], 1000)


def test_problem_with_a_negative_price_is_refused():
    problem = dataclasses.replace(sv.CAPSTONE, usd_per_gpu_hour={"h100-sxm": -2.0})
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        sv.evaluate_plan(problem, sv.Plan("h100-sxm", 8, 8, 100))


def test_every_example_price_is_labelled_dated_and_sourced():
    rows = tomllib.loads(resources.files("roofline_lab").joinpath("data", "prices.toml").read_text())["price"]
    assert len(rows) >= 5
    for key, row in rows.items():
        assert key in gpu_names(), key
        assert row["usd_per_gpu_hour"] > 0
        assert row["label"].startswith(f"example on-demand price, {row['date']}, "), key
        assert "http" in row["source"], key
        price = sv.example_price(key)
        assert price.usd_per_gpu_hour == row["usd_per_gpu_hour"]
    with pytest.raises(ValueError, match="no example price"):
        sv.example_price("m2-ultra")


# ----------------------------------------------------------------------------- the frontier


def test_frontier_by_hand_on_the_lab_a100():
    f = sv.decode_frontier(**LAB, context_len=0, batch=[1, 64, 156, 512])
    # weights 16 GB / 2 TB/s = 8 ms until the FLOPs (2 * 8e9 * batch / 312e12) take longer
    np.testing.assert_allclose(f.step_time_s, [0.008, 0.008, 0.008, 512 * 16e9 / 312e12])
    np.testing.assert_allclose(f.per_user_tokens_per_s, [125, 125, 125, 312e12 / (512 * 16e9)])
    np.testing.assert_allclose(f.tokens_per_s, [125, 8000, 19_500, 19_500])
    assert f.tokens_per_s_per_gpu[1] == pytest.approx(8000)


@pytest.mark.parametrize("model, gpu, context, tp", [
    ("llama-3-8b", "h100-sxm", 4096, 1), ("8b-lab", "a100-lab", 0, 1),
    ("mistral-7b", "l4", 2048, 1), ("llama-3-70b", "h100-sxm", 4096, 4),
])
def test_frontier_is_monotone_up_to_the_memory_wall(model, gpu, context, tp):
    f = sv.decode_frontier(model, gpu, context, tp=tp)
    assert f.batch[0] == 1 and f.batch[-1] == f.memory_wall_batch > 1
    assert f.fits.all()
    assert np.all(np.diff(f.tokens_per_s) >= -1e-9 * f.tokens_per_s[1:]), "more batch, less throughput"
    assert np.all(np.diff(f.per_user_tokens_per_s) <= 1e-9 * f.per_user_tokens_per_s[1:]), "more batch, faster users"
    assert f.tokens_per_s[-1] > 5 * f.tokens_per_s[0]
    past = sv.decode_frontier(model, gpu, context, tp=tp, batch=[f.memory_wall_batch + 1])
    assert not past.fits.any()


def test_best_batch_under_a_target_by_hand():
    # 10 ms = 312e12 * 0.010 / 16e9 = 195 tokens of FLOPs
    op = sv.best_decode_batch(**LAB, context_len=0, max_inter_token_latency_s=0.010)
    assert (op.batch, op.limited_by) == (195, "latency")
    assert op.step_time_s == pytest.approx(0.010)
    assert op.tokens_per_s == pytest.approx(19_500)
    assert op.per_user_tokens_per_s == pytest.approx(100)


def test_batch_under_latency_is_array_aware_and_zero_below_the_floor():
    f = sv.decode_frontier(**LAB, context_len=0, batch=np.arange(1, 1001))
    np.testing.assert_array_equal(sv.batch_under_latency(f, [0.005, 0.008, 0.010, 1.0]), [0, 156, 195, 1000])
    # (156 x 16e9 / 312e12 is exactly 8 ms: the critical batch still meets an 8 ms target)


def test_best_batch_stops_at_the_memory_wall():
    f = sv.decode_frontier("llama-3-8b", "h100-sxm", 4096)
    op = sv.best_decode_batch("llama-3-8b", "h100-sxm", 4096, 10.0)
    assert (op.batch, op.limited_by) == (f.memory_wall_batch, "memory")


def test_impossible_latency_target_names_the_floor():
    with pytest.raises(sv.LatencyTargetError, match=r"max_inter_token_latency_s=0.005 .*8\.0 ms.*floor"):
        sv.best_decode_batch(**LAB, context_len=0, max_inter_token_latency_s=0.005)


def test_model_too_big_for_the_gpu_is_named():
    with pytest.raises(sv.MemoryWallError, match="not even batch 1 fits"):
        sv.best_decode_batch("llama-3-70b", "h100-sxm", 4096, 0.050)


def test_prefill_frontier_and_ttft_target():
    f = sv.prefill_frontier(**LAB, prompt_len=2048, batch=[1, 2, 4], attention=False)
    # compute-bound GEMMs plus the KV write, per prompt: 2 * 8e9 * 2048 / 312e12 + 2048 * 131,072 / 2e12 s
    one = 2 * 8e9 * 2048 / 312e12 + 2048 * 131_072 / 2e12
    np.testing.assert_allclose(f.ttft_s, np.array([1, 2, 4]) * one)
    np.testing.assert_allclose(f.tokens_per_s, 2048 / one)
    op = sv.best_prefill_batch(**LAB, prompt_len=2048, max_ttft_s=0.5, attention=False)
    assert op.batch == 4  # 4 prompts take 0.421 s, 5 take 0.526 s
    with pytest.raises(sv.LatencyTargetError, match=r"max_ttft_s=0.05 .*105\.2 ms"):
        sv.best_prefill_batch(**LAB, prompt_len=2048, max_ttft_s=0.05, attention=False)


# ----------------------------------------------------------------------------- tensor parallelism


def test_tp_goes_to_the_step_model_unchanged():
    # serving adds nothing to the step model's own tp: same step time, same memory wall
    f = sv.decode_frontier("llama-3-70b", "h100-sxm", 4096, tp=4, batch=[1, 32], flops_fraction=0.7)
    direct = decode_step("llama-3-70b", "h100-sxm", np.array([1.0, 32.0]), 4096, tp=4, flops_fraction=0.7)
    np.testing.assert_allclose(f.step_time_s, direct.time_s)
    assert f.memory_wall_batch == max_batch("llama-3-70b", "h100-sxm", 4096, tp=4)


def test_serving_package_modules_stay_small_and_numpy_only():
    import subprocess
    import sys
    from pathlib import Path

    for module in Path(sv.__file__).parent.glob("*.py"):
        assert len(module.read_text().splitlines()) <= 450, module.name
    code = ("import sys, roofline_lab.serving; "
            "print([m for m in ('matplotlib', 'ipywidgets', 'scipy', 'pandas') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_tp_splits_the_step_but_not_perfectly():
    one = sv.decode_frontier(**LAB, context_len=0, batch=[1]).step_time_s[0]
    two = sv.decode_frontier(**LAB, context_len=0, batch=[1], tp=2).step_time_s[0]
    assert one / 2 < two < one
    big = sv.decode_frontier("llama-3-70b", "h100-sxm", 4096, tp=4)
    assert big.memory_wall_batch > 50


# ----------------------------------------------------------------------------- engine ideas


def test_speculative_tokens_per_verify_by_hand():
    assert sv.expected_tokens_per_verify(0.8, 4) == pytest.approx((1 - 0.8**5) / 0.2)  # 3.3616
    assert sv.expected_tokens_per_verify(0.8, 4) == pytest.approx(3.3616)
    assert sv.expected_tokens_per_verify(1.0, 4) == 5.0
    assert sv.expected_tokens_per_verify(0.0, 4) == 1.0
    np.testing.assert_allclose(sv.expected_tokens_per_verify([0.5, 1.0], 2), [1.75, 3.0])


def test_speculative_decoding_pays_when_memory_bound_by_hand():
    est = sv.speculative_decoding("8b-lab", "llama-3.2-1b", "a100-lab", draft_tokens=4, acceptance_rate=0.8)
    draft_step = get_model("llama-3.2-1b").n_params * 2 / 2e12  # 1.24 ms, memory-bound
    assert est.draft_time_s == pytest.approx(4 * draft_step)
    assert est.verify_time_s == pytest.approx(0.008)  # 5 tokens' FLOPs hide under the weight read
    assert est.speedup == pytest.approx(3.3616 * 0.008 / (4 * draft_step + 0.008))  # 2.08
    assert est.speedup > 2


def test_speculative_decoding_stops_paying_when_compute_bound():
    est = sv.speculative_decoding("8b-lab", "llama-3.2-1b", "a100-lab", draft_tokens=4, acceptance_rate=0.8,
                                  batch=np.array([1, 16, 64, 512]))
    assert est.speedup[0] >= est.speedup[1] > est.speedup[2] > est.speedup[3]
    assert est.speedup[-1] < 1


def test_prefix_cache_flops_by_hand():
    per_attended = 4 * 32 * 32 * 128  # 8b-lab: 524,288 FLOP per token attended
    assert sv.prefill_flops("8b-lab", 4) == pytest.approx(2 * 8e9 * 4 + per_attended * (1 + 2 + 3 + 4))
    assert sv.prefill_flops("8b-lab", 4, 2) == pytest.approx(2 * 8e9 * 2 + per_attended * (3 + 4))
    for model in ("8b-lab", "llama-3-70b", "mistral-7b", "deepseek-v3"):  # head once, windows, MLA
        assert sv.prefill_flops(model, 8192) == pytest.approx(prefill_step(model, "b200", 8192).flops)
    head = 2 * get_model("llama-3-70b").head_params  # the output head runs once, cached prefix or not
    assert sv.prefill_flops("llama-3-70b", 8192, 8192) == pytest.approx(head)
    s = sv.prefix_cache_savings("8b-lab", 4096, np.array([0, 2048, 4096]))
    assert s.saved_fraction[0] == 0 and s.saved_fraction[2] == pytest.approx(1.0)
    assert 0.45 < s.saved_fraction[1] < 0.5  # the late tokens attend to more


def test_kv_budget_accounting():
    budget = sv.kv_cache_budget("llama-3-70b", "h100-sxm", 4096, tp=4, gpu_memory_utilization=0.9)
    gpu, model = get_gpu("h100-sxm"), get_model("llama-3-70b")
    assert sv.activation_bytes_estimate("llama-3-70b", 8192) == 8192 * (2 * 8192 + 2 * 28672) * 2  # 1.21 GB
    assert budget.kv_budget_bytes == pytest.approx(0.9 * 4 * gpu.memory_bytes - model.weight_bytes()
                                                   - 8192 * (2 * 8192 + 2 * 28672) * 2)
    assert budget.n_blocks == int(budget.kv_budget_bytes // (16 * 327_680))
    assert budget.sequences_paged == budget.n_blocks // 256
    assert budget.sequences_paged < budget.max_batch_bound  # max_batch is an upper bound
    short = sv.kv_cache_budget("llama-3-70b", "h100-sxm", 1000, tp=4, max_model_len=8192)
    assert short.sequences_paged > 7 * short.sequences_contiguous  # reserving 8K for a 1K request wastes 7/8


def test_chunked_prefill_budget_by_hand():
    # one step = weight GEMMs 16e9 * (16 + c) / 312e12 + writing c x 128 KiB of KV at 2 TB/s:
    # c = 178 -> 9.949 + 0.012 = 9.960 ms; c = 179 -> 10.000 + 0.012 ms, over the 10 ms
    b = sv.chunked_prefill_budget(**LAB, decode_batch=16, context_len=0, max_inter_token_latency_s=0.010,
                                  attention=False)
    assert b.prefill_tokens == 178
    assert b.decode_only_time_s == pytest.approx(0.008)
    assert b.step_time_s == pytest.approx(16e9 * 194 / 312e12 + 178 * 131_072 / 2e12)
    with pytest.raises(sv.LatencyTargetError, match=r"8\.0 ms.*floor"):
        sv.chunked_prefill_budget(**LAB, decode_batch=16, context_len=0, max_inter_token_latency_s=0.007)


def _sim(policy: str, seed: int = 7) -> sv.BatchingSimulation:
    f = sv.decode_frontier(**LAB, context_len=0, batch=np.arange(1, 257))
    return sv.simulate_batching(f, request_rate_per_s=50.0, mean_output_tokens=200, max_batch=64,
                                policy=policy, n_steps=3000, seed=seed)


def test_batching_simulation_is_seeded_cheap_and_stable():
    start = time.perf_counter()
    a = _sim("continuous")
    assert time.perf_counter() - start < 0.5
    b = _sim("continuous")
    np.testing.assert_array_equal(a.batch_sizes, b.batch_sizes)
    assert a.tokens == b.tokens and a.elapsed_s == b.elapsed_s
    assert not np.array_equal(a.batch_sizes, _sim("continuous", seed=8).batch_sizes)
    # the checked numbers notebook 13 prints (8 ms steps up to batch 64, 50 req/s x 200 tokens offered)
    assert a.static_ideal_tokens_per_s == pytest.approx(8000)
    assert a.offered_tokens_per_s == pytest.approx(10_000)
    assert a.tokens == int(a.batch_sizes.sum())
    assert a.mean_batch == pytest.approx(SIM_MEAN_BATCH, rel=1e-12)
    assert a.tokens_per_s == pytest.approx(SIM_TOKENS_PER_S, rel=1e-12)


#: recorded from _sim("continuous") (seed 7); a change means the simulation changed
SIM_MEAN_BATCH = 61.784666666666666
SIM_TOKENS_PER_S = 7718.532427080616


def test_continuous_batching_beats_static_batching_under_load():
    cont, static = _sim("continuous"), _sim("static")
    assert cont.tokens_per_s > 1.2 * static.tokens_per_s
    assert cont.mean_batch > static.mean_batch
    assert cont.share_of_ideal <= 1 + 1e-9
    shares, edges = cont.batch_histogram(8)
    assert shares.sum() == pytest.approx(1) and edges[-1] == pytest.approx(64.5)


# ----------------------------------------------------------------------------- the capstone


@pytest.mark.parametrize("name", list(sv.VARIANTS))
def test_reference_plan_is_feasible_and_accepted(name):
    problem = sv.get_problem(name)
    ref = sv.reference_plan(problem)
    assert ref.feasible, ref.hints
    assert ref.inter_token_latency_s <= problem.max_inter_token_latency_s
    assert ref.capacity_tokens_per_s >= problem.output_tokens_per_s
    assert ref.plan.batch <= ref.max_batch
    assert sv.check_plan(problem, ref.plan, verbose=False).ok


@pytest.mark.parametrize("name", list(sv.VARIANTS))
def test_reference_plan_is_cheaper_than_its_neighbours(name):
    problem = sv.get_problem(name)
    ref = sv.reference_plan(problem)
    for plan in sv.neighbouring_plans(ref.plan):
        report = sv.evaluate_plan(problem, plan)
        if plan.n_gpus < ref.plan.n_gpus:
            assert not report.feasible, plan
            assert report.hints and all(h.split(":")[0] in report.failures for h in report.hints)
        elif report.feasible:  # (a tp outside the problem's options fails "tp")
            assert report.usd_per_million_tokens >= ref.usd_per_million_tokens * (1 - 1e-12), plan
        if plan.n_gpus > ref.plan.n_gpus:
            assert report.usd_per_million_tokens > ref.usd_per_million_tokens


def test_capstone_cost_by_hand():
    ref = sv.reference_plan(sv.CAPSTONE)
    price = sv.example_price(ref.plan.gpu).usd_per_gpu_hour
    demand = 8.0 * 1024  # requests/s x generated tokens
    assert ref.usd_per_million_tokens == pytest.approx(ref.plan.n_gpus * price / (3600 * demand) * 1e6)


def test_checker_rejects_an_infeasible_plan_naming_the_constraint(capsys):
    check = sv.check_plan(sv.CAPSTONE, sv.Plan("h100-sxm", 4, 4, 400))
    assert not check.ok and "memory" in check.report.failures and "throughput" in check.report.failures
    out = capsys.readouterr().out
    assert out.startswith("✗") and "memory:" in out and "throughput:" in out
    assert "tp" in sv.check_plan(sv.CAPSTONE, sv.Plan("h100-sxm", 12, 3, 50), verbose=False).report.failures
    assert "gpu" in sv.check_plan(sv.CAPSTONE, sv.Plan("h200-sxm", 8, 8, 50), verbose=False).report.failures
    tight = sv.get_problem("llama-3-70b-h100-20ms")
    lat = sv.check_plan(tight, sv.Plan("h100-sxm", 16, 4, 100), verbose=False)
    assert "latency" in lat.report.failures and "20.0 ms" in lat.message


def test_checker_rejects_a_feasible_but_wasteful_plan():
    ref = sv.reference_plan(sv.CAPSTONE).plan
    wasteful = sv.Plan(ref.gpu, ref.n_gpus * 2, ref.tp, ref.batch)
    check = sv.check_plan(sv.CAPSTONE, wasteful, verbose=False)
    assert check.report.feasible and not check.ok
    assert check.cost_ratio == pytest.approx(2.0)
    assert "2.00 x the reference" in check.message


def test_disaggregated_pools_against_one_mixed_pool():
    loose = sv.compare_disaggregated(sv.CAPSTONE)
    tight = sv.compare_disaggregated(sv.get_problem("llama-3-70b-h100-20ms"))
    for c in (loose, tight):
        assert c.prefill_gpus >= 1 and c.decode_gpus >= 1
        assert c.disaggregated_gpus == c.prefill_gpus + c.decode_gpus
    # a tight inter-token target makes sharing a pool with prefill expensive
    assert tight.disaggregated_gpus / tight.mixed.plan.n_gpus < loose.disaggregated_gpus / loose.mixed.plan.n_gpus


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, error, words", [
    (lambda: sv.decode_frontier(**LAB, context_len=0, tp=0), ValueError, "tp"),
    (lambda: sv.decode_frontier(**LAB, context_len=-1), ValueError, "context_len"),
    (lambda: sv.decode_frontier(**LAB, context_len=0, memory_fraction=1.5), ValueError, "memory_fraction"),
    (lambda: sv.decode_frontier(**LAB, context_len=0, warp_speed=2), TypeError, "unknown step options"),
    (lambda: sv.best_decode_batch(**LAB, context_len=0, max_inter_token_latency_s=-0.05), ValueError,
     "max_inter_token_latency_s"),
    (lambda: sv.expected_tokens_per_verify(1.5, 4), ValueError, "acceptance_rate"),
    (lambda: sv.expected_tokens_per_verify(0.5, 2.5), ValueError, "draft_tokens"),
    (lambda: sv.prefill_flops("8b-lab", 100, 200), ValueError, "cached_tokens"),
    (lambda: sv.tokens_per_joule(1000, 0), ValueError, "board_power_w"),
    (lambda: sv.kv_cache_budget("8b-lab", "a100-lab", 4096, gpu_memory_utilization=0), ValueError,
     "gpu_memory_utilization"),
    (lambda: sv.kv_cache_budget("8b-lab", "a100-lab", 4096, max_model_len=1024), ValueError, "max_model_len"),
    (lambda: sv.get_problem("nope"), ValueError, "unknown problem"),
    (lambda: sv.check_plan(sv.CAPSTONE, ("h100-sxm", 8, 8, 100)), TypeError, "serving.Plan"),
    (lambda: sv.simulate_batching(sv.decode_frontier(**LAB, context_len=0, batch=[1, 2]), 1.0, 10, policy="fifo"),
     ValueError, "policy"),
    (lambda: sv.simulate_batching(sv.decode_frontier(**LAB, context_len=0, batch=[1, 2]), 1.0, 10, max_batch=5),
     ValueError, "max_batch"),
])
def test_bad_input_gets_a_named_error(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_infeasible_problem_is_named():
    impossible = dataclasses.replace(sv.CAPSTONE, name="impossible", max_inter_token_latency_s=0.001)
    with pytest.raises(ValueError, match="no feasible plan"):
        sv.reference_plan(impossible)


"""Published measured runs (data/measurements.toml) against the step model's bound."""

from __future__ import annotations

import math
import re

import pytest

import roofline_lab as rl
from roofline_lab import measurements as ms

RUNS = ms.runs()
BOUNDED = [r for r in RUNS if not r.speculative]


def _id(run: ms.Run) -> str:
    return f"{run.label} ctx{run.context_len} tp{run.tp}"


GOOD_ROW = {
    "model": "llama-2-7b",
    "gpu": "a100-80gb-sxm",
    "batch": 1,
    "context_len": 5,
    "weight_dtype": "bf16",
    "compute_dtype": "bf16",
    "tokens_per_s": 104.9,
    "engine": "gpt-fast",
    "source": "https://github.com/pytorch-labs/gpt-fast/blob/main/README.md",
    "date": "2023",
    "quote": "Benchmarks table",
}


# ---------------------------------------------------------------- the data set


def test_enough_runs_from_enough_engines_gpus_and_parallel_setups():
    assert len(RUNS) >= 24
    assert len({r.engine for r in RUNS}) >= 4
    assert len({r.gpu for r in RUNS}) >= 4
    assert sum(r.tp > 1 for r in RUNS) >= 5
    assert len({r.batch for r in RUNS}) >= 4  # single-stream and batched runs both


def test_every_run_names_a_url_a_date_and_where_the_figure_is():
    for r in RUNS:
        assert r.source.startswith("https://"), r.label
        assert r.date[:4].isdigit() and 2020 <= int(r.date[:4]) <= 2026, r.label
        assert len(r.quote) > 15, r.label


def test_catalog_names_are_canonical_keys():
    for r in RUNS:
        assert rl.get_model(r.model).key == r.model
        assert rl.get_gpu(r.gpu).key == r.gpu


def test_no_run_is_listed_twice():
    keys = [
        (r.engine, r.model, r.gpu, r.tp, r.batch, r.context_len, r.output_len, r.weight_dtype, r.speculative)
        for r in RUNS
    ]
    assert len(keys) == len(set(keys))


def test_speculative_runs_are_flagged_and_kept_out_of_the_bound_check():
    spec = [r for r in RUNS if r.speculative]
    assert spec and all("draft" in (r.note + r.quote).lower() for r in spec)
    assert len(BOUNDED) == len(RUNS) - len(spec)


# ---------------------------------------------------------------- a bound must bound


@pytest.mark.parametrize("run", [r for r in BOUNDED if r.tp == 1], ids=_id)
def test_single_gpu_run_is_at_or_under_its_bound(run):
    bound = ms.bound_tokens_per_s(run)
    assert math.isfinite(bound) and bound > 0
    assert run.tokens_per_s <= bound, f"{run.label}: {run.tokens_per_s} tok/s > bound {bound:.1f}"


@pytest.mark.parametrize("run", [r for r in BOUNDED if r.tp > 1], ids=_id)
def test_multi_gpu_run_is_at_or_under_its_bound(run):
    bound = ms.bound_tokens_per_s(run)
    assert run.tokens_per_s <= bound, f"{run.label}: {run.tokens_per_s} tok/s > bound {bound:.1f}"
    # and never above the looser bound of one chip with tp times everything (no all-reduce)
    loose = float(
        rl.decode_step(
            run.model,
            ms.aggregate_gpu(run.gpu, run.tp),
            run.batch,
            run.context_len,
            weight_dtype=run.weight_dtype,
            compute_dtype=run.compute_dtype,
            kv_dtype=run.kv_dtype,
        ).tokens_per_s
    )
    assert bound <= loose * (1 + 1e-9)


def test_utilization_is_a_share_and_spans_a_real_distribution():
    shares = [ms.bandwidth_utilization(r) for r in BOUNDED]
    assert all(0 < s <= 1 for s in shares)
    # the seed's "60-80 %" is one corner of it: real runs reach well below it, none reaches 100 %
    assert min(shares) < 0.3 and max(shares) < 0.9


def test_bound_is_the_step_model_for_the_runs_own_configuration():
    r = RUNS[0]  # gpt-fast Llama-2-7B bf16, batch 1, 5-token prompt, one A100
    step = rl.decode_step(r.model, r.gpu, r.batch, r.context_len, weight_dtype="bf16", compute_dtype="bf16")
    assert ms.bound_tokens_per_s(r) == pytest.approx(float(step.tokens_per_s))
    # hand check: 2,039 GB/s over Llama 2 7B's ~13.2-13.5 GB of bf16 weights is 151-155 tok/s
    assert 150 < ms.bound_tokens_per_s(r) < 156
    assert 0.65 < ms.bandwidth_utilization(r) < 0.72  # the README's 104.9 tok/s


def test_more_gpus_raise_the_bound_but_gpt_fast_gets_less_of_each():
    tp_runs = sorted(
        (r for r in BOUNDED if r.engine == "gpt-fast" and r.model == "llama-2-7b" and r.weight_dtype == "bf16"),
        key=lambda r: r.tp,
    )
    assert [r.tp for r in tp_runs] == [1, 2, 4, 8]
    bounds = [ms.bound_tokens_per_s(r) for r in tp_runs]
    assert bounds == sorted(bounds)
    # against the no-communication bound of tp chips taken as one, each added GPU buys less
    loose = [
        float(rl.decode_step(r.model, ms.aggregate_gpu(r.gpu, r.tp), 1, 5, weight_dtype="bf16").tokens_per_s)
        for r in tp_runs
    ]
    shares = [r.tokens_per_s / b for r, b in zip(tp_runs, loose, strict=True)]
    assert shares == sorted(shares, reverse=True)


def test_aggregate_gpu_multiplies_bandwidth_peaks_and_memory():
    h100 = rl.get_gpu("h100-sxm")
    two = ms.aggregate_gpu("h100-sxm", 2)
    assert two.mem_bandwidth == 2 * h100.mem_bandwidth
    assert two.peak_flops("fp8") == 2 * h100.peak_flops("fp8")
    assert two.memory_bytes == 2 * h100.memory_bytes
    assert ms.aggregate_gpu("h100-sxm", 1) is h100
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="tp must be"):
            ms.aggregate_gpu("h100-sxm", bad)


@pytest.mark.skipif(not ms.step_model_has_tp(), reason="decode_step has no tp keyword yet")
def test_multi_gpu_bound_uses_the_step_models_tp_once_it_exists():
    r = next(r for r in RUNS if r.tp > 1)
    step = rl.decode_step(
        r.model, r.gpu, r.batch, r.context_len,
        weight_dtype=r.weight_dtype, compute_dtype=r.compute_dtype, kv_dtype=r.kv_dtype, tp=r.tp,
    )  # fmt: skip
    assert ms.bound_tokens_per_s(r) == pytest.approx(float(step.tokens_per_s))


def test_every_run_fits_in_its_gpus_memory_where_the_step_model_says():
    for r in RUNS:
        step = ms.bound_step(r)
        if not hasattr(step, "fits"):
            pytest.skip("StepEstimate has no fits yet")
        assert bool(step.fits), f"{r.label} does not fit"


# ---------------------------------------------------------------- bad rows get named errors


def test_a_row_naming_an_unknown_gpu_is_a_named_error():
    with pytest.raises(ValueError, match=r"run 3 \(gpt-fast\): gpu: unknown GPU 'h100-sxn'.*did you mean 'h100-sxm'"):
        ms.parse_run({**GOOD_ROW, "gpu": "h100-sxn"}, 3)


def test_a_row_naming_an_unknown_model_is_a_named_error():
    with pytest.raises(ValueError, match=r"model: unknown model 'llama-2-7c'.*did you mean"):
        ms.parse_run({**GOOD_ROW, "model": "llama-2-7c"})


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"batch": 0}, ValueError, "batch must be a whole number >= 1"),
        ({"batch": True}, TypeError, "batch must be int"),
        ({"batch": 1.5}, TypeError, "batch must be int"),
        ({"tp": 0}, ValueError, "tp must be a whole number >= 1"),
        ({"context_len": -1}, ValueError, "context_len must be a whole number >= 0"),
        ({"tokens_per_s": 0}, ValueError, "tokens_per_s must be a finite number > 0"),
        ({"tokens_per_s": float("nan")}, ValueError, "tokens_per_s must be a finite number > 0"),
        ({"tokens_per_s": "104.9"}, TypeError, "tokens_per_s must be int or float"),
        ({"source": "gpt-fast README"}, ValueError, "source must be a URL"),
        ({"engine": "my-engine"}, ValueError, "engine must be one of"),
        ({"quote": " "}, ValueError, "quote must say where"),
        ({"date": "Dec 2023"}, ValueError, "date must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"weight_dtype": "fp9"}, ValueError, "weight_dtype: unknown dtype"),
        ({"speculative": "yes"}, TypeError, "speculative must be bool"),
        ({"printed_gb_per_s": -1.0}, ValueError, "printed_gb_per_s must be a finite number > 0"),
        ({"tokens": 5}, ValueError, r"unknown field\(s\) tokens; allowed"),
        ({"gpu": "m2-ultra", "compute_dtype": "bf16"}, ValueError, "compute_dtype: Apple M2 Ultra has no bf16 peak"),
    ],
)
def test_bad_rows_name_the_field_and_what_is_allowed(change, error, message):
    with pytest.raises(error, match=message):
        ms.parse_run({**GOOD_ROW, **change})


def test_missing_fields_and_empty_files_are_named():
    row = dict(GOOD_ROW)
    del row["source"]
    with pytest.raises(ValueError, match="missing field"):
        ms.parse_run(row)
    with pytest.raises(ValueError, match=r"at least one \[\[run\]\]"):
        ms.load_runs("")


def test_load_runs_reads_toml_text_and_fills_the_defaults():
    text = "[[run]]\n" + "\n".join(
        f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in GOOD_ROW.items()
    ).replace("'", '"')
    (run,) = ms.load_runs(text)
    assert run.tp == 1 and run.kv_dtype == "fp16" and not run.speculative and run.output_len is None


def test_grouping_by_a_field():
    groups = ms.by("engine")
    assert sum(len(v) for v in groups.values()) == len(RUNS)
    assert {"gpt-fast", "TensorRT-LLM", "NVIDIA NIM", "llama.cpp"} <= set(groups)
    with pytest.raises(ValueError, match="field must be one of"):
        ms.by("colour")


def test_printed_bandwidth_is_below_the_datasheet_and_the_bound_reads_no_more_than_the_engine():
    printed = [r for r in RUNS if r.printed_gb_per_s is not None]
    assert len(printed) >= 10
    for r in printed:
        assert r.printed_gb_per_s * 1e9 < rl.get_gpu(r.gpu).mem_bandwidth, r.label
        if r.tp == 1 and not r.speculative:
            # bytes the engine says it read per token (its GB/s over its tok/s) against the bound's:
            # a bound counting more bytes than the engine moved would be too tight
            engine_bytes = r.printed_gb_per_s * 1e9 / r.tokens_per_s * r.batch
            assert float(ms.bound_step(r).bytes) <= engine_bytes * 1.01, r.label


def test_every_quote_shows_the_figure_the_row_stores():
    # a transcription check: the quoted passage prints the very tokens/s the row holds
    for r in RUNS:
        printed = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", r.quote.replace(",", ""))}
        assert r.tokens_per_s in printed, f"{r.label}: {r.tokens_per_s} is not in its quote {r.quote!r}"

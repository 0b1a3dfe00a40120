"""The seed lab's test table, one test per claim, under the seed's names.

These call the switched functions, so `LAB_IMPL=starter pytest -m ex1` checks your
ridge_point. Each test carries the marker of the exercise that completes it: a test that
also uses earlier functions (ex3's use ridge_point and arithmetic_intensity) passes once
you have done the exercises in order, which is the order the notebooks introduce them. Each
exercise's tests also run every case its notebook check (`exercises.check`) runs, so a function
that passes `pytest -m exN` passes the notebook's check too. The A100 figures are the course's rounding:
312 TFLOP/s fp16, 2.0 TB/s.
"""

import pytest

from roofline_lab import (
    arithmetic_intensity,
    critical_batch_size,
    decode_steps_per_second,
    decode_tokens_per_second,
    exercises,
    is_compute_bound,
    lab,
    reference,
    ridge_point,
)

A100_PEAK_FLOPS = 312e12  # FLOP/s, fp16 dense
A100_MEM_BANDWIDTH = 2.0e12  # bytes/s, the seed's rounding of 2,039 GB/s
FP16_BYTES = 2
N_PARAMS_8B = 8e9
N_PARAMS_70B = 70e9


@pytest.mark.ex1
def test_a100_ridge_point():
    assert ridge_point(A100_PEAK_FLOPS, A100_MEM_BANDWIDTH) == pytest.approx(156.0)


@pytest.mark.ex2
def test_intensity_is_just_tokens_over_dtype():
    for tokens in (1, 64, 2048):
        small = arithmetic_intensity(N_PARAMS_8B, tokens, FP16_BYTES)
        large = arithmetic_intensity(N_PARAMS_70B, tokens, FP16_BYTES)
        assert small == pytest.approx(large) == pytest.approx(2 * tokens / FP16_BYTES)


@pytest.mark.ex3
def test_single_decode_is_hopelessly_bandwidth_bound():
    intensity = arithmetic_intensity(N_PARAMS_8B, 1, FP16_BYTES)
    ridge = ridge_point(A100_PEAK_FLOPS, A100_MEM_BANDWIDTH)
    assert intensity == pytest.approx(1.0)
    assert is_compute_bound(intensity, ridge) is False
    assert intensity / ridge == pytest.approx(1 / 156)  # 0.6 % of the compute


@pytest.mark.ex3
def test_prefill_is_compute_bound():
    intensity = arithmetic_intensity(N_PARAMS_8B, 2048, FP16_BYTES)
    assert intensity == pytest.approx(2048.0)
    assert is_compute_bound(intensity, ridge_point(A100_PEAK_FLOPS, A100_MEM_BANDWIDTH)) is True


@pytest.mark.ex3
def test_a_step_exactly_at_the_ridge_is_compute_bound():
    """The boundary belongs to compute: at intensity == ridge the FLOPs take as long as the bytes."""
    assert is_compute_bound(156.0, 156.0) is True
    assert is_compute_bound(155.0, 156.0) is False
    assert is_compute_bound(0.0, 156.0) is False


@pytest.mark.ex6
def test_critical_batch_size_is_the_ridge():
    critical = critical_batch_size(A100_PEAK_FLOPS, A100_MEM_BANDWIDTH, FP16_BYTES)
    assert critical == pytest.approx(156.0)
    ridge = ridge_point(A100_PEAK_FLOPS, A100_MEM_BANDWIDTH)
    assert is_compute_bound(arithmetic_intensity(N_PARAMS_8B, 155, FP16_BYTES), ridge) is False
    assert is_compute_bound(arithmetic_intensity(N_PARAMS_8B, 156, FP16_BYTES), ridge) is True


@pytest.mark.ex6
def test_critical_batch_halves_with_int8():
    assert critical_batch_size(A100_PEAK_FLOPS, A100_MEM_BANDWIDTH, 1) == pytest.approx(78.0)


@pytest.mark.ex4
def test_decode_steps_are_capped_by_streaming_the_weights_once():
    assert decode_steps_per_second(N_PARAMS_8B, FP16_BYTES, A100_MEM_BANDWIDTH) == pytest.approx(125.0)
    assert decode_steps_per_second(N_PARAMS_8B, 0.5, A100_MEM_BANDWIDTH) == pytest.approx(500.0)  # int4


@pytest.mark.ex5
def test_decode_speed_limit_8b_fp16():
    assert decode_steps_per_second(N_PARAMS_8B, FP16_BYTES, A100_MEM_BANDWIDTH) == pytest.approx(125.0)
    assert decode_tokens_per_second(N_PARAMS_8B, FP16_BYTES, A100_MEM_BANDWIDTH) == pytest.approx(125.0)


@pytest.mark.ex5
def test_batching_multiplies_decode_throughput_for_free():
    single = decode_tokens_per_second(N_PARAMS_8B, FP16_BYTES, A100_MEM_BANDWIDTH, batch=1)
    batched = decode_tokens_per_second(N_PARAMS_8B, FP16_BYTES, A100_MEM_BANDWIDTH, batch=64)
    assert batched == pytest.approx(8000.0)
    assert batched == pytest.approx(64 * single)


PLAIN_RESULTS = [
    pytest.param(ridge_point, (A100_PEAK_FLOPS, A100_MEM_BANDWIDTH), float, marks=pytest.mark.ex1),
    pytest.param(arithmetic_intensity, (8, 1, 2), float, marks=pytest.mark.ex2),
    pytest.param(is_compute_bound, (1.0, 2.0), bool, marks=pytest.mark.ex3),
    pytest.param(decode_steps_per_second, (8, 2, 16), float, marks=pytest.mark.ex4),
    pytest.param(decode_tokens_per_second, (8, 2, 16, 3), float, marks=pytest.mark.ex5),
    pytest.param(critical_batch_size, (A100_PEAK_FLOPS, A100_MEM_BANDWIDTH, 2), float, marks=pytest.mark.ex6),
]


@pytest.mark.parametrize(("function", "args", "kind"), PLAIN_RESULTS)
def test_results_are_plain_python_numbers(function, args, kind):
    assert type(function(*args)) is kind


EXERCISE_CASES = [
    pytest.param(name, args, marks=getattr(pytest.mark, f"ex{lab.FUNCTIONS.index(name) + 1}"),
                 id=f"ex{lab.FUNCTIONS.index(name) + 1}-{name}-{i}")
    for name, cases in exercises.CASES.items()
    for i, args in enumerate(cases)
]


@pytest.mark.parametrize(("name", "args"), EXERCISE_CASES)
def test_each_notebook_check_case(name, args):
    """Every case `exercises.check` runs, against the reference: what the notebook check catches, pytest catches."""
    got = getattr(lab, name)(*args)
    want = getattr(reference, name)(*args)
    assert type(got) is type(want)
    assert got == want if isinstance(want, bool) else got == pytest.approx(want, rel=1e-9)


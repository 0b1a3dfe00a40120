"""The bad-input table: every public function names the bad argument, its value and the rule."""

import math

import numpy as np
import pytest

import roofline_lab as rl

A100 = (312e12, 2.0e12)

# (call, exception, message that must appear)
BAD_INPUTS = [
    (lambda: rl.ridge_point(-312e12, 2e12), ValueError, "peak_flops must be a finite number > 0, got -312000000000000.0"),
    (lambda: rl.ridge_point(312e12, 0), ValueError, "mem_bandwidth must be a finite number > 0, got 0"),
    (lambda: rl.ridge_point(math.nan, 2e12), ValueError, "peak_flops must be a finite number > 0, got nan"),
    (lambda: rl.ridge_point(math.inf, 2e12), ValueError, "peak_flops must be a finite number > 0, got inf"),
    (lambda: rl.ridge_point("312e12", 2e12), TypeError, "peak_flops must be a finite number > 0, got the string '312e12'"),
    (lambda: rl.ridge_point(True, 2e12), TypeError, "peak_flops must be a finite number > 0, got True (a bool)"),
    (lambda: rl.ridge_point(None, 2e12), TypeError, "peak_flops must be a finite number > 0, got None"),
    (lambda: rl.ridge_point([312e12], 2e12), TypeError, "peak_flops must be a finite number > 0, got [312000000000000.0]"),
    (lambda: rl.ridge_point(312e12), TypeError, "ridge_point(peak_flops, mem_bandwidth): missing a required argument: 'mem_bandwidth'"),
    (lambda: rl.arithmetic_intensity(8e9, -1, 2), ValueError, "num_tokens must be a finite number > 0, got -1"),
    (lambda: rl.arithmetic_intensity(0, 1, 2), ValueError, "n_params must be a finite number > 0, got 0"),
    (lambda: rl.arithmetic_intensity(8e9, 1, "fp16"), TypeError, "dtype_bytes must be a number of bytes per value, got the string 'fp16'; use roofline_lab.dtype_bytes('fp16')"),
    (lambda: rl.is_compute_bound(-1, 156), ValueError, "intensity must be a finite number >= 0, got -1"),
    (lambda: rl.is_compute_bound(1, math.nan), ValueError, "ridge must be a finite number > 0, got nan"),
    (lambda: rl.critical_batch_size(*A100, 0), ValueError, "dtype_bytes must be a finite number > 0, got 0"),
    (lambda: rl.decode_steps_per_second(8e9, 2, -2e12), ValueError, "mem_bandwidth must be a finite number > 0, got -2000000000000.0"),
    (lambda: rl.decode_tokens_per_second(8e9, 2, 2e12, batch=-1), ValueError, "batch must be a whole number > 0, got -1"),
    (lambda: rl.decode_tokens_per_second(8e9, 2, 2e12, batch=2.5), ValueError, "batch must be a whole number > 0, got 2.5"),
    (lambda: rl.decode_tokens_per_second(8e9, 2, 2e12, batch=0), ValueError, "batch must be a whole number > 0, got 0"),
    (lambda: rl.get_gpu("h10"), ValueError, "unknown GPU 'h10' (did you mean 'h100'"),
    (lambda: rl.get_gpu(100), TypeError, "GPU must be a name (a str), got 100"),
    (lambda: rl.get_model("llama-9b"), ValueError, "unknown model 'llama-9b' (did you mean"),
    (lambda: rl.dtype_bytes("fp61"), ValueError, "unknown dtype 'fp61' (did you mean 'fp16'"),
    (lambda: rl.decode_step("8b", "a100-lab", batch=-4), ValueError, "batch must be a whole number > 0, got -4"),
    (lambda: rl.decode_step("8b", "a100-lab", batch=[1, 8, -64]), ValueError, "batch must be a whole number > 0 everywhere, got -64.0 at index 2"),
    (lambda: rl.decode_step("8b", "a100-lab", batch=np.array([1.0, np.nan])), ValueError, "batch must be a whole number > 0 everywhere, got nan at index 1"),
    (lambda: rl.decode_step("8b", "a100-lab", batch=["1"]), TypeError, "batch must be a whole number > 0 or an array of them, got an array of <U1 values"),
    (lambda: rl.decode_step("8b", "a100-lab", context_len=-1), ValueError, "context_len must be a whole number >= 0, got -1"),
    (lambda: rl.decode_step("8b", "a100-lab", weight_dtype="fp17"), ValueError, "unknown dtype 'fp17' (did you mean"),
    (lambda: rl.decode_step("8b", "a100-lab", bandwidth_fraction=1.5), ValueError, "bandwidth_fraction must be a fraction in (0, 1], got 1.5"),
    (lambda: rl.decode_step("8b", "a100-lab", bandwidth_fraction=0), ValueError, "bandwidth_fraction must be a finite number > 0, got 0"),
    (lambda: rl.get_gpu("tpu-v5e").peak_flops("fp16"), ValueError, "Google TPU v5e has no fp16 peak in the catalog; compute dtypes it lists: bf16, int8"),
    (lambda: rl.decode_step("8b", "tpu-v5e", weight_dtype="fp8"), ValueError, "Google TPU v5e has no fp8 peak in the catalog"),
    (lambda: rl.decode_step("8b", "a100-lab", flops_fraction=0), ValueError, "flops_fraction must be a finite number > 0, got 0"),
    (lambda: rl.decode_step("8b", "a100-lab", flops_fraction=1.5), ValueError, "flops_fraction must be a fraction in (0, 1], got 1.5"),
    (lambda: rl.prefill_step("8b", "a100-lab", 2048, flops_fraction=math.nan), ValueError, "flops_fraction must be a finite number > 0, got nan"),
    (lambda: rl.mixed_step("8b", "a100-lab", 8, 64, flops_fraction=-0.5), ValueError, "flops_fraction must be a finite number > 0, got -0.5"),
    (lambda: rl.critical_batch("8b", "a100-lab", flops_fraction=2), ValueError, "flops_fraction must be a fraction in (0, 1], got 2"),
    (lambda: rl.decode_step("8b", "a100-lab", overhead_s=-1e-3), ValueError, "overhead_s must be a finite number >= 0, got -0.001"),
    (lambda: rl.prefill_step("8b", "a100-lab", 128, overhead_s=math.inf), ValueError, "overhead_s must be a finite number >= 0, got inf"),
    (lambda: rl.decode_step("8b", "a100-lab", overhead_s="1ms"), TypeError, "overhead_s must be a finite number >= 0, got the string '1ms'"),
    (lambda: rl.decode_step("8b", "h100", weight_dtype="int4"), ValueError, "NVIDIA H100 SXM has no int4 peak in the catalog"),
    (lambda: rl.prefill_step("8b", "a100-lab", prompt_len=0), ValueError, "prompt_len must be a whole number > 0, got 0"),
    (lambda: rl.max_batch("8b", "a100-lab", context_len=0), ValueError, "context_len must be a whole number > 0, got 0"),
    (lambda: rl.max_batch("8b", "a100-lab", 1024, memory_fraction=-0.5), ValueError, "memory_fraction must be a finite number > 0, got -0.5"),
    (lambda: rl.kv_bytes_per_token(32, 8, 128.5, 2), ValueError, "head_dim must be a whole number > 0, got 128.5"),
    (lambda: rl.kv_bytes_per_step(64, 1024, -1), ValueError, "kv_per_token must be a finite number > 0, got -1"),
    (lambda: rl.long_context_wall(8e9, 2, 0, 131072), ValueError, "batch must be a whole number > 0, got 0"),
    (lambda: rl.attainable_flops(-1, *A100), ValueError, "intensity must be a finite number >= 0, got -1"),
    (lambda: rl.ridge_point(10**400, 2e12), ValueError, "peak_flops must be a finite number > 0, got an integer too large for a float"),
    (lambda: rl.ridge_point(1e308, 1e-308), ValueError, "ridge_point returned inf: the arguments are too large or too small for a float"),
    (lambda: rl.decode_step("8b", "a100-lab", batch=[1, 2], context_len=[0, 1, 2]), ValueError, "array arguments must have matching (broadcastable) shapes: batch has shape (2,), context_len has shape (3,)"),
    (lambda: rl.prefill_step("8b", "a100-lab", [128, 256], batch=[1, 2, 3]), ValueError, "prompt_len has shape (2,), batch has shape (3,)"),
    (lambda: rl.mixed_step("8b", "a100-lab", [1, 2], [3, 4, 5]), ValueError, "decode_batch has shape (2,), prefill_tokens has shape (3,)"),
    (lambda: rl.kv_bytes_per_step([[1, 2], [3]], 1, 1), ValueError, "batch must be a whole number > 0 or a flat, rectangular array of them, got [[1, 2], [3]]"),
    (lambda: rl.kv_bytes_per_step([True, 2], 1, 1), TypeError, "batch must be a whole number > 0 or an array of them, got a bool in [True, 2]"),
    (lambda: rl.decode_step("8b", "a100-lab", attention="no"), TypeError, "attention must be True or False, got the string 'no'"),
    (lambda: rl.decode_step("8b", "a100-lab", compute_dtype=""), ValueError, "unknown dtype ''"),
    (lambda: rl.training_flops(8e9, []), TypeError, "num_tokens must be a finite number > 0 or an array of them, got an empty sequence"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUTS, ids=[m[:60] for _, _, m in BAD_INPUTS])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_learner_function_returning_none_gets_a_clear_error(monkeypatch):
    from roofline_lab import lab

    def forgot_return(peak_flops, mem_bandwidth):
        peak_flops / mem_bandwidth

    checked = lab._checked(forgot_return, float)
    with pytest.raises(TypeError, match="forgot_return returned None; it should return a float"):
        checked(312e12, 2e12)


def test_no_error_comes_from_inside_numpy():
    for call, error, _ in BAD_INPUTS:
        with pytest.raises(error) as info:
            call()
        raised_in = info.traceback[-1].path.as_posix()
        assert "numpy" not in raised_in and "/roofline_lab/" in raised_in, raised_in


def test_is_compute_bound_must_answer_with_a_bool():
    from roofline_lab import lab

    def returns_a_difference(intensity, ridge):
        return intensity - ridge

    with pytest.raises(TypeError, match=r"returns_a_difference returned -155.0; it should return a bool"):
        lab._checked(returns_a_difference, bool)(1.0, 156.0)


def test_a_rule_for_an_argument_the_function_lacks_is_caught_when_declared():
    from roofline_lab import _checks

    with pytest.raises(TypeError, match="body has no argument batch"):
        @_checks.arguments(batch=_checks.number)
        def body(tokens):
            return tokens


def test_each_argument_is_checked_once_per_call(monkeypatch):
    from roofline_lab import _checks

    seen = []
    real = _checks.numbers_array

    def counting(name, value, **kw):
        seen.append(name)
        return real(name, value, **kw)

    @_checks.arguments(("batch", "context_len"), batch=counting, context_len=counting)
    def step(batch, context_len=0):
        return batch * context_len

    assert step([1, 2], 3).tolist() == [3.0, 6.0]
    assert seen == ["batch", "context_len"]
    with pytest.raises(ValueError, match="context_len must be a finite number > 0, got 0"):
        step(1)

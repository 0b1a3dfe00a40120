"""step_model.weights_only_intensity: the seed's first-order FLOP/byte for a named model."""

import numpy as np
import pytest

import roofline_lab as rl
from roofline_lab import reference


@pytest.mark.parametrize("model", ["8b-lab", "70b-lab", "llama-3-8b", "llama-3.1-405b"])
def test_model_size_cancels_so_a_2048_token_prompt_in_fp16_is_2048_flop_per_byte(model):
    assert rl.weights_only_intensity(model, 2048, "fp16") == pytest.approx(2048, rel=1e-12)


@pytest.mark.parametrize("dtype", ["fp16", "int8", "int4", "fp32"])
@pytest.mark.parametrize("tokens", [1, 64, 156, 2048])
def test_it_agrees_with_the_lab_function_and_with_a_weights_only_decode_step(dtype, tokens):
    m = rl.get_model("8b-lab")
    got = rl.weights_only_intensity(m, tokens, dtype)
    assert got == pytest.approx(reference.arithmetic_intensity(m.n_params, tokens, rl.dtype_bytes(dtype)))
    step = rl.decode_step(m, "a100-lab", batch=tokens, weight_dtype=dtype, compute_dtype="fp16")
    assert got == pytest.approx(step.intensity)


def test_arrays_of_token_counts_broadcast():
    got = rl.weights_only_intensity("70b-lab", np.array([1, 8, 64]), "int4")
    np.testing.assert_allclose(got, [4.0, 32.0, 256.0])


@pytest.mark.parametrize(("tokens", "dtype", "error"), [
    (0, "fp16", ValueError),
    (-1, "fp16", ValueError),
    (float("nan"), "fp16", ValueError),
    ("64", "fp16", TypeError),
    (64, "fp13", ValueError),
])
def test_bad_tokens_or_dtype_raise_a_clear_error(tokens, dtype, error):
    with pytest.raises(error):
        rl.weights_only_intensity("8b-lab", tokens, dtype)


def test_unknown_model_names_raise():
    with pytest.raises(ValueError, match="model"):
        rl.weights_only_intensity("9b-lab", 1)

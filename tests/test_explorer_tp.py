"""The explorer's tp (GPUs) control without widgets: validation, snapping, per-GPU memory, comm time."""

from __future__ import annotations

import numpy as np
import pytest

from roofline_lab.explorer import ExplorerState, explorer_view, updated_state
from roofline_lab.parallel import tp_choices
from roofline_lab.step_model import decode_step

SEVENTY_B = dict(model="llama-3-70b", gpu="h100-sxm", weight_dtype="fp16", compute_dtype="fp16")


def _view(**values):
    state, notes = updated_state(ExplorerState(), {**SEVENTY_B, **values})
    return explorer_view(state, notes)


def test_a_tp_that_is_not_allowed_raises_naming_tp_the_value_and_the_choices() -> None:
    choices = tp_choices("llama-3-70b", "h100-sxm")
    assert 3 not in choices
    with pytest.raises(ValueError) as err:
        updated_state(ExplorerState(), {**SEVENTY_B, "tp": 3})
    assert "tp=3" in str(err.value) and str(choices) in str(err.value)
    with pytest.raises(TypeError, match="tp"):
        updated_state(ExplorerState(), {"tp": "two"})


def test_a_gpu_change_that_rules_tp_out_snaps_it_down_with_a_note() -> None:
    state, _ = updated_state(ExplorerState(), {**SEVENTY_B, "tp": 8})
    small = next((g for g in ("mi250x", "h100-nvl", "rtx-3090") if max(tp_choices(state.model, g)) < 8), None)
    assert small is not None, "no chip in the catalogue with a fast domain under 8"
    snapped, notes = updated_state(state, {"gpu": small})
    allowed = tp_choices(state.model, small)
    assert snapped.tp == max(n for n in allowed if n <= 8) and snapped.tp < 8
    assert any("tp 8" in n and f"tp {snapped.tp}" in n for n in notes)


def test_gpu_applies_before_tp_when_both_are_set() -> None:
    state, _ = updated_state(ExplorerState(), {"tp": 8, "gpu": "h100-sxm", "model": "llama-3-70b"})
    assert state.tp == 8


def test_70b_fp16_on_h100_does_not_fit_on_one_gpu_and_fits_on_two() -> None:
    one, two = _view(tp=1), _view(tp=2)
    assert not one.fits and "DOES NOT FIT" in one.readout
    assert two.fits and "DOES NOT FIT" not in two.readout and "on 2 x NVIDIA H100 SXM (TP2)" in two.readout
    assert two.resident_bytes_per_gpu < two.memory_bytes_per_gpu < one.resident_bytes_per_gpu


def test_comm_time_is_zero_at_tp1_and_positive_at_tp8_and_the_step_is_the_step_models() -> None:
    one, eight = _view(tp=1), _view(tp=8)
    assert one.comm_ms.shape == one.step_ms.shape and not np.any(one.comm_ms) and one.batch_comm_ms == 0
    assert eight.comm_ms.shape == eight.step_ms.shape and np.all(eight.comm_ms > 0)
    assert np.all(eight.comm_ms < eight.step_ms)
    ref = decode_step("llama-3-70b", "h100-sxm", 1, weight_dtype="fp16", compute_dtype="fp16", tp=8)
    assert eight.batch_step_ms == pytest.approx(1e3 * float(ref.time_s))
    assert eight.batch_comm_ms == pytest.approx(1e3 * float(ref.comm_time_s))
    assert f"all-reduce {eight.batch_comm_ms:.3g} ms of {eight.batch_step_ms:.3g} ms" in eight.readout
    assert eight.batch_tokens_per_s_per_gpu == pytest.approx(eight.batch_tokens_per_s / 8)

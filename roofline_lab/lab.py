"""The starter/reference switch, in one place, plus the argument checks around it.

`LAB_IMPL=starter` selects `roofline_lab.starter` (your code); unset or
`LAB_IMPL=reference` selects `roofline_lab.reference`. Whichever is chosen, every call
first checks its arguments here, so the implementations stay one expression long and a
bad value never reaches them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import numbers
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from roofline_lab import _checks

IMPLEMENTATIONS = ("reference", "starter")
FUNCTIONS = (
    "ridge_point",
    "arithmetic_intensity",
    "is_compute_bound",
    "critical_batch_size",
    "decode_steps_per_second",
    "decode_tokens_per_second",
)


class LabImplError(ValueError):
    """LAB_IMPL names no known implementation."""


def selected_impl(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The implementation LAB_IMPL asks for: 'reference' (default) or 'starter'."""
    raw = environ.get("LAB_IMPL", "")
    name = raw.strip().lower() or "reference"
    if name not in IMPLEMENTATIONS:
        raise LabImplError(
            f"LAB_IMPL={raw!r} is not an implementation; allowed: 'reference' (the default) "
            f"or 'starter' (your code in roofline_lab/starter.py)"
        )
    return name


IMPL: str = selected_impl()
_module: ModuleType = importlib.import_module(f"roofline_lab.{IMPL}")

# What each argument must be. Sizes are finite and > 0; batch is a whole number;
# an intensity may be 0 (a step with no arithmetic).
_RULES: dict[str, Callable[[str, object], float]] = {
    "peak_flops": _checks.number,
    "mem_bandwidth": _checks.number,
    "n_params": _checks.number,
    "num_tokens": _checks.number,
    "dtype_bytes": _checks.number,
    "ridge": _checks.number,
    "intensity": functools.partial(_checks.number, allow_zero=True),
    "batch": functools.partial(_checks.number, integer=True),
}


def _checked(impl: Callable[..., Any], result_type: type) -> Callable[..., Any]:
    signature = inspect.signature(impl)
    usage = f"{impl.__name__}({', '.join(signature.parameters)})"

    @functools.wraps(impl)
    def call(*args: object, **kwargs: object) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{usage}: {exc}") from None
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name == "dtype_bytes" and isinstance(value, str):
                raise TypeError(
                    f"dtype_bytes must be a number of bytes per value, got the string {value!r}; "
                    f"use roofline_lab.dtype_bytes({value!r}) to look it up"
                )
            bound.arguments[name] = _RULES[name](name, value)
        return _result(impl.__name__, impl(*bound.args, **bound.kwargs), result_type)

    return call


def _result(name: str, result: object, result_type: type) -> Any:
    """The implementation's answer as a plain float or bool; anything else is the learner's bug or an
    overflow, and is reported rather than passed on."""
    wrong = TypeError(f"{name} returned {result!r}; it should return a {result_type.__name__}")
    if result_type is bool:
        if not isinstance(result, (bool, np.bool_)):
            raise wrong
        return bool(result)
    if isinstance(result, (bool, np.bool_)) or not isinstance(result, numbers.Real):
        raise wrong
    value = float(result)
    if not math.isfinite(value):
        raise ValueError(f"{name} returned {value!r}: the arguments are too large or too small for a float")
    return value


ridge_point = _checked(_module.ridge_point, float)
arithmetic_intensity = _checked(_module.arithmetic_intensity, float)
is_compute_bound = _checked(_module.is_compute_bound, bool)
critical_batch_size = _checked(_module.critical_batch_size, float)
decode_steps_per_second = _checked(_module.decode_steps_per_second, float)
decode_tokens_per_second = _checked(_module.decode_tokens_per_second, float)

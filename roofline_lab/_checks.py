"""Argument checks shared by every public function.

Each check either returns the value as a float (or a float ndarray) or raises a
TypeError/ValueError whose message names the argument, the bad value and what is
allowed. Nothing downstream ever sees a bool, a string, NaN or a negative size.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["arguments", "fraction", "number", "numbers_array"]

F = TypeVar("F", bound=Callable[..., Any])


def _describe(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return f"{value!r} (a bool)"
    if isinstance(value, str):
        return f"the string {value!r}"
    return repr(value)


def _has_bool(value: object) -> bool:
    """True when a (nested) list or tuple holds a bool, which numpy would quietly turn into 0 or 1."""
    if isinstance(value, (list, tuple)):
        return any(_has_bool(v) for v in value)
    return isinstance(value, (bool, np.bool_))


def _rule(*, integer: bool, allow_zero: bool) -> str:
    kind = "a whole number" if integer else "a finite number"
    return f"{kind} {'>= 0' if allow_zero else '> 0'}"


def number(name: str, value: object, *, integer: bool = False, allow_zero: bool = False) -> float:
    """Check one scalar: a real, finite, positive (or >= 0) number, whole if asked."""
    rule = _rule(integer=integer, allow_zero=allow_zero)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {rule}, got {_describe(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be {rule}, got an integer too large for a float") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero) or (integer and not x.is_integer()):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return x


def numbers_array(
    name: str, value: object, *, integer: bool = False, allow_zero: bool = False
) -> float | np.ndarray:
    """Like `number`, but also accepts a list, tuple or ndarray and checks every element.

    Returns a float for a scalar and a float64 ndarray otherwise.
    """
    if not isinstance(value, (list, tuple, np.ndarray)):
        return number(name, value, integer=integer, allow_zero=allow_zero)
    rule = _rule(integer=integer, allow_zero=allow_zero)
    try:
        arr = np.asarray(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be {rule} or a flat, rectangular array of them, got {value!r}") from None
    if _has_bool(value):
        raise TypeError(f"{name} must be {rule} or an array of them, got a bool in {value!r}")
    if arr.dtype.kind not in "iuf" or arr.size == 0:
        what = "an empty sequence" if arr.size == 0 else f"an array of {arr.dtype} values"
        raise TypeError(f"{name} must be {rule} or an array of them, got {what}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr) | (arr < 0) | ((arr == 0) & (not allow_zero))
    if integer:
        bad |= np.isfinite(arr) & (arr != np.round(arr))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = index[0] if len(index) == 1 else index
        raise ValueError(f"{name} must be {rule} everywhere, got {arr[index].item()!r} at index {where}")
    return arr


def broadcast(**arrays: float | np.ndarray) -> None:
    """Check that array arguments fit together (numpy broadcasting), naming them when they don't."""
    shaped = {name: np.shape(a) for name, a in arrays.items() if np.ndim(a)}
    try:
        np.broadcast_shapes(*shaped.values())
    except ValueError:
        described = ", ".join(f"{name} has shape {shape}" for name, shape in shaped.items())
        raise ValueError(f"array arguments must have matching (broadcastable) shapes: {described}") from None


def flag(name: str, value: object) -> bool:
    """A switch: True or False only (no 0/1, no strings)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def fraction(name: str, value: object) -> float:
    """A share of something: a finite number in (0, 1]."""
    x = number(name, value)
    if x > 1:
        raise ValueError(f"{name} must be a fraction in (0, 1], got {value!r}")
    return x


def arguments(together: tuple[str, ...] = (), **rules: Callable[[str, Any], Any]) -> Callable[[F], F]:
    """Declare a function's argument rules once: `@arguments(batch=whole, attention=flag)`.

    Each rule is called as rule(name, value) and its result replaces the value before the
    body runs, so the body is only the formula. Arguments named in `together` must
    broadcast against each other (after their own checks).
    """

    def wrap(body: F) -> F:
        signature = inspect.signature(body)
        unknown = set(rules) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{body.__name__} has no argument {', '.join(sorted(unknown))}")

        @functools.wraps(body)
        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for name in signature.parameters:
                if name in rules:
                    bound.arguments[name] = rules[name](name, bound.arguments[name])
            if together:
                broadcast(**{name: bound.arguments[name] for name in together})
            return body(*bound.args, **bound.kwargs)

        return call  # type: ignore[return-value]

    return wrap

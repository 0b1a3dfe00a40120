"""The starter/reference switch, in one place, plus the argument checks around it.

`LAB_IMPL=starter` selects `roofline_lab.starter` (your code); unset or
`LAB_IMPL=reference` selects `roofline_lab.reference`. Whichever is chosen, every call
first checks its arguments here, so the implementations stay one expression long and a
bad value never reaches them.

In starter mode every call first looks at roofline_lab/starter.py (its modification time and
size): when the file has changed since the last call, it is compiled and run again, so a saved
edit counts on the next call, in the same Python process or Jupyter kernel, with no restart.
A starter.py that does not compile or run raises `StarterImportError`, one line naming the
file, the line and the error; the next call after a fix loads the fixed file.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.util
import inspect
import math
import numbers
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from roofline_lab import _checks

IMPLEMENTATIONS = ("reference", "starter")
#: In the order the course introduces them: ex1 ... ex6 (notebooks 01, 02, 03, 03, 03, 05).
FUNCTIONS = (
    "ridge_point",
    "arithmetic_intensity",
    "is_compute_bound",
    "decode_steps_per_second",
    "decode_tokens_per_second",
    "critical_batch_size",
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


class StarterImportError(ImportError):
    """roofline_lab/starter.py does not compile or run; the message is one line naming file and line."""


def _error_line(path: Path, exc: BaseException) -> str:
    """One line: where in `path` the error happened and what it was."""
    lineno: int | None = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == path:
        lineno, what = exc.lineno, f"{type(exc).__name__}: {exc.msg}"
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename and Path(f.filename) == path]
        lineno = frames[-1].lineno if frames else None
        what = f"{type(exc).__name__}: {exc}"
    where = f"{path}, line {lineno}" if lineno else str(path)
    return f"{where}: {what}"


class _StarterFile:
    """roofline_lab/starter.py, run again whenever its modification time or size changes.

    The file is compiled from its source (never from a cached .pyc) into a fresh namespace, and the
    module object `roofline_lab.starter` takes the new names only when the whole file ran, so a
    broken save never leaves half a module behind.
    """

    def __init__(self, module: ModuleType, path: Path) -> None:
        self.module = module
        self.path = path
        self.stamp: tuple[int, int] | None = None
        self.error: str | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def refresh(self) -> None:
        """Load the file if it changed since the last call; raise StarterImportError while it is broken."""
        stamp = self._stamp()
        if stamp != self.stamp:
            self.stamp = stamp
            self.error = self._load()
        if self.error is not None:
            raise StarterImportError(self.error)

    def _load(self) -> str | None:
        namespace: dict[str, Any] = {
            "__name__": self.module.__name__,
            "__file__": str(self.path),
            "__package__": "roofline_lab",
            "__builtins__": builtins,
        }
        try:
            source = self.path.read_bytes()
            exec(compile(source, str(self.path), "exec", dont_inherit=True), namespace)
        except Exception as exc:
            return _error_line(self.path, exc) + " (fix the file, save, and run the cell again)"
        missing = [name for name in FUNCTIONS if not callable(namespace.get(name))]
        if missing:
            names = ", ".join(missing)
            return f"{self.path}: defines no function {names} (the six lab functions must keep their names)"
        self.module.__dict__.update(namespace)
        return None


def _load_starter() -> tuple[ModuleType, _StarterFile]:
    """The module object roofline_lab.starter, filled from the file by the first refresh (which may fail)."""
    name = "roofline_lab.starter"
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise StarterImportError("roofline_lab/starter.py is missing: restore it from the repository")
    module = sys.modules.get(name) or importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    package = sys.modules.get("roofline_lab")
    if package is not None:
        package.starter = module  # type: ignore[attr-defined]
    source = _StarterFile(module, Path(spec.origin))
    try:
        source.refresh()
    except StarterImportError:
        pass  # reported by the first call of a lab function, not at `import roofline_lab`
    return module, source


IMPL: str = selected_impl()
_starter_file: _StarterFile | None
if IMPL == "starter":
    _module, _starter_file = _load_starter()
else:
    _module, _starter_file = importlib.import_module(f"roofline_lab.{IMPL}"), None

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


def _checked(
    impl: Callable[..., Any], result_type: type, current: Callable[[], Callable[..., Any]] | None = None
) -> Callable[..., Any]:
    """`impl` behind the argument checks. With `current`, each call first asks it for the function to
    run (starter mode: the latest saved version); `impl` then only lends its name and signature."""
    signature = inspect.signature(impl)
    usage = f"{impl.__name__}({', '.join(signature.parameters)})"

    @functools.wraps(impl)
    def call(*args: object, **kwargs: object) -> Any:
        run = impl
        if current is not None:
            run = current()
            call.__wrapped__ = run  # type: ignore[attr-defined]
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
        return _result(impl.__name__, run(*bound.args, **bound.kwargs), result_type)

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


def _current(name: str) -> Callable[[], Callable[..., Any]] | None:
    """In starter mode: a function returning the newest saved version of `name`."""
    if _starter_file is None:
        return None
    starter_file = _starter_file

    def latest() -> Callable[..., Any]:
        starter_file.refresh()
        return getattr(starter_file.module, name)

    return latest


def _switched(name: str, result_type: type) -> Callable[..., Any]:
    from roofline_lab import reference  # the signature and docstring every implementation shares

    template = getattr(_module, name, None) or getattr(reference, name)
    return _checked(template, result_type, _current(name))


ridge_point = _switched("ridge_point", float)
arithmetic_intensity = _switched("arithmetic_intensity", float)
is_compute_bound = _switched("is_compute_bound", bool)
decode_steps_per_second = _switched("decode_steps_per_second", float)
decode_tokens_per_second = _switched("decode_tokens_per_second", float)
critical_batch_size = _switched("critical_batch_size", float)

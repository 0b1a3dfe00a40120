"""Exercise checks for the notebooks: run your function (whatever LAB_IMPL selects)
against the reference on a few cases and say, in one line, how it went.

In starter mode an unimplemented function prints "not implemented yet" instead of
raising, so every notebook runs to the end while you work through the exercises.
"""

from __future__ import annotations

import math

from roofline_lab import lab, reference

#: Inputs each exercise is checked on: the seed's A100 numbers first, then others.
CASES: dict[str, list[tuple[float, ...]]] = {
    "ridge_point": [(312e12, 2.0e12), (989.5e12, 3.35e12), (121e12, 300e9)],
    "arithmetic_intensity": [(8e9, 1, 2), (70e9, 1, 2), (8e9, 2048, 2), (8e9, 64, 0.5)],
    "is_compute_bound": [(1.0, 156.0), (2048.0, 156.0), (155.0, 156.0), (156.0, 156.0)],
    "critical_batch_size": [(312e12, 2.0e12, 2), (312e12, 2.0e12, 1), (989.5e12, 3.35e12, 2)],
    "decode_steps_per_second": [(8e9, 2, 2.0e12), (8e9, 0.5, 2.0e12), (70e9, 2, 3.35e12)],
    "decode_tokens_per_second": [(8e9, 2, 2.0e12, 1), (8e9, 2, 2.0e12, 64), (1e9, 1, 300e9, 8)],
}


def _call(func: object, args: tuple[float, ...]) -> str:
    return f"{func}({', '.join(f'{a:g}' for a in args)})"


def check(name: str) -> bool:
    """Check one of the six functions by name; print one line; return True when it matches."""
    if name not in CASES:
        raise ValueError(f"unknown exercise {name!r}; allowed: {', '.join(CASES)}")
    yours, ref = getattr(lab, name), getattr(reference, name)
    for args in CASES[name]:
        try:
            got = yours(*args)
        except NotImplementedError:
            print(f"not implemented yet: implement `{name}` in roofline_lab/starter.py")
            return False
        want = ref(*args)
        same = got == want if isinstance(want, bool) else math.isclose(got, want, rel_tol=1e-9)
        if not same:
            print(f"✗ {name}: {_call(name, args)} returned {got!r}, the reference gives {want!r}")
            return False
    example = CASES[name][0]
    print(f"✓ {name} matches the reference on {len(CASES[name])} cases, "
          f"e.g. {_call(name, example)} = {ref(*example)!r}")
    return True


def show(name: str, *args: float) -> object:
    """Call YOUR function (whatever LAB_IMPL selects) and print the call and its result.

    Prints "not implemented yet" instead of raising while the starter stub is untouched;
    returns the result, or None when not implemented.
    """
    if name not in CASES:
        raise ValueError(f"unknown exercise {name!r}; allowed: {', '.join(CASES)}")
    try:
        result = getattr(lab, name)(*args)
    except NotImplementedError:
        print(f"not implemented yet: implement `{name}` in roofline_lab/starter.py")
        return None
    print(f"{_call(name, args)} = {result!r}")
    return result


def check_all() -> int:
    """Check all six; return how many pass."""
    return sum(check(name) for name in CASES)

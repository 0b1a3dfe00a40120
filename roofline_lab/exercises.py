"""The notebooks' exercise cells: check your six functions, compare a guess with the answer,
and grade a worked answer.

- `check(name)` runs your function (whatever LAB_IMPL selects) against the reference on a few
  cases and prints one line; `show(name, *args)` prints one call of yours.
- `reveal(guess, answer, unit=...)` prints how far a prediction landed from the answer.
- `answer(question, value)` grades a derivation or decision exercise; a close answer gets a hint.

Nothing here raises for a learner's mistake: an unwritten function prints "not implemented yet",
a starter.py that does not load prints the file, line and error, and a function that raises
prints what it raised, so every notebook runs to the end while you work through the exercises.
In starter mode a saved edit of roofline_lab/starter.py counts on the next call (no restart).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

from roofline_lab import lab, reference

#: Inputs each exercise is checked on, in exercise order (ex1 ... ex6): the seed's A100 numbers first.
CASES: dict[str, list[tuple[float, ...]]] = {
    "ridge_point": [(312e12, 2.0e12), (989.5e12, 3.35e12), (121e12, 300e9)],
    "arithmetic_intensity": [(8e9, 1, 2), (70e9, 1, 2), (8e9, 2048, 2), (8e9, 64, 0.5)],
    "is_compute_bound": [(1.0, 156.0), (2048.0, 156.0), (155.0, 156.0), (156.0, 156.0)],
    "decode_steps_per_second": [(8e9, 2, 2.0e12), (8e9, 0.5, 2.0e12), (70e9, 2, 3.35e12)],
    "decode_tokens_per_second": [(8e9, 2, 2.0e12, 1), (8e9, 2, 2.0e12, 64), (1e9, 1, 300e9, 8)],
    "critical_batch_size": [(312e12, 2.0e12, 2), (312e12, 2.0e12, 1), (989.5e12, 3.35e12, 2)],
}

#: What a wrong answer on a case most likely means, keyed by (function, case index).
CASE_HINTS: dict[tuple[str, int], str] = {
    ("is_compute_bound", 3): "at intensity == ridge the FLOPs take exactly as long as the bytes: the course counts "
                             "that step as compute-bound (>=, not >)",
    ("arithmetic_intensity", 3): "the bytes per weight divide: half a byte per weight means twice the intensity",
    ("decode_tokens_per_second", 1): "every sequence in the batch gets one token out of the same weight read",
    ("critical_batch_size", 1): "fewer bytes per weight means each token brings more FLOPs per byte",
}


def _call(func: object, args: tuple[float, ...]) -> str:
    return f"{func}({', '.join(f'{a:g}' for a in args)})"


def _known(name: str) -> None:
    if name not in CASES:
        raise ValueError(f"unknown exercise {name!r}; allowed: {', '.join(CASES)}")


def _where(exc: BaseException) -> str:
    """The starter.py line an exception came from, when it came from there."""
    source = lab._starter_file
    if source is None:
        return ""
    line = lab._error_line(source.path, exc)
    return f" ({line.split(': ', 1)[0]})" if line.startswith(str(source.path) + ",") else ""


def _attempt(name: str, args: tuple[float, ...]) -> tuple[bool, object]:
    """(True, result), or (False, None) after printing the one line that says why there is none."""
    try:
        return True, getattr(lab, name)(*args)
    except lab.StarterImportError as exc:
        print(f"starter.py does not load: {exc}")
    except NotImplementedError:
        print(f"not implemented yet: implement `{name}` in roofline_lab/starter.py")
    except Exception as exc:
        print(f"✗ {_call(name, args)} raised {type(exc).__name__}: {exc}{_where(exc)}")
    return False, None


def check(name: str) -> bool:
    """Check one of the six functions by name; print one line; return True when it matches."""
    _known(name)
    ref = getattr(reference, name)
    for i, args in enumerate(CASES[name]):
        ok, got = _attempt(name, args)
        if not ok:
            return False
        want = ref(*args)
        same = got == want if isinstance(want, bool) else math.isclose(got, want, rel_tol=1e-9)  # type: ignore[arg-type]
        if not same:
            hint = CASE_HINTS.get((name, i))
            print(f"✗ {name}: {_call(name, args)} returned {got!r}, the reference gives {want!r}"
                  + (f"; hint: {hint}" if hint else ""))
            return False
    example = CASES[name][0]
    print(f"✓ {name} matches the reference on {len(CASES[name])} cases, "
          f"e.g. {_call(name, example)} = {ref(*example)!r}")
    return True


def show(name: str, *args: float) -> object:
    """Call YOUR function (whatever LAB_IMPL selects) and print the call and its result.

    Prints one line instead of raising while the function is unwritten or broken; returns the
    result, or None when there is none.
    """
    _known(name)
    ok, result = _attempt(name, args)
    if ok:
        print(f"{_call(name, args)} = {result!r}")
    return result


# ---------------------------------------------------------------------------------------------
# Guess, then reveal


def _fmt(x: float) -> str:
    if x == 0 or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise TypeError(f"{name} must be a finite number (or None for no guess yet), got {value!r}")
    return float(value)


def _verdict(factor: float) -> str:
    if factor <= 1.1:
        return "spot on"
    if factor <= 1.5:
        return "close"
    if factor <= 3:
        return "the right ballpark"
    if factor <= 10:
        return "the right order of magnitude"
    return "more than 10x off: the argument above is worth a second read"


def reveal_text(guess: float | None, answer: float, unit: str = "") -> str:
    """The line `reveal` prints."""
    if guess is None:
        return "no guess yet: put a number in the guess cell above, then run that cell and this one again"
    g, a = _number("guess", guess), _number("answer", answer)
    suffix = f" {unit}" if unit else ""
    said = f"you guessed {_fmt(g)}{suffix}; the answer is {_fmt(a)}{suffix}"
    if g == a:
        return f"{said} (exact): spot on"
    if g <= 0 or a <= 0:
        return f"{said} (off by {_fmt(abs(g - a))}{suffix})"
    factor = max(g / a, a / g)
    direction = "too high" if g > a else "too low"
    return f"{said} ({factor:.1f}x off, {direction}): {_verdict(factor)}"


def reveal(guess: float | None, answer: float, unit: str = "") -> None:
    """Print how a prediction compares with the answer, e.g.
    "you guessed 100 FLOP/byte; the answer is 156 FLOP/byte (1.6x off, too low): the right ballpark".

    `guess` None (the guess cell left as it came) prints "no guess yet: ...".
    """
    print(reveal_text(guess, answer, unit))


# ---------------------------------------------------------------------------------------------
# Worked answers: derivations and decisions, graded with a hint


@dataclass(frozen=True)
class Question:
    """One exercise with a single right answer, a number or a word."""

    prompt: str
    solve: Callable[[], float | str]  # computed with the reference physics when asked
    unit: str = ""
    hint: str = ""
    rel_tol: float = 0.01  # counted right within this relative distance
    mistakes: dict[float | str, str] = field(default_factory=dict)  # a likely wrong answer -> what it means


def _gpu(key: str):  # the catalogs load only when a question is asked
    from roofline_lab.hardware import get_gpu

    return get_gpu(key)


def _step():
    from roofline_lab import step_model

    return step_model


def _kv_8b() -> float:
    from roofline_lab.models import get_model

    return get_model("8b-lab").kv_bytes_per_token("fp16")


QUESTIONS: dict[str, Question] = {
    "double-bandwidth-ridge": Question(
        "the ridge of a chip with the A100's 312 TFLOP/s and twice its 2.0 TB/s",
        lambda: reference.ridge_point(312e12, 4.0e12), "FLOP/byte",
        "the ridge is FLOP/s over bytes/s: what does doubling the denominator do to a quotient?",
        mistakes={312.0: "that doubles the ridge; more bandwidth means each byte must feed fewer FLOPs"},
    ),
    "int8-ridge": Question(
        "the lab A100's ridge for int8 arithmetic (624 TOPS)",
        lambda: _gpu("a100-lab").ridge("int8"), "OP/byte",
        "the ridge belongs to the chip: its int8 peak over its bandwidth; no workload's bytes per value appear",
        mistakes={156.0: "that is the fp16 ridge; the int8 peak is twice the fp16 one",
                  78.0: "int8 bytes shrink the workload's bytes, which moves its intensity, not the chip's ridge"},
    ),
    "square-matmul-intensity": Question(
        "the intensity of one [T x d] . [d x f] matmul with T = d = f = 4,096 in fp16",
        lambda: 2 * 4096**3 / ((3 * 4096**2) * 2), "FLOP/byte",
        "FLOPs 2Tdf; bytes (df + Td + Tf) x 2: here the activations are as large as the weights",
        mistakes={4096.0: "2T/b assumes only the weights move; at T = d = f the inputs and outputs count as much"},
    ),
    "tokens-per-step-for-500": Question(
        "tokens each decode step of one sequence must yield for 500 tokens/s (8B fp16, lab A100)",
        lambda: 500 / _step().decode_step("8b-lab", "a100-lab", batch=1).tokens_per_s, "tokens per step",
        "the ceiling is on steps/s (125); tokens/s per sequence = steps/s x tokens accepted per step",
    ),
    "l4-shortest-compute-bound-prompt": Question(
        "the shortest fp16 prompt whose first-order prefill is compute-bound on the NVIDIA L4",
        lambda: float(math.ceil(_gpu("l4").ridge("fp16"))), "tokens",
        "in fp16 each token adds 1 FLOP/byte; the ridge is 121 TFLOP/s over 300 GB/s; round up",
        mistakes={403.0: "403 tokens give 403 FLOP/byte, still just below the ridge of 403.3"},
    ),
    "sequences-at-8k": Question(
        "how many 8,192-token sequences fit next to the 8B fp16 weights on the lab A100 (80 GB)",
        lambda: float(_step().max_batch("8b-lab", "a100-lab", 8192)), "sequences",
        "80 GB of HBM is 80 GiB = 85,899,345,920 bytes; one token's cache is 128 KiB = 131,072 bytes; round down",
        rel_tol=0.0,
    ),
    "w4a16-critical-batch": Question(
        "the critical batch of the 8B model with int4 weights and fp16 math on the lab A100",
        lambda: _step().critical_batch("8b-lab", "a100-lab", weight_dtype="int4", compute_dtype="fp16"), "tokens",
        "the peak stays fp16's (ridge 156); each token now brings 2 FLOPs per half byte",
        mistakes={156.0: "that keeps 2 bytes per weight; int4 weights are half a byte"},
    ),
    "wall-at-batch-8": Question(
        "the context at which batch 8's KV reads equal the 8B model's 16 GB weight read",
        lambda: _step().long_context_wall(8e9, 2, 8, _kv_8b()), "tokens",
        "weights 16e9 bytes = batch x context x 131,072 bytes: solve for the context",
        rel_tol=0.005,
    ),
    "b200-decode-speedup": Question(
        "how many times faster single-stream 8B decode runs on a B200 than on the lab A100",
        lambda: (_step().decode_step("8b-lab", "b200").tokens_per_s
                 / _step().decode_step("8b-lab", "a100-lab").tokens_per_s), "x",
        "batch-1 decode is bandwidth-bound: compare 8 TB/s with 2.0 TB/s, not the TFLOP/s",
        mistakes={7.2: "that is the peak FLOP/s ratio, which sets prefill; decode follows the bandwidth"},
    ),
    "free-chunk-at-batch-100": Question(
        "the largest prefill chunk that rides for free with a decode batch of 100 (8B fp16, lab A100)",
        lambda: _step().critical_batch("8b-lab", "a100-lab") - 100, "tokens",
        "the step stays at one weight read while decode + chunk tokens <= the critical batch",
        rel_tol=0.0,
    ),
    "float64-critical-batch-factor": Question(
        "the factor by which a CPU's critical batch changes from float32 to float64 decode",
        lambda: 1.0, "x",
        "float64 roughly halves the GEMM peak (the ridge halves) and doubles the bytes per weight",
        rel_tol=0.05,
        mistakes={0.5: "the ridge halves, but each weight now brings 8 bytes instead of 4",
                  2.0: "the bytes per weight double, but the float64 peak is about half the float32 one"},
    ),
}


def _match(value: float | str, want: float | str, rel_tol: float) -> bool:
    if isinstance(want, str) or isinstance(value, str):
        return str(value).strip().lower() == str(want).strip().lower()
    return math.isclose(value, want, rel_tol=rel_tol, abs_tol=1e-12)


def answer_text(question: str, value: float | str | None) -> str:
    """The line `answer` prints."""
    if question not in QUESTIONS:
        raise ValueError(f"unknown question {question!r}; allowed: {', '.join(QUESTIONS)}")
    q = QUESTIONS[question]
    if value is None:
        return f"no answer yet: {q.prompt}? Write it in the cell above and run both cells"
    if not isinstance(value, str):
        value = _number("value", value)
    want = q.solve()
    unit = f" {q.unit}" if q.unit else ""
    shown = value if isinstance(value, str) else _fmt(value)
    if _match(value, want, q.rel_tol):
        return f"✓ {shown}{unit}: right"
    for wrong, meaning in q.mistakes.items():
        if _match(value, wrong, 0.02):
            return f"✗ {shown}{unit} is a common slip: {meaning}"
    if isinstance(value, float) and isinstance(want, float) and value > 0 and want > 0:
        factor = max(value / want, want / value)
        if factor <= 1.5:
            return f"close, not yet: {shown}{unit} is within {factor - 1:.0%}; hint: {q.hint}"
    return f"✗ {shown}{unit} is not it; hint: {q.hint}"


def answer(question: str, value: float | str | None) -> bool:
    """Grade a worked answer to one of `QUESTIONS`; print one line; return True when right."""
    text = answer_text(question, value)
    print(text)
    return text.startswith("✓")


__all__ = ["CASES", "QUESTIONS", "answer", "answer_text", "check", "reveal", "reveal_text", "show"]

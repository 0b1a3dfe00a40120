"""The explorer's state and what it shows: a pure function from one to the other.

    from roofline_lab.explorer import ExplorerState, explorer_view
    view = explorer_view(ExplorerState(batch=64))
    view.readout        # 'decode, batch 64, fp16, 8B (lab rounding) on A100 (lab rounding): ...'
    view.point          # (64.0, 1.28e14): intensity FLOP/byte, achieved FLOP/s

The widget (`roofline_lab.widgets`), the presets, the CLI and notebooks all build on this;
it asks the physics once, through `roofline_lab.step_model`, and needs only numpy.
`check_control` is the one place a control's value is checked: sliders snap, numbers out
of range clamp (with a note for the readout), names that do not exist raise.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from roofline_lab.dtypes import canonical_dtype
from roofline_lab.hardware import get_gpu
from roofline_lab.models import get_model
from roofline_lab.parallel import tp_choices
from roofline_lab.step_model import StepEstimate, decode_step, max_batch, prefill_step
from roofline_lab.units import GIGA, intensity_text, percent, readout_number, tokens_label

#: Batch slider stops: about 1.5x apart, 1 to 4096, with the seed's 1, 8, 64, 156, 512 exactly.
BATCH_OPTIONS: tuple[int, ...] = (
    1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 156, 192, 256, 384, 512,
    768, 1024, 1536, 2048, 3072, 4096,
)
#: Context stops (cached tokens per sequence): 0, then powers of two from 128 to 1M.
CONTEXT_OPTIONS: tuple[int, ...] = (0, *(2**k for k in range(7, 21)))
#: Prompt stops (tokens per prompt, prefill): powers of two from 16 to 128K.
PROMPT_OPTIONS: tuple[int, ...] = tuple(2**k for k in range(4, 18))
#: The seed's points.
SEED_DECODE_BATCHES: tuple[int, ...] = (1, 8, 64, 156, 512)
SEED_PREFILL_TOKENS: tuple[int, ...] = (128, 2048)
#: The batch sweep behind panels (b) and (c).
BATCH_SWEEP = np.unique(np.round(np.geomspace(1, BATCH_OPTIONS[-1], 97))).astype(float)
PHASES = ("decode", "prefill")
#: Range of the two achieved-share sliders (bandwidth_fraction, flops_fraction).
FRACTION_RANGE = (0.05, 1.0)
BANDWIDTH_RANGE = FRACTION_RANGE
#: Old control names, still accepted with a DeprecationWarning.
DEPRECATED_NAMES: Mapping[str, str] = {"dtype": "weight_dtype", "context": "context_len", "prompt": "prompt_len"}


@dataclass(frozen=True)
class ExplorerState:
    """The explorer's inputs, already checked and snapped to what the controls offer.

    The names are the step model's: weight_dtype / compute_dtype, context_len (cached tokens
    per sequence, decode), prompt_len (tokens per prompt, prefill); kv switches the KV-cache
    term on (reads in decode, writes and attention in prefill); tp is the number of GPUs the
    model is split over (tensor parallelism, one of `roofline_lab.parallel.tp_choices`)."""

    batch: int = 1
    weight_dtype: str = "fp16"
    compute_dtype: str = "fp16"
    gpu: str = "a100-lab"
    model: str = "8b-lab"
    context_len: int = 0
    kv: bool = False
    bandwidth_fraction: float = 1.0
    flops_fraction: float = 1.0
    phase: str = "decode"
    prompt_len: int = 2048
    tp: int = 1


CONTROL_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ExplorerState))
DEFAULTS: Mapping[str, object] = {f.name: f.default for f in fields(ExplorerState)}
_STOPS = {"batch": BATCH_OPTIONS, "context_len": CONTEXT_OPTIONS, "prompt_len": PROMPT_OPTIONS}


def canonical_names(values: Mapping[str, object], *, stacklevel: int = 3) -> dict[str, object]:
    """Control values by their current names: old names warn and are renamed; unknown ones
    raise TypeError listing the controls."""
    out: dict[str, object] = {}
    for name, value in values.items():
        if name in DEPRECATED_NAMES:
            new = DEPRECATED_NAMES[name]
            warnings.warn(f"explorer control {name!r} is now called {new!r}", DeprecationWarning,
                          stacklevel=stacklevel)
            name = new
        if name not in CONTROL_NAMES:
            raise TypeError(f"unknown control {name!r}; controls: {', '.join(CONTROL_NAMES)}")
        out[name] = value
    return out


def _nearest(value: float, options: Sequence[int]) -> int:
    """The option nearest to value on a log scale (0 only for values below half the first stop)."""
    positive = [o for o in options if o > 0]
    if 0 in options and value < positive[0] / 2:
        return 0
    value = max(value, 1e-9)
    return min(positive, key=lambda o: abs(math.log(o) - math.log(value)))


def _real(name: str, value: object, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite ({allowed}), got {value!r}")
    return float(value)


def check_tp(value: object, model: str, gpu: str) -> int:
    """tp checked against what the model on the chip allows (`tp_choices`): the int, or
    ValueError naming tp, the value and the allowed list (TypeError when not a whole number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"tp must be a whole number of GPUs, got {value!r}")
    choices = tp_choices(model, gpu)
    if not float(value).is_integer() or int(value) not in choices:
        raise ValueError(f"tp={value!r} is not available for {get_model(model).name} on {get_gpu(gpu).name}; "
                         f"tp must be one of {choices}")
    return int(value)


def _snapped_tp(state: ExplorerState) -> tuple[int, str | None]:
    """The state's tp, or the largest allowed value below it after a model/GPU change (with a note)."""
    choices = tp_choices(state.model, state.gpu)
    if state.tp in choices:
        return state.tp, None
    tp = max(n for n in choices if n <= state.tp) if min(choices) <= state.tp else min(choices)
    return tp, (f"tp {state.tp} is not available for {get_model(state.model).name} on {get_gpu(state.gpu).name} "
                f"(choices {choices}): shown at tp {tp}")


def check_control(name: str, value: object, state: ExplorerState | None = None) -> tuple[object, str | None]:
    """Check one control value: (the value to use, a note for the readout or None).

    Numbers snap to the nearest slider stop or clamp into range, with a note; values that
    cannot be used at all (a GPU name that does not exist, a batch of 'many', a tp the model
    on the chip does not allow) raise ValueError or TypeError naming the control, the value
    and what is allowed. tp is checked against `state`'s model and GPU (the defaults' if None)."""
    if name == "tp":
        state = ExplorerState() if state is None else state
        return check_tp(value, state.model, state.gpu), None
    if name in _STOPS:
        stops = _STOPS[name]
        x = _real(name, value, f"a number of {'tokens' if name != 'batch' else 'sequences'}")
        snapped = _nearest(x, stops)
        if x > max(stops) or x < min(stops):
            return snapped, f"{name} {value:,} is outside {min(stops):,}..{max(stops):,}: clamped to {snapped:,}"
        if snapped != x:
            return snapped, f"{name} {value:,} shown as {snapped:,}, the nearest slider stop"
        return snapped, None
    if name in ("weight_dtype", "compute_dtype"):
        return canonical_dtype(value), None  # type: ignore[arg-type]
    if name == "gpu":
        return get_gpu(value).key, None  # type: ignore[arg-type]
    if name == "model":
        return get_model(value).key, None  # type: ignore[arg-type]
    if name == "kv":
        if not isinstance(value, (bool, np.bool_)) and value not in (0, 1):
            raise TypeError(f"kv must be True or False, got {value!r}")
        return bool(value), None
    if name in ("bandwidth_fraction", "flops_fraction"):
        x = _real(name, value, "a number in (0, 1]")
        lo, hi = FRACTION_RANGE
        clamped = round(min(max(x, lo), hi), 2)
        return clamped, (None if lo <= x <= hi else f"{name} {x:g} clamped to {clamped:g}")
    if name == "phase":
        if value not in PHASES:
            raise ValueError(f"phase must be 'decode' or 'prefill', got {value!r}")
        return value, None
    raise TypeError(f"unknown control {name!r}; controls: {', '.join(CONTROL_NAMES)}")


def _exact_batch(value: object) -> int | None:
    """value as a batch kept exactly (a whole number within the slider's range), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return None
    return int(value) if BATCH_OPTIONS[0] <= int(value) <= BATCH_OPTIONS[-1] else None


def updated_state(state: ExplorerState, values: Mapping[str, object], *,
                  exact_batch: bool = False) -> tuple[ExplorerState, list[str]]:
    """`state` with `values` (current control names) checked and applied; and the notes.

    gpu and model apply before tp, so tp is checked against the new pair; a change that makes
    the current tp unavailable snaps it to the largest allowed value below it, with a note.
    exact_batch: keep a whole-number batch within 1..4096 as it is instead of snapping it to a
    slider stop (presets showing a computed batch, such as a capstone plan's)."""
    changes, notes = {}, []
    for name, value in values.items():
        exact = _exact_batch(value) if name == "batch" and exact_batch else None
        if exact is not None:
            changes[name] = exact
        elif name != "tp":
            changes[name], note = check_control(name, value)
            if note:
                notes.append(note)
    new = replace(state, **changes)
    if "tp" in values:
        return replace(new, tp=check_tp(values["tp"], new.model, new.gpu)), notes
    tp, note = _snapped_tp(new)
    return replace(new, tp=tp), [*notes, note] if note else notes


# --------------------------------------------------------------------------- the numbers


def step_for(state: ExplorerState, batch: Any = None, *, prompt_len: Any = None,
             compute_dtype: str | None = None) -> StepEstimate:
    """The step the explorer shows: decode of `batch` sequences at `context_len` (KV on), or
    prefill of batch x prompt_len. With the KV term off this is the seed's weights-only model,
    whose prefill of L tokens is one weight read shared by L tokens (a context-0 step)."""
    batch = state.batch if batch is None else batch
    prompt_len = state.prompt_len if prompt_len is None else prompt_len
    opts: dict[str, Any] = dict(weight_dtype=state.weight_dtype, compute_dtype=compute_dtype or state.compute_dtype,
                                bandwidth_fraction=state.bandwidth_fraction, flops_fraction=state.flops_fraction,
                                tp=state.tp)
    if state.phase == "decode":
        return decode_step(state.model, state.gpu, batch, state.context_len if state.kv else 0, **opts)
    if state.kv:
        return prefill_step(state.model, state.gpu, prompt_len, batch, **opts)
    return decode_step(state.model, state.gpu, np.asarray(batch) * np.asarray(prompt_len), 0, **opts)


def _achieved(step: StepEstimate) -> np.ndarray:
    """FLOP/s the step achieves: its FLOPs over its time (on the roof in the one-roofline model)."""
    return np.atleast_1d(np.asarray(step.flops / step.time_s, dtype=float))


@dataclass(frozen=True)
class ExplorerView:
    """Everything the explorer's figure and readout show, as plain numbers (SI) and strings."""

    phase: str  # "decode" or "prefill"
    peak_flops: float  # FLOP/s of the compute dtype, derated
    mem_bandwidth: float  # achievable bytes/s
    ridge: float  # FLOP/byte
    decode_x: np.ndarray  # the seed's decode batches: intensity FLOP/byte
    decode_y: np.ndarray  # achieved FLOP/s
    decode_labels: tuple[str, ...]
    prefill_x: np.ndarray
    prefill_y: np.ndarray
    prefill_labels: tuple[str, ...]
    point: tuple[float, float]  # the current state: (intensity FLOP/byte, achieved FLOP/s)
    current_label: str
    batches: np.ndarray  # the batch sweep (x of panels b and c)
    tokens_per_s: np.ndarray
    ideal_tokens_per_s: np.ndarray  # batch-1 rate times batch: the free lunch, if it never ended
    step_ms: np.ndarray
    batch: int
    batch_tokens_per_s: float
    batch_step_ms: float
    wall_batch: int | None  # largest batch that fits in memory; None when memory does not limit it
    fits: bool  # weights + KV of this batch fit in the GPUs' memory (each GPU's share in its own, with tp)
    tp: int = 1  # GPUs the model is split over (tensor parallelism)
    comm_ms: np.ndarray = field(default_factory=lambda: np.zeros(BATCH_SWEEP.shape))  # all-reduce ms per step
    batch_comm_ms: float = 0.0
    batch_tokens_per_s_per_gpu: float = 0.0
    resident_bytes_per_gpu: float = 0.0  # weights + KV cache each GPU holds at this batch
    memory_bytes_per_gpu: float = 0.0  # what one GPU has
    readout: str = ""
    step: StepEstimate | None = field(default=None, repr=False, compare=False)

    @property
    def current_x(self) -> float:
        return self.point[0]

    @property
    def current_y(self) -> float:
        return self.point[1]


def _memory(state: ExplorerState) -> tuple[int | None, bool, list[str]]:
    """(memory wall batch or None, whether the current batch fits, notes); per GPU with tp."""
    g, m, tp = get_gpu(state.gpu), get_model(state.model), state.tp
    weights = m.weight_bytes(state.weight_dtype)
    memory = g.memory_bytes
    label = getattr(g, "memory_label", None) or f"{memory / GIGA:,.0f} GB"
    if tp > 1:
        label += f" of each of {tp} GPUs"
    if weights > memory * tp:
        share = f", {weights / tp / GIGA:,.0f} GB per GPU at TP{tp}" if tp > 1 else ""
        return 0, False, [f"DOES NOT FIT: {m.name} weights in {state.weight_dtype} ({weights / GIGA:,.0f} GB{share}) "
                          f"exceed the {label} of memory (numbers assume they did)"]
    cached = state.prompt_len if state.phase == "prefill" else state.context_len
    if not (state.kv and cached > 0):
        return None, True, []
    wall = int(max_batch(m, g, cached, weight_dtype=state.weight_dtype, tp=tp))
    if wall == 0:
        free = memory - weights / tp
        need = cached * m.kv_bytes_per_token("fp16") / tp
        beside = "beside the weights" if tp == 1 else "per GPU beside its share of the weights"
        what = "sequence's" if tp == 1 else "sequence's share of the"
        return 0, False, [f"DOES NOT FIT: the {free / GIGA:,.1f} GB left {beside} cannot hold even one "
                          f"{what} {tokens_label(cached)}-token KV cache ({need / GIGA:,.1f} GB): nothing fits"]
    if state.batch > wall:
        return wall, False, [f"DOES NOT FIT: batch {state.batch:,} x {tokens_label(cached)} tokens of KV exceeds "
                             f"the {label} of memory: at most {wall:,} sequences fit"]
    return wall, True, []


def _readout(state: ExplorerState, now: StepEstimate, compute: str, notes: Sequence[str]) -> str:
    g, m = get_gpu(state.gpu), get_model(state.model)
    intensity, ridge = float(now.intensity), float(now.ridge)
    bound = "compute-bound" if bool(now.compute_bound) else "memory-bound"
    dtypes = state.weight_dtype if state.weight_dtype == compute else f"{state.weight_dtype} weights, {compute} math"
    where = f"batch {state.batch:,}"
    if state.phase == "prefill":
        where += f" x {tokens_label(state.prompt_len)}-token prompts"
    elif state.kv:
        where += f", context {tokens_label(state.context_len)}"
    if state.kv:
        where += " (KV on)"
    if state.bandwidth_fraction < 1:
        where += f", {state.bandwidth_fraction:.0%} of bandwidth"
    if state.flops_fraction < 1:
        where += f", {state.flops_fraction:.0%} of peak FLOP/s"
    on = g.name if state.tp == 1 else f"{state.tp} x {g.name} (TP{state.tp})"
    tokens = f"{readout_number(float(now.tokens_per_s))} tok/s"
    if state.tp > 1:
        tokens += f" ({readout_number(float(now.tokens_per_s) / state.tp)} per GPU)"
    time_ms = 1e3 * float(now.time_s)
    text = (
        f"{state.phase}, {where}, {dtypes}, {m.name} on {on}: intensity {intensity_text(intensity)} FLOP/B "
        f"{'>=' if intensity >= ridge else '<'} ridge {intensity_text(ridge)} -> {bound}; "
        f"{tokens}; {percent(float(now.flops_utilization))} % of peak "
        f"compute; {'step' if state.phase == 'decode' else 'TTFT'} {readout_number(time_ms)} ms"
    )
    if state.tp > 1:
        text += f" (all-reduce {1e3 * float(now.comm_time_s):.3g} ms of {time_ms:.3g} ms)"
    return text + ("; note: " + "; ".join(notes) if notes else "")


@functools.lru_cache(maxsize=64)
def _batch_free_steps(state: ExplorerState, compute: str) -> tuple[StepEstimate, StepEstimate, StepEstimate]:
    """The batch sweep and the seed's decode and prefill points: all the view shows that the
    current batch does not move (`state` has its batch fixed). Cached, so a batch move, the
    commonest one, asks the step model only for its own point."""
    sweep = step_for(state, BATCH_SWEEP, compute_dtype=compute)
    dec = step_for(replace(state, phase="decode"), np.array(SEED_DECODE_BATCHES, dtype=float), compute_dtype=compute)
    pre = step_for(replace(state, phase="prefill"), 1, prompt_len=np.array(SEED_PREFILL_TOKENS, dtype=float),
                   compute_dtype=compute)
    return sweep, dec, pre


def explorer_view(state: ExplorerState, notes: Sequence[str] = ()) -> ExplorerView:
    """Everything the figure and readout show for one state, from step_model and the catalogs."""
    g = get_gpu(state.gpu)
    notes = list(notes)
    compute = g.runs(state.compute_dtype)
    if compute != state.compute_dtype:
        notes.append(f"{g.name} lists no {state.compute_dtype} peak, so the math runs in {compute}")
    now = step_for(state, compute_dtype=compute)
    sweep, dec, pre = _batch_free_steps(replace(state, batch=1), compute)
    wall, fits, memory_notes = _memory(state)
    fits = bool(np.all(now.fits)) if hasattr(now, "fits") and wall != 0 else fits
    tps = np.array(sweep.tokens_per_s, dtype=float)  # copies: the cached steps stay as they were
    step_ms = 1e3 * float(now.time_s)
    sweep_ms = 1e3 * np.asarray(sweep.time_s, dtype=float)
    comm_ms = np.broadcast_to(1e3 * np.asarray(sweep.comm_time_s, dtype=float), sweep_ms.shape).copy()
    return ExplorerView(
        phase=state.phase,
        peak_flops=float(now.peak_flops),
        mem_bandwidth=float(now.mem_bandwidth),
        ridge=float(now.ridge),
        decode_x=np.atleast_1d(np.array(dec.intensity, dtype=float)),
        decode_y=_achieved(dec),
        decode_labels=tuple(f"b={b}" for b in SEED_DECODE_BATCHES),
        prefill_x=np.atleast_1d(np.array(pre.intensity, dtype=float)),
        prefill_y=_achieved(pre),
        prefill_labels=tuple(f"L={tokens_label(t)}" for t in SEED_PREFILL_TOKENS),
        point=(float(now.intensity), float(_achieved(now)[0])),
        current_label=f"{state.phase} b={state.batch:,}",
        batches=BATCH_SWEEP,
        tokens_per_s=tps,
        ideal_tokens_per_s=tps[0] * BATCH_SWEEP / BATCH_SWEEP[0],
        step_ms=sweep_ms,
        batch=state.batch,
        batch_tokens_per_s=float(now.tokens_per_s),
        batch_step_ms=step_ms,
        wall_batch=wall,
        fits=fits,
        tp=state.tp,
        comm_ms=comm_ms,
        batch_comm_ms=1e3 * float(now.comm_time_s),
        batch_tokens_per_s_per_gpu=float(now.tokens_per_s) / state.tp,
        resident_bytes_per_gpu=float(np.max(now.resident_bytes)) / state.tp,
        memory_bytes_per_gpu=float(g.memory_bytes),
        readout=_readout(state, now, compute, [*memory_notes, *notes]),
        step=now,
    )


__all__ = [
    "BATCH_OPTIONS",
    "BATCH_SWEEP",
    "CONTEXT_OPTIONS",
    "CONTROL_NAMES",
    "DEFAULTS",
    "DEPRECATED_NAMES",
    "FRACTION_RANGE",
    "PHASES",
    "PROMPT_OPTIONS",
    "SEED_DECODE_BATCHES",
    "SEED_PREFILL_TOKENS",
    "ExplorerState",
    "ExplorerView",
    "canonical_names",
    "check_control",
    "check_tp",
    "explorer_view",
    "step_for",
    "updated_state",
]

"""Lecturer presets: one-click states of the explorer, each with a one-sentence lesson.

Eight roofline lessons, then the serving lessons' (`SERVING_PRESET_NAMES`: the Llama-3-8B
frontier at 4K context, and the capstone's reference answer per variant at its TP and batch).

    from roofline_lab.presets import PRESETS, get_preset
    get_preset("batch 64 free lunch").lesson   # '64 sequences share one 16 GB weight read: ...'
    explorer.apply_preset("the critical batch")

Every preset sets every explorer control (see `roofline_lab.explorer.CONTROL_NAMES`), so
applying one gives the same picture whatever was on screen before. The numbers in each
lesson are read from the explorer's own view of the preset's state
(`roofline_lab.explorer.explorer_view`), never typed in, so the sentence and the picture
always agree and a change to the data or the model changes both. Needs only numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from roofline_lab._lookup import normalize, resolve_key
from roofline_lab.explorer import BATCH_OPTIONS, DEFAULTS, ExplorerState, ExplorerView, explorer_view
from roofline_lab.hardware import get_gpu
from roofline_lab.models import get_model
from roofline_lab.step_model import critical_batch, long_context_wall, max_batch
from roofline_lab.units import gigabytes as _gb
from roofline_lab.units import intensity_text as _intensity
from roofline_lab.units import readout_number as _n
from roofline_lab.units import whole as _int

#: What every preset starts from: the seed's A100 (lab rounding), 8B model, fp16, one sequence.
BASE_SETTINGS: Mapping[str, object] = MappingProxyType(dict(DEFAULTS))


@dataclass(frozen=True)
class Preset:
    """A named explorer state and the lesson it shows.

    settings: a value for every explorer control (names as in RooflineExplorer.set);
    lesson: one sentence, its numbers computed from the library.
    """

    name: str
    settings: Mapping[str, object]
    lesson: str


def _settings(**changes: object) -> Mapping[str, object]:
    unknown = set(changes) - set(BASE_SETTINGS)
    if unknown:
        raise TypeError(f"unknown explorer controls {sorted(unknown)}; controls: {', '.join(BASE_SETTINGS)}")
    return MappingProxyType({**BASE_SETTINGS, **changes})


def _view(settings: Mapping[str, object]) -> ExplorerView:
    """What the explorer shows for these settings: the lessons read their numbers from it."""
    return explorer_view(ExplorerState(**settings))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the eight lessons


def _single_stream() -> Preset:
    s = _settings()
    d = _view(s).step
    return Preset(
        "single-stream decode on the A100", s,
        f"One sequence brings {_intensity(d.intensity)} FLOP per byte to a ridge of {_n(d.ridge)}, so decode is "
        f"memory-bound: it keeps {100 * d.flops_utilization:.2g} % of the A100's compute busy and no kernel "
        f"can push it past {_n(d.tokens_per_s)} tok/s.",
    )


def _prefill() -> Preset:
    s = _settings(phase="prefill", prompt_len=2048)
    p = _view(s).step  # KV off: the seed's weights-only prefill, 2048 tokens through one weight read
    return Preset(
        "prefill 2048", s,
        f"A {_int(s['prompt_len'])}-token prompt does {_int(p.intensity)} FLOP per byte, "
        f"{p.intensity / p.ridge:.0f}x the ridge of {_n(p.ridge)}: prefill is compute-bound, so its "
        f"{_n(1e3 * p.time_s)} ms time to first token answers to faster math, not faster memory.",
    )


def _critical_batch() -> Preset:
    base = _settings()
    crit = round(critical_batch(base["model"], base["gpu"]))
    s = _settings(batch=crit)
    below, at = _view(_settings(batch=crit - 1)).step, _view(s).step
    return Preset(
        "the critical batch", s,
        f"At batch {_int(crit)} decode's intensity reaches the ridge ({_n(at.ridge)} FLOP/B) and the step "
        f"turns compute-bound (batch {_int(crit - 1)} still waits on memory): the free lunch ends, and "
        f"from here every extra sequence lengthens the {_n(1e3 * below.time_s)} ms step.",
    )


def _free_lunch() -> Preset:
    s = _settings(batch=64)
    one, many = _view(_settings()).step, _view(s).step
    return Preset(
        "batch 64 free lunch", s,
        f"{s['batch']} sequences share one {_gb(many.weight_bytes)} weight read: {_n(many.tokens_per_s)} tok/s "
        f"in the same {_n(1e3 * many.time_s)} ms step that served one sequence, "
        f"{many.tokens_per_s / one.tokens_per_s:.0f}x the throughput for free.",
    )


def _h100() -> Preset:
    s = _settings(gpu="h100-sxm")
    h, a = _view(s).step, _view(_settings()).step
    return Preset(
        "H100", s,
        f"The H100 gained FLOPs faster than bandwidth: its ridge rises to {_n(h.ridge)} FLOP/B (A100: "
        f"{_n(a.ridge)}), so decode needs {_n(h.ridge)} sequences per step to fill it, while one sequence "
        f"of the 8B model still tops out at {_n(h.tokens_per_s)} tok/s.",
    )


def _int4() -> Preset:
    s = _settings(weight_dtype="int4", compute_dtype="fp16")
    q, f = _view(s).step, _view(_settings()).step
    return Preset(
        "INT4 weights", s,
        f"INT4 weights are {_gb(q.weight_bytes)} instead of {_gb(f.weight_bytes)}, so single-stream decode "
        f"streams {f.weight_bytes / q.weight_bytes:.0f}x fewer bytes and its ceiling rises from "
        f"{_n(f.tokens_per_s)} to {_n(q.tokens_per_s)} tok/s, with the math still in fp16.",
    )


def _long_context() -> Preset:
    s = _settings(batch=64, kv=True, context_len=2048)
    m = get_model(s["model"])
    wall = long_context_wall(m.n_params, m.weight_bytes("fp16") / m.n_params, s["batch"],
                             m.kv_bytes_per_token("fp16"))
    short, long = _view({**s, "kv": False}).step, _view(s).step
    return Preset(
        "the long-context wall", s,
        f"At batch {s['batch']} the KV cache outweighs the {_gb(long.weight_bytes)} weight read past "
        f"{_int(wall)} tokens of context: at {s['context_len'] // 1024}K it is "
        f"{100 * long.kv_bytes / long.bytes:.0f} % of the bytes and throughput falls from "
        f"{_n(short.tokens_per_s)} to {_n(long.tokens_per_s)} tok/s.",
    )


def _seventy_b() -> Preset:
    base = dict(model="70b-lab", weight_dtype="int8", compute_dtype="fp16", kv=True, context_len=4096)
    m, g = get_model(base["model"]), get_gpu(BASE_SETTINGS["gpu"])
    fits = int(max_batch(m, g, base["context_len"], weight_dtype="int8"))
    batch = max(b for b in BATCH_OPTIONS if b <= max(fits, 1))  # the largest slider stop that fits
    s = _settings(**base, batch=batch)
    view = _view(s)
    crit = critical_batch(m, g, weight_dtype="int8", compute_dtype="fp16")
    shown = f"batch {batch}" + ("" if batch == fits else ", the largest slider stop that fits,") + " is shown"
    return Preset(
        "70B on one GPU", s,
        f"The 70B model's {_gb(m.weight_bytes('fp16'))} of fp16 weights overflow the A100's "
        f"{getattr(g, 'memory_label', None) or _gb(g.memory_bytes)} ({_gb(g.memory_bytes)} counted in 10^9 bytes); "
        f"int8 weights ({_gb(m.weight_bytes('int8'))}) fit, but the "
        f"{_gb(g.memory_bytes - m.weight_bytes('int8'))} left hold the {s['context_len'] // 1024}K-token KV caches "
        f"of only {view.wall_batch} sequences ({shown}), so the memory wall stops the batch far below the "
        f"critical batch of {_n(crit)}.",
    )


# --------------------------------------------------------------------------- serving lessons


def frontier_presets() -> tuple[Preset, ...]:
    """The latency-throughput frontier: Llama-3-8B on one H100 SXM at 4K context, the best
    batch under 20 ms and under 50 ms (`serving.best_decode_batch`) and the memory wall
    (`serving.decode_frontier`); the step times and tokens/s quoted are the explorer's. Their
    batches are computed, not slider stops: applying one adds its batch to the slider."""
    from roofline_lab.serving import best_decode_batch, decode_frontier

    model, gpu, ctx = "llama-3-8b", "h100-sxm", 4096
    base = dict(model=model, gpu=gpu, context_len=ctx, kv=True, tp=1)
    out = []
    for target_s in (0.020, 0.050):
        op = best_decode_batch(model, gpu, ctx, target_s)
        s = _settings(**base, batch=op.batch)
        view = _view(s)
        out.append(Preset(
            f"best batch under {target_s * 1e3:.0f} ms", s,
            f"At {ctx // 1024}K tokens of context the largest batch with steps under {target_s * 1e3:.0f} ms is "
            f"{op.batch} (limited by {op.limited_by}): its steps take {_n(view.batch_step_ms)} ms for "
            f"{_n(view.batch_tokens_per_s)} tok/s, {_n(view.batch_tokens_per_s / view.batch)} tok/s for each user.",
        ))
    wall = decode_frontier(model, gpu, ctx).memory_wall_batch
    s = _settings(**base, batch=wall)
    view = _view(s)
    out.append(Preset(
        "the memory wall", s,
        f"Batch {wall} is all that fits at {ctx // 1024}K tokens: {_n(view.batch_tokens_per_s)} tok/s at "
        f"{_n(view.batch_step_ms)} ms per token, and past the wall the frontier simply ends.",
    ))
    return tuple(out)


def capstone_presets() -> tuple[Preset, ...]:
    """The capstone's reference answer (`serving.reference_plan`) for each of `serving.VARIANTS`:
    the explorer at the plan's chip, TP and batch (one replica), at the problem's context."""
    from roofline_lab.serving import VARIANTS, reference_plan

    out = []
    for problem in VARIANTS.values():
        r = reference_plan(problem)
        s = _settings(model=problem.model, gpu=r.plan.gpu, batch=r.plan.batch, context_len=problem.context_len,
                      kv=True, weight_dtype=problem.weight_dtype, compute_dtype=problem.weight_dtype, tp=r.plan.tp)
        wall = _view(s).wall_batch  # the explorer's own memory wall (its KV cache is fp16, the plan's may not be)
        shown = f"batch {r.plan.batch}"
        if wall is not None and wall < r.plan.batch:
            s = _settings(**{**s, "batch": wall})
            shown = (f"batch {wall} (the explorer's fp16 KV cache holds only {wall} sequences, "
                     f"not the plan's {problem.kv_dtype})")
        view = _view(s)
        out.append(Preset(
            f"capstone answer: {problem.name}", s,
            f"{r.plan.n_gpus} x {get_gpu(r.plan.gpu).name} as {r.replicas:g} TP{r.plan.tp} replicas at batch "
            f"{r.plan.batch}; one replica at {shown} steps in {_n(view.batch_step_ms)} ms "
            f"(all-reduce {_n(view.batch_comm_ms)} ms) for {_n(view.batch_tokens_per_s)} tok/s, "
            f"${r.usd_per_million_tokens:.2f} per million tokens.",
        ))
    return tuple(out)


_BUILDERS = (_single_stream, _prefill, _critical_batch, _free_lunch, _h100, _int4, _long_context, _seventy_b)

_SERVING = (*frontier_presets(), *capstone_presets())
#: The serving lessons' presets (notebooks 13 to 15), after the eight roofline ones.
SERVING_PRESET_NAMES: tuple[str, ...] = tuple(p.name for p in _SERVING)
#: The presets in teaching order, by name.
PRESETS: Mapping[str, Preset] = MappingProxyType({p.name: p for p in (*(build() for build in _BUILDERS), *_SERVING)})


def preset_names() -> tuple[str, ...]:
    """The presets' names, in teaching order."""
    return tuple(PRESETS)


def get_preset(name: str) -> Preset:
    """A preset by name, in any case ('h100', 'The critical batch'); unknown names raise
    ValueError with the closest names and the full list."""
    key = resolve_key("preset", name, PRESETS, {normalize(key): key for key in PRESETS})
    return PRESETS[key]


__all__ = ["BASE_SETTINGS", "PRESETS", "SERVING_PRESET_NAMES", "Preset", "capstone_presets", "frontier_presets",
           "get_preset", "preset_names"]

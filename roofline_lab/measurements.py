"""Published measured decode runs (data/measurements.toml) against the step model's bound.

Each `Run` is one configuration a source measured: a model on a GPU (or `tp` of them in
tensor parallel), a batch, a context, the dtypes, and the tokens per second it printed.
`bound_tokens_per_s(run)` is the step model's best case for that same configuration, and
`bandwidth_utilization(run)` the share of it the engine reached.

The bound's conventions (each one can only raise the bound, so a bound stays a bound):

- context_len is the prompt length the source states (tokens cached when decoding starts),
  or 0 where it states none; the context grows while a run generates, so the KV read is
  undercounted. The step model's attention terms are included at that context.
- Weights count as the catalog dtype's size (int4 = 4 bits), below what real group-scaled
  formats store (gpt-fast's int4 g32 is about 5 bits, llama.cpp's Q4_0 4.5).
- Bandwidth and peak FLOP/s are the datasheet's (bandwidth_fraction = flops_fraction = 1),
  no launch overhead. Several sources time the prompt's prefill inside their throughput,
  which only lowers the measured figure.
- tp > 1: `decode_step(..., tp=run.tp)` once the step model takes `tp`; until then the
  bound is the same step on one imaginary chip with tp times the bandwidth, FLOP/s and
  memory (`aggregate_gpu`), which leaves out the all-reduces, so it is looser still.

Speculative runs are kept (speculative = true) but are not bounded: one pass can accept
several drafted tokens per weight read.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from roofline_lab.dtypes import canonical_dtype
from roofline_lab.hardware import Accelerator, get_gpu
from roofline_lab.models import get_model
from roofline_lab.step_model import StepEstimate, decode_step

__all__ = [
    "ENGINES",
    "Run",
    "aggregate_gpu",
    "bandwidth_utilization",
    "bound_step",
    "bound_tokens_per_s",
    "by",
    "load_runs",
    "parse_run",
    "runs",
    "step_model_has_tp",
]

#: The engines a row may name (as the sources spell them).
ENGINES = (
    "gpt-fast",
    "vLLM",
    "TensorRT-LLM",
    "SGLang",
    "llama.cpp",
    "NVIDIA NIM",
    "MLPerf Inference",
    "LMDeploy",
)

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "gpu": str,
    "batch": int,
    "context_len": int,
    "weight_dtype": str,
    "compute_dtype": str,
    "tokens_per_s": (int, float),
    "engine": str,
    "source": str,
    "date": str,
    "quote": str,
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "tp": int,
    "kv_dtype": str,
    "output_len": int,
    "printed_gb_per_s": (int, float),
    "speculative": bool,
    "note": str,
}


@dataclass(frozen=True)
class Run:
    """One published measurement. Catalog names are canonical keys after loading."""

    model: str
    gpu: str
    batch: int
    context_len: int
    weight_dtype: str
    compute_dtype: str
    tokens_per_s: float
    engine: str
    source: str
    date: str
    quote: str
    tp: int = 1
    kv_dtype: str = "fp16"
    output_len: int | None = None
    printed_gb_per_s: float | None = None  # memory bandwidth the source reports, per GPU
    speculative: bool = False
    note: str = ""

    @property
    def label(self) -> str:
        """Short display name: 'gpt-fast: llama-2-7b bf16 on a100-80gb-sxm, batch 1'."""
        gpus = self.gpu if self.tp == 1 else f"{self.tp} x {self.gpu}"
        return f"{self.engine}: {self.model} {self.weight_dtype} on {gpus}, batch {self.batch}"


def _check_type(where: str, key: str, value: object, kind: type | tuple[type, ...]) -> None:
    # bool is an int in Python: refuse it wherever a number is asked for
    wants_number = kind in (int, (int, float))
    if (wants_number and isinstance(value, bool)) or not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{where}: {key} must be {names}, got {value!r}")


def parse_run(row: Mapping[str, Any], index: int = 0) -> Run:
    """Check one [[run]] table and return it as a `Run` with canonical catalog names.

    Unknown or missing keys, wrong types, non-positive counts, a source that is not a URL,
    an engine outside ENGINES, and names the catalogs do not know all raise an error that
    names the row (its index and engine), the field and what is allowed; unknown model and
    GPU names carry the catalogs' "did you mean" suggestions.
    """
    if not isinstance(row, Mapping):
        raise TypeError(f"run {index} must be a table of fields, got {row!r}")
    where = f"run {index} ({row.get('engine', '?')})"
    missing = [k for k in _REQUIRED if k not in row]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(row) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        allowed = ", ".join([*_REQUIRED, *_OPTIONAL])
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    for key, value in row.items():
        _check_type(where, key, value, {**_REQUIRED, **_OPTIONAL}[key])

    fields = dict(row)
    for key in ("batch", "tp", "output_len"):
        if key in fields and fields[key] < 1:
            raise ValueError(f"{where}: {key} must be a whole number >= 1, got {fields[key]!r}")
    if fields["context_len"] < 0:
        raise ValueError(f"{where}: context_len must be a whole number >= 0, got {fields['context_len']!r}")
    rate = float(fields["tokens_per_s"])
    if not rate > 0 or rate == float("inf"):
        raise ValueError(f"{where}: tokens_per_s must be a finite number > 0, got {fields['tokens_per_s']!r}")
    fields["tokens_per_s"] = rate
    if "printed_gb_per_s" in fields:
        gbs = float(fields["printed_gb_per_s"])
        if not 0 < gbs < float("inf"):
            raise ValueError(
                f"{where}: printed_gb_per_s must be a finite number > 0, got {fields['printed_gb_per_s']!r}"
            )
        fields["printed_gb_per_s"] = gbs
    if not fields["source"].startswith(("https://", "http://")):
        raise ValueError(f"{where}: source must be a URL (https://...), got {fields['source']!r}")
    if fields["engine"] not in ENGINES:
        raise ValueError(f"{where}: engine must be one of {', '.join(ENGINES)}, got {fields['engine']!r}")
    if not fields["quote"].strip():
        raise ValueError(f"{where}: quote must say where in the source the figure is, got an empty string")
    if not re.fullmatch(r"(19|20)\d\d(-[01]\d(-[0-3]\d)?)?", fields["date"]):
        raise ValueError(f"{where}: date must be YYYY, YYYY-MM or YYYY-MM-DD, got {fields['date']!r}")

    try:
        fields["model"] = get_model(fields["model"]).key
    except ValueError as err:
        raise ValueError(f"{where}: model: {err}") from None
    try:
        gpu = get_gpu(fields["gpu"])
    except ValueError as err:
        raise ValueError(f"{where}: gpu: {err}") from None
    fields["gpu"] = gpu.key
    for key in ("weight_dtype", "compute_dtype", "kv_dtype"):
        if key in fields:
            try:
                fields[key] = canonical_dtype(fields[key])
            except ValueError as err:
                raise ValueError(f"{where}: {key}: {err}") from None
    try:
        gpu.peak_flops(fields["compute_dtype"])
    except ValueError as err:
        raise ValueError(f"{where}: compute_dtype: {err}") from None
    return Run(**fields)


def load_runs(text: str | None = None) -> tuple[Run, ...]:
    """Parse measurements TOML (default: the packaged data/measurements.toml) into Runs."""
    if text is None:
        text = resources.files("roofline_lab").joinpath("data", "measurements.toml").read_text(encoding="utf-8")
    rows = tomllib.loads(text).get("run", [])
    if not isinstance(rows, list) or not rows:
        raise ValueError("measurements TOML must hold at least one [[run]] table")
    return tuple(parse_run(row, i) for i, row in enumerate(rows))


@cache
def runs() -> tuple[Run, ...]:
    """Every packaged run, in file order (loaded once)."""
    return load_runs()


def step_model_has_tp() -> bool:
    """True once `decode_step` takes a `tp` keyword (step model v2 with tensor parallelism)."""
    return "tp" in inspect.signature(decode_step).parameters


def aggregate_gpu(gpu: Accelerator | str, tp: int) -> Accelerator:
    """One imaginary chip with `tp` times a GPU's bandwidth, peak FLOP/s and memory.

    The best case of `tp`-way tensor parallelism: every chip streams its share of the
    weights and KV cache at full speed and the all-reduces cost nothing.
    aggregate_gpu('h100-sxm', 2).mem_bandwidth == 6.7e12.
    """
    g = get_gpu(gpu)
    if isinstance(tp, bool) or not isinstance(tp, int) or tp < 1:
        raise ValueError(f"tp must be a whole number >= 1, got {tp!r}")
    if tp == 1:
        return g
    scaled: dict[str, Any] = {
        "key": f"{g.key}-x{tp}",
        "name": f"{tp} x {g.name}",
        "mem_bandwidth": g.mem_bandwidth * tp,
        "dense_flops": type(g.dense_flops)({d: v * tp for d, v in g.dense_flops.items()}),
        "sparse_flops": type(g.sparse_flops)({d: v * tp for d, v in g.sparse_flops.items()}),
    }
    for name in ("memory_bytes", "board_power_w"):
        value = getattr(g, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            scaled[name] = value * tp
    known = {f.name for f in dataclasses.fields(g)}
    return dataclasses.replace(g, **{k: v for k, v in scaled.items() if k in known})


def bound_step(run: Run) -> StepEstimate:
    """The step model's best case for the run's own configuration (see the module notes)."""
    kwargs: dict[str, Any] = {
        "weight_dtype": run.weight_dtype,
        "compute_dtype": run.compute_dtype,
        "kv_dtype": run.kv_dtype,
    }
    gpu: Accelerator | str = run.gpu
    if run.tp > 1:
        if step_model_has_tp():
            kwargs["tp"] = run.tp
        else:
            gpu = aggregate_gpu(run.gpu, run.tp)
    return decode_step(run.model, gpu, run.batch, run.context_len, **kwargs)


def bound_tokens_per_s(run: Run) -> float:
    """Most tokens/s (summed over the batch) the step model allows this run's configuration."""
    return float(bound_step(run).tokens_per_s)


def bandwidth_utilization(run: Run) -> float:
    """Measured / bound: the share of the best case the engine reached (0..1 if the bound holds).

    Where the bound is memory-bound (every batch-1 run, most others) this is the
    memory-bandwidth utilisation, the MBU of Databricks' serving posts, which the seed lab
    puts at 60-80 %; where it is compute-bound it is the share of peak math reached.
    """
    return run.tokens_per_s / bound_tokens_per_s(run)


def by(field: str, rows: Sequence[Run] | None = None) -> dict[Any, list[Run]]:
    """Group runs by a field ('engine', 'gpu', 'batch', 'tp', ...), keys in first-seen order."""
    names = [f.name for f in dataclasses.fields(Run)]
    if field not in names:
        raise ValueError(f"field must be one of Run's fields ({', '.join(names)}), got {field!r}")
    groups: dict[Any, list[Run]] = {}
    for r in runs() if rows is None else rows:
        groups.setdefault(getattr(r, field), []).append(r)
    return groups

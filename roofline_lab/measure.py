"""Measure this machine: its own roofline, next to the model's prediction.

Three measurements, each the best (minimum time) of N interleaved rounds. On a CPU every
kernel runs on the same `threads` worker threads (default: the BLAS's own thread count),
each calling the BLAS pinned to one thread (threadpoolctl), so the thread count is fixed
and the ceilings and the decode share one threading model:

* memory bandwidth, STREAM-like, over arrays far larger than the last-level cache:
  "read" (one pass over one array: its bytes) and "triad" (a = b + s * c: three arrays'
  bytes, the STREAM convention; the hidden write-allocate read of `a` that an ordinary
  store triggers is NOT counted, so triad under-reports the traffic by up to a quarter);
* peak matmul FLOP/s: numpy GEMM (2 n^3 FLOP, one product per thread) in float32 and
  float64 at sizes that saturate a core;
* a mini decode: a weight matrix many times the cache times a batch of B activation
  vectors (B = 1 is a GEMV, larger B a skinny GEMM). Its time per step is flat in B
  (every step streams the same weights: the free lunch) until B reaches the critical
  batch, where the FLOPs start to cost more than the bytes.

The prediction uses the library's own formulas on the measured figures:
`reference.ridge_point(peak, bandwidth)` and `reference.critical_batch_size(peak,
bandwidth, dtype_bytes)`, with the read bandwidth (decode reads its weights) and the
GEMM peak of the decode's dtype (float32 on a CPU: dtype_bytes = 4).

Results are small frozen dataclasses in SI units (bytes, bytes/s, FLOP/s, seconds) with
`*_gb_per_s` / `*_gflop_per_s` properties for people; GB is decimal (1e9 bytes), never GiB.
A default CPU run takes about 10-20 s on 2 cores, `quick=True` about 3-5 s:

    python3 -m roofline_lab.measure --quick     # prints every figure and the wall time

The GPU path (`measure_gpu`, fp16/bf16 through torch and CUDA events) imports torch
only when called, and is untested where no GPU is present; nothing else depends on it.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from roofline_lab import _checks, reference
from roofline_lab.step_model import StepEstimate

__all__ = [
    "Backend",
    "Bandwidth",
    "DecodeSweep",
    "GemmPeak",
    "MachineRoofline",
    "blas_info",
    "gpu_available",
    "last_level_cache_bytes",
    "main",
    "measure_bandwidth",
    "measure_decode",
    "measure_gemm",
    "measure_gpu",
    "measure_machine",
    "predicted_critical_batch",
    "predicted_ridge",
]

MIB = 2**20
GIGA = 1e9
#: Array size used when the cache size cannot be read (8x a large 32 MiB L3).
FALLBACK_ARRAY_BYTES = 256 * MIB
#: Input features of the mini decode's weight matrix (a small LLM's hidden size).
DECODE_COLS = 4096
#: Bytes of weight rows in one tile of the mini decode (stays in L3 while all B vectors use it).
DECODE_TILE_BYTES = 4 * MIB
#: Elements per block of the triad (float64: 256 KiB per array, L2-resident).
TRIAD_BLOCK = 32768

FULL_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
QUICK_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)

_DTYPES = {"float32": np.float32, "float64": np.float64}
_KERNELS = ("read", "triad")
_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Backend:
    """What did the arithmetic: library, version, kernel/architecture, threads.

    On a CPU this is the BLAS threadpoolctl finds (e.g. OpenBLAS, kernel 'Haswell');
    `threads` is the number of worker threads a measurement ran with, each calling the
    BLAS pinned to one thread (`threading_layer` is the BLAS's own). On a GPU: cuBLAS via torch,
    architecture the device name, `threads` its streaming multiprocessor count.
    `env` holds the OPENBLAS_* / *_NUM_THREADS variables that were set, as found.
    """

    library: str
    version: str
    architecture: str
    threads: int
    threading_layer: str
    env: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        env = "".join(f", {k}={v}" for k, v in self.env)
        return (f"{self.library} {self.version} (kernel {self.architecture}, "
                f"{self.threading_layer}), {self.threads} threads{env}")


@dataclass(frozen=True)
class Bandwidth:
    """One STREAM-like kernel: `bytes_moved` bytes per pass, best pass `seconds` long."""

    kernel: str
    array_bytes: int
    bytes_moved: int
    seconds: float
    repeats: int
    threads: int

    @property
    def mem_bandwidth(self) -> float:
        """Bytes/s: bytes counted per pass over the best pass's time."""
        return self.bytes_moved / self.seconds

    @property
    def mem_bandwidth_gb_per_s(self) -> float:
        """The same in GB/s (decimal: 1 GB/s = 1e9 bytes/s)."""
        return self.mem_bandwidth / GIGA


@dataclass(frozen=True)
class GemmPeak:
    """`products` n x n x n matmuls in `dtype` at once (one per thread): 2 n^3 FLOP each.

    `seconds` is the best time for all of them together.
    """

    dtype: str
    n: int
    seconds: float
    repeats: int
    threads: int
    products: int = 1

    @property
    def flops(self) -> float:
        return self.products * 2.0 * self.n**3

    @property
    def peak_flops(self) -> float:
        """FLOP/s achieved: the measured compute ceiling."""
        return self.flops / self.seconds

    @property
    def peak_gflop_per_s(self) -> float:
        return self.peak_flops / GIGA

    @property
    def peak_tflop_per_s(self) -> float:
        return self.peak_flops / 1e12


@dataclass(frozen=True)
class DecodeSweep:
    """A mini decode: W (rows x cols, `dtype`) times B activation vectors, per batch B.

    Each step reads W once plus the B input and B output vectors, and does
    2 * rows * cols * B FLOP. `seconds[i]` is the best step time at `batches[i]`.
    """

    dtype: str
    dtype_bytes: int
    rows: int
    cols: int
    batches: tuple[int, ...]
    seconds: tuple[float, ...]
    repeats: int
    threads: int
    tiled: bool

    @property
    def weight_bytes(self) -> int:
        return self.rows * self.cols * self.dtype_bytes

    def bytes_moved(self, batch: int) -> int:
        """Bytes one step at `batch` moves: the weights plus B inputs and B outputs."""
        return self.weight_bytes + batch * (self.rows + self.cols) * self.dtype_bytes

    def flops(self, batch: int | np.ndarray) -> float | np.ndarray:
        return 2.0 * self.rows * self.cols * batch

    def step_s(self, batch: int) -> float:
        """Measured seconds per step at `batch` (one of `batches`)."""
        if batch not in self.batches:
            raise ValueError(f"batch must be one of the measured batches {self.batches}, got {batch!r}")
        return self.seconds[self.batches.index(batch)]

    @property
    def step_ms(self) -> tuple[float, ...]:
        return tuple(s * 1e3 for s in self.seconds)

    @property
    def intensities(self) -> tuple[float, ...]:
        """FLOP/byte of each step, activation bytes included."""
        return tuple(self.flops(b) / self.bytes_moved(b) for b in self.batches)

    @property
    def achieved_flops(self) -> tuple[float, ...]:
        """FLOP/s each step reached."""
        return tuple(self.flops(b) / s for b, s in zip(self.batches, self.seconds, strict=True))

    @property
    def achieved_bandwidth(self) -> tuple[float, ...]:
        """Bytes/s each step reached."""
        return tuple(self.bytes_moved(b) / s for b, s in zip(self.batches, self.seconds, strict=True))

    @property
    def floor_s(self) -> float:
        """The flat region's level: the fastest step (no step beats streaming W once)."""
        return min(self.seconds)

    @property
    def compute_s_per_token(self) -> float:
        """The compute asymptote's slope: seconds per extra vector at the largest batch."""
        return self.seconds[-1] / self.batches[-1]

    @property
    def measured_critical_batch(self) -> float:
        """Where the two measured asymptotes cross: floor_s / compute_s_per_token.

        The measured twin of the roofline's knee. Only a lower bound when not `resolved`.
        """
        return self.floor_s / self.compute_s_per_token

    @property
    def resolved(self) -> bool:
        """True when the largest batch is clearly compute-bound (>= 2x the floor)."""
        return self.seconds[-1] >= 2 * self.floor_s


@dataclass(frozen=True)
class MachineRoofline:
    """Everything one run measured, and the prediction made from it.

    The roofline's ceilings are the read bandwidth (decode reads its weights) and the
    GEMM peak in the decode's dtype.
    """

    device: str
    backend: Backend
    read: Bandwidth
    triad: Bandwidth
    gemm: tuple[GemmPeak, ...]
    decode: DecodeSweep
    wall_s: float
    quick: bool

    @property
    def mem_bandwidth(self) -> float:
        """Bytes/s: the measured read bandwidth."""
        return self.read.mem_bandwidth

    @property
    def mem_bandwidth_gb_per_s(self) -> float:
        return self.mem_bandwidth / GIGA

    def gemm_peak(self, dtype: str) -> GemmPeak:
        for g in self.gemm:
            if g.dtype == dtype:
                return g
        raise ValueError(f"dtype must be one of the measured GEMM dtypes "
                         f"{tuple(g.dtype for g in self.gemm)}, got {dtype!r}")

    @property
    def peak_flops(self) -> float:
        """FLOP/s: the measured GEMM peak in the decode's dtype."""
        return self.gemm_peak(self.decode.dtype).peak_flops

    @property
    def peak_gflop_per_s(self) -> float:
        return self.peak_flops / GIGA

    @property
    def ridge(self) -> float:
        """FLOP/byte: the measured peak over the measured read bandwidth."""
        return reference.ridge_point(self.peak_flops, self.mem_bandwidth)

    @property
    def predicted_critical_batch(self) -> float:
        """Vectors per step at which the model says decode turns compute-bound."""
        return reference.critical_batch_size(self.peak_flops, self.mem_bandwidth, self.decode.dtype_bytes)

    @property
    def measured_critical_batch(self) -> float:
        return self.decode.measured_critical_batch

    def predicted_decode(self, batches: Sequence[int] | np.ndarray | None = None) -> StepEstimate:
        """The weights-only model's decode steps on the measured ceilings (arrays of batch).

        batches: whole numbers > 0 (default: the measured ones); a dense grid draws the
        prediction's corner at `predicted_critical_batch`.
        """
        d = self.decode
        grid = np.atleast_1d(_checks.numbers_array(
            "batches", list(d.batches) if batches is None else batches, integer=True))
        return StepEstimate(
            phase="decode",
            tokens=grid,
            flops=d.flops(grid),
            weight_bytes=float(d.weight_bytes),
            kv_bytes=np.zeros_like(grid),
            peak_flops=self.peak_flops,
            mem_bandwidth=self.mem_bandwidth,
        )

    def summary(self) -> str:
        """Every figure, in datasheet units, one per line."""
        d = self.decode
        lines = [
            f"device        : {self.device}",
            f"backend       : {self.backend}",
            f"memory read   : {self.read.mem_bandwidth_gb_per_s:8.1f} GB/s   "
            f"({_mib(self.read.array_bytes)} array, best of {self.read.repeats})",
            f"memory triad  : {self.triad.mem_bandwidth_gb_per_s:8.1f} GB/s   "
            f"(3 x {_mib(self.triad.array_bytes)} counted, write-allocate not; best of {self.triad.repeats})",
        ]
        lines += [
            f"GEMM {g.dtype:<9}: {g.peak_gflop_per_s:8.1f} GFLOP/s ({g.products} x n = {g.n}, best of {g.repeats})"
            for g in self.gemm
        ]
        lines += [
            f"ridge         : {self.ridge:8.2f} FLOP/byte ({d.dtype} GEMM peak / read bandwidth)",
            f"mini decode   : {d.dtype} W {d.rows} x {d.cols} = {_mib(d.weight_bytes)}, "
            f"{'tiled' if d.tiled else 'one matmul'}, best of {d.repeats}",
            "      B    step ms     GB/s   GFLOP/s",
        ]
        lines += [
            f"  {b:5d}  {s * 1e3:9.2f}  {bw / GIGA:7.1f}  {f / GIGA:8.1f}"
            for b, s, bw, f in zip(d.batches, d.seconds, d.achieved_bandwidth, d.achieved_flops, strict=True)
        ]
        note = "" if d.resolved else " (lower bound: the largest batch is not yet compute-bound)"
        lines += [
            f"critical batch: measured {self.measured_critical_batch:.1f}{note}, "
            f"predicted {self.predicted_critical_batch:.1f} (ridge x {d.dtype_bytes} bytes / 2)",
            f"wall time     : {self.wall_s:.1f} s ({'quick' if self.quick else 'full'} mode)",
        ]
        return "\n".join(lines)


def predicted_ridge(peak_flops: float, mem_bandwidth: float) -> float:
    """The model's ridge (FLOP/byte) for given ceilings: `reference.ridge_point`, checked.

    150 GFLOP/s over 20 GB/s -> 7.5 FLOP/byte.
    """
    return reference.ridge_point(
        _checks.number("peak_flops", peak_flops), _checks.number("mem_bandwidth", mem_bandwidth)
    )


def predicted_critical_batch(peak_flops: float, mem_bandwidth: float, dtype_bytes: float = 4) -> float:
    """The model's critical batch for given ceilings (FLOP/s, bytes/s, bytes per value).

    `reference.critical_batch_size` with its argument checks; float32 (4 bytes) by default,
    the dtype a CPU decode measures in. 150 GFLOP/s over 20 GB/s in float32 -> 15.0.
    """
    return reference.critical_batch_size(
        _checks.number("peak_flops", peak_flops),
        _checks.number("mem_bandwidth", mem_bandwidth),
        _checks.number("dtype_bytes", dtype_bytes),
    )


# ---------------------------------------------------------------------------- machine facts


def last_level_cache_bytes() -> int | None:
    """Total last-level cache of this machine in bytes, or None where it cannot be read.

    Linux: the highest cache level under /sys/devices/system/cpu, summed over its distinct
    instances (a chip with several L3 slices caches their sum).
    """
    seen: dict[str, int] = {}
    best_level = 0
    for index in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cache/index[0-9]*"):
        try:
            level = int((index / "level").read_text())
            if (index / "type").read_text().strip() == "Instruction":
                continue
            size = _parse_size((index / "size").read_text().strip())
            shared = (index / "shared_cpu_list").read_text().strip()
        except (OSError, ValueError):
            continue
        if level > best_level:
            best_level, seen = level, {}
        if level == best_level:
            seen[shared] = size
    if seen:
        return sum(seen.values())
    try:
        size = os.sysconf("SC_LEVEL3_CACHE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return size if size > 0 else None


def _parse_size(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _blas_entry() -> dict[str, Any] | None:
    from threadpoolctl import threadpool_info

    entries = [e for e in threadpool_info() if e.get("user_api") == "blas"]
    numpy_dir = str(Path(np.__file__).parent.parent)
    entries.sort(key=lambda e: not str(e.get("filepath", "")).startswith(numpy_dir))
    return entries[0] if entries else None


def blas_info(threads: int | None = None) -> Backend:
    """The BLAS numpy uses, as threadpoolctl reports it; `threads` overrides its count."""
    entry = _blas_entry() or {}
    env = tuple((k, os.environ[k]) for k in _ENV_VARS if k in os.environ)
    return Backend(
        library=str(entry.get("internal_api", "unknown BLAS")),
        version=str(entry.get("version") or "?"),
        architecture=str(entry.get("architecture") or "?"),
        threads=int(threads if threads is not None else entry.get("num_threads", 1)),
        threading_layer=str(entry.get("threading_layer", "?")),
        env=env,
    )


# ---------------------------------------------------------------------------- checks


def _whole(name: str, value: object, *, minimum: int = 1) -> int:
    """A whole number >= minimum (>= 1 by default), as an int."""
    x = _checks.number(name, value, integer=True, allow_zero=minimum <= 0)
    if x < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(x)


def _threads(threads: object) -> int:
    if threads is None:
        entry = _blas_entry()
        return int(entry["num_threads"]) if entry else (os.cpu_count() or 1)
    return _whole("threads", threads)


def _dtype(dtype: object) -> str:
    name = dtype if isinstance(dtype, str) else getattr(dtype, "__name__", None) or str(dtype)
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {tuple(_DTYPES)}, got {dtype!r}")
    return name


def _batches(batches: object) -> tuple[int, ...]:
    arr = _checks.numbers_array("batches", batches, integer=True)
    if np.ndim(arr) != 1:
        raise TypeError(f"batches must be a sequence of whole numbers > 0, got {batches!r}")
    values = tuple(sorted({int(b) for b in arr}))
    if len(values) < 2:
        raise ValueError(f"batches must hold at least two different batch sizes, got {batches!r}")
    return values


def _default_bytes(quick: bool) -> int:
    """Array/weight bytes: 8x (quick: 4x) the last-level cache, in [64 MiB, 1 GiB]."""
    llc = last_level_cache_bytes()
    if llc is None:
        return FALLBACK_ARRAY_BYTES
    return int(min(max((4 if quick else 8) * llc, 64 * MIB), 1024 * MIB))


# ---------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class _Kernel:
    """One timed operation: `run` does it once with the BLAS on `blas_threads` threads."""

    run: Callable[[], object]
    blas_threads: int


def _best_s(fn: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _timed_rounds(
    kernels: Sequence[_Kernel], repeats: int, on_round: Callable[[], object] = lambda: None
) -> list[float]:
    """Best seconds of each kernel over `repeats` interleaved rounds, after a warm-up round.

    Each round runs every kernel once, so a burst of load from other processes hits all
    the kernels of a round alike instead of spoiling one measurement; the minimum keeps
    each kernel's quietest run. The BLAS thread count is pinned around every call (and
    restored afterwards); `on_round` follows each timed round (the progress bar).
    """
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    best = [math.inf] * len(kernels)
    for round_ in range(repeats + 1):
        for k, kernel in enumerate(kernels):
            with controller.limit(limits=kernel.blas_threads, user_api="blas"):
                seconds = _best_s(kernel.run, 1)
            if round_:
                best[k] = min(best[k], seconds)
        if round_:
            on_round()
    return best


def _spans(n: int, parts: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, parts + 1).astype(int)
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(edges) if hi > lo]


def _parallel(pool: ThreadPoolExecutor, work: Callable[[int, int], object], spans: list[tuple[int, int]]
              ) -> None:
    for future in [pool.submit(work, lo, hi) for lo, hi in spans]:
        future.result()


# ---------------------------------------------------------------------------- CPU kernels


def _bandwidth_kernel(kernel: str, array_bytes: int, pool: ThreadPoolExecutor, n_threads: int
                      ) -> tuple[_Kernel, int]:
    """A STREAM-like pass split across the pool's threads; returns it and the bytes it counts."""
    n = array_bytes // 8
    spans = _spans(n, n_threads)
    if kernel == "read":
        x = np.full(n, 0.5)

        def read(lo: int, hi: int) -> float:
            return float(np.dot(x[lo:hi], x[lo:hi]))  # one stream: x[i] is loaded once

        return _Kernel(lambda: _parallel(pool, read, spans), 1), x.nbytes
    a, b, c = np.zeros(n), np.full(n, 1.0), np.full(n, 2.0)

    def triad(lo: int, hi: int) -> None:
        for i in range(lo, hi, TRIAD_BLOCK):  # s * c stays in cache between the two ufuncs
            j = min(i + TRIAD_BLOCK, hi)
            np.multiply(c[i:j], 3.0, out=a[i:j])
            np.add(a[i:j], b[i:j], out=a[i:j])

    return _Kernel(lambda: _parallel(pool, triad, spans), 1), 3 * a.nbytes


def _gemm_kernel(dtype: str, n: int, pool: ThreadPoolExecutor, n_threads: int) -> _Kernel:
    """n_threads independent n x n products, one per worker thread, each on a 1-thread BLAS.

    The same threading as the bandwidth and decode kernels; it also holds up better than
    one multi-threaded product when other processes share the cores (no barrier waits).
    """
    mats = [(np.full((n, n), 0.5, dtype=_DTYPES[dtype]), np.full((n, n), 0.25, dtype=_DTYPES[dtype]),
             np.empty((n, n), dtype=_DTYPES[dtype])) for _ in range(n_threads)]

    def product(k: int, _hi: int) -> None:
        a, b, c = mats[k]
        np.matmul(a, b, out=c)

    spans = [(k, k + 1) for k in range(n_threads)]
    return _Kernel(lambda: _parallel(pool, product, spans), 1)


def _decode_kernels(
    weight_bytes: int, dtype: str, batches: tuple[int, ...], pool: ThreadPoolExecutor, n_threads: int,
    tiled: bool,
) -> tuple[int, list[_Kernel]]:
    """W (rows x DECODE_COLS) allocated once; one step kernel per batch. Returns (rows, kernels)."""
    np_dtype = _DTYPES[dtype]
    itemsize = np.dtype(np_dtype).itemsize
    rows = weight_bytes // (DECODE_COLS * itemsize)
    if rows < n_threads:
        raise ValueError(f"weight_bytes must hold at least {n_threads} rows of {DECODE_COLS} {dtype} "
                         f"values ({n_threads * DECODE_COLS * itemsize} bytes), got {weight_bytes!r}")
    w = np.full((rows, DECODE_COLS), 1.0 / DECODE_COLS, dtype=np_dtype)
    tile = max(1, DECODE_TILE_BYTES // (DECODE_COLS * itemsize))
    spans = _spans(rows, n_threads)

    def step_for(batch: int) -> _Kernel:
        xt = np.full((DECODE_COLS, batch), 0.5, dtype=np_dtype)  # B vectors as columns
        rhs = xt[:, 0] if batch == 1 else xt                     # B = 1: a GEMV
        out = np.empty((rows,) if batch == 1 else (rows, batch), dtype=np_dtype)
        if not tiled:
            return _Kernel(lambda: np.matmul(w, rhs, out=out), n_threads)

        def rows_of(lo: int, hi: int) -> None:
            for i in range(lo, hi, tile):  # each tile meets all B vectors while in cache
                j = min(i + tile, hi)
                np.matmul(w[i:j], rhs, out=out[i:j])

        return _Kernel(lambda: _parallel(pool, rows_of, spans), 1)

    return rows, [step_for(b) for b in batches]


# ---------------------------------------------------------------------------- CPU measurements


def measure_bandwidth(
    kernel: str = "read", array_bytes: int | None = None, *, repeats: int = 5, threads: int | None = None
) -> Bandwidth:
    """STREAM-like memory bandwidth on float64 arrays of `array_bytes` bytes each.

    kernel "read": dot(x, x) over one array, split across `threads` threads; counts the
    array's bytes. kernel "triad": a = b + s * c in L2-sized blocks (so the intermediate
    never leaves the cache); counts 3 arrays' bytes, as STREAM does; an ordinary store's
    write-allocate read of `a` is real traffic but not counted. Default size: 8x the
    last-level cache (256 MiB where unknown). A warm-up pass, then the best of `repeats`.
    """
    if kernel not in _KERNELS:
        raise ValueError(f"kernel must be one of {_KERNELS}, got {kernel!r}")
    array_bytes = _default_bytes(False) if array_bytes is None else _whole("array_bytes", array_bytes, minimum=8)
    repeats, n_threads = _whole("repeats", repeats), _threads(threads)
    with ThreadPoolExecutor(n_threads) as pool:
        timed, moved = _bandwidth_kernel(kernel, array_bytes, pool, n_threads)
        (seconds,) = _timed_rounds([timed], repeats)
    return Bandwidth(kernel, array_bytes // 8 * 8, moved, seconds, repeats, n_threads)


def measure_gemm(
    dtype: str = "float32", n: int = 2048, *, repeats: int = 3, threads: int | None = None
) -> GemmPeak:
    """Peak matmul FLOP/s: `threads` threads each compute C = A @ B (n x n, `dtype`) at once.

    Each thread's BLAS call runs single-threaded, so the BLAS thread count is fixed (1)
    and the threads are ours, as in the bandwidth and decode kernels. 2 n^3 FLOP per
    product; n >= 1024 saturates a core. A warm-up round, then the best of `repeats`.
    """
    name = _dtype(dtype)
    n, repeats, n_threads = _whole("n", n), _whole("repeats", repeats), _threads(threads)
    with ThreadPoolExecutor(n_threads) as pool:
        (seconds,) = _timed_rounds([_gemm_kernel(name, n, pool, n_threads)], repeats)
    return GemmPeak(name, n, seconds, repeats, n_threads, products=n_threads)


def measure_decode(
    batches: Sequence[int] = FULL_BATCHES,
    weight_bytes: int | None = None,
    *,
    dtype: str = "float32",
    repeats: int = 3,
    threads: int | None = None,
    tiled: bool = True,
    progress: bool = False,
) -> DecodeSweep:
    """Time one mini-decode step per batch size: W (weight_bytes, rows x 4096) times B vectors.

    tiled=True (default) streams W in ~4 MiB row tiles, `threads` threads each owning a
    band of rows; each tile meets all B vectors while in cache, as a decode kernel does.
    tiled=False makes one numpy matmul per step (OpenBLAS's skinny GEMM at small B can
    be slower than its GEMV: compare). Default weight_bytes: 8x the last-level cache.
    A warm-up round, then the best of `repeats` interleaved rounds over all batches.
    """
    from tqdm.auto import tqdm

    values = _batches(batches)
    weight_bytes = _default_bytes(False) if weight_bytes is None else _whole("weight_bytes", weight_bytes)
    name, repeats, n_threads = _dtype(dtype), _whole("repeats", repeats), _threads(threads)
    with ThreadPoolExecutor(n_threads) as pool, \
            tqdm(total=repeats, desc="mini decode rounds", disable=not progress) as bar:
        rows, kernels = _decode_kernels(weight_bytes, name, values, pool, n_threads, bool(tiled))
        seconds = _timed_rounds(kernels, repeats, bar.update)
    return DecodeSweep(name, np.dtype(_DTYPES[name]).itemsize, rows, DECODE_COLS, values, tuple(seconds),
                       repeats, n_threads, bool(tiled))


def measure_machine(
    quick: bool = False, *, threads: int | None = None, progress: bool | None = None
) -> MachineRoofline:
    """Measure this CPU's roofline: read and triad bandwidth, float32/float64 GEMM, mini decode.

    Every kernel runs once per round, a warm-up round and then `repeats` timed rounds,
    and each keeps its best time: the ceilings and the decode steps are measured side by
    side, so a burst of load from other processes cannot skew one against the other.
    quick=False: arrays and weights 8x the last-level cache, GEMM n = 2048 (float64
    1536), batches 1..256, 5 rounds: about 10-20 s on 2 cores, with a progress bar.
    quick=True: 4x the cache, GEMM n = 1536 (float64 1024), batches 1..128, 5 rounds:
    about 3-5 s. A busy machine still measures lower ceilings than an idle one.
    `threads` worker threads (default: the BLAS's current thread count) each call the
    BLAS pinned to one thread.
    """
    from tqdm.auto import tqdm

    quick = bool(quick)
    n_threads = _threads(threads)
    show = (not quick) if progress is None else bool(progress)
    size = _default_bytes(quick)
    batches = QUICK_BATCHES if quick else FULL_BATCHES
    repeats = 5  # best of 5 even in quick mode: fewer rounds let a burst of load skew the ceilings
    gemm_sizes = {"float32": 1536, "float64": 1024} if quick else {"float32": 2048, "float64": 1536}

    start = time.perf_counter()
    with ThreadPoolExecutor(n_threads) as pool, tqdm(total=repeats, desc="measuring rounds",
                                                     disable=not show) as bar:
        read_kernel, read_bytes = _bandwidth_kernel("read", size, pool, n_threads)
        triad_kernel, triad_bytes = _bandwidth_kernel("triad", size, pool, n_threads)
        gemm_kernels = [_gemm_kernel(name, n, pool, n_threads) for name, n in gemm_sizes.items()]
        rows, decode_kernels = _decode_kernels(size, "float32", batches, pool, n_threads, tiled=True)
        best = _timed_rounds([read_kernel, triad_kernel, *gemm_kernels, *decode_kernels], repeats, bar.update)
    array_bytes = size // 8 * 8
    read = Bandwidth("read", array_bytes, read_bytes, best[0], repeats, n_threads)
    triad = Bandwidth("triad", array_bytes, triad_bytes, best[1], repeats, n_threads)
    gemm = tuple(GemmPeak(name, n, s, repeats, n_threads, products=n_threads)
                 for (name, n), s in zip(gemm_sizes.items(), best[2:4], strict=True))
    decode = DecodeSweep("float32", 4, rows, DECODE_COLS, batches, tuple(best[4:]), repeats, n_threads, True)
    return MachineRoofline(
        device=f"CPU: {_cpu_name()} ({os.cpu_count()} logical CPUs)",
        backend=blas_info(n_threads),
        read=read,
        triad=triad,
        gemm=gemm,
        decode=decode,
        wall_s=time.perf_counter() - start,
        quick=quick,
    )


# ---------------------------------------------------------------------------- GPU (torch)


def _torch_cuda() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def gpu_available() -> bool:
    """True when torch is installed and sees a CUDA device (imports torch)."""
    return _torch_cuda() is not None


def measure_gpu(
    quick: bool = False, *, dtype: str = "fp16", progress: bool | None = None
) -> MachineRoofline:
    """The same measurements on CUDA device 0 through torch, timed with CUDA events.

    read: torch.sum over one float32 array; triad: torch.add(b, c, alpha=s, out=a) (3
    arrays counted); GEMM: n x n in fp16 or bf16; mini decode: X (B x 8192) @ W.T with W
    of 2 GiB (quick: 512 MiB) in the same dtype, B = 1..4096 (quick: 1..1024). Arrays of
    1 GiB (quick: 256 MiB), far beyond any GPU's L2. One warm-up, then best of 5 (quick 3).
    Untested where no GPU is present (the test machine has none).
    """
    from tqdm.auto import tqdm

    torch = _torch_cuda()
    if torch is None:
        raise RuntimeError("measure_gpu needs torch with a CUDA device; none is importable here "
                           "(use measure_machine() for this CPU)")
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16}
    if dtype not in dtypes:
        raise ValueError(f"dtype must be one of {tuple(dtypes)}, got {dtype!r}")
    quick = bool(quick)
    show = (not quick) if progress is None else bool(progress)
    dev = torch.device("cuda")
    tdt = dtypes[dtype]
    repeats = 5  # best of 5 even in quick mode: fewer rounds let a burst of load skew the ceilings
    array_bytes = (256 if quick else 1024) * MIB
    n_gemm = 4096 if quick else 8192
    cols = 8192
    rows = (512 if quick else 2048) * MIB // (cols * 2)
    batches = tuple(2**k for k in range(11 if quick else 13))

    def best_s(fn: Callable[[], object]) -> float:
        fn()
        torch.cuda.synchronize()
        best = math.inf
        for _ in range(repeats):
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            fn()
            end.record()
            end.synchronize()
            best = min(best, begin.elapsed_time(end) / 1e3)  # ms -> s
        return best

    def bandwidths() -> tuple[Bandwidth, Bandwidth]:
        a = torch.zeros(array_bytes // 4, dtype=torch.float32, device=dev)
        b, c = torch.ones_like(a), torch.full_like(a, 2.0)
        read_s = best_s(lambda: torch.sum(b))
        triad_s = best_s(lambda: torch.add(b, c, alpha=3.0, out=a))
        return (Bandwidth("read", array_bytes, array_bytes, read_s, repeats, 1),
                Bandwidth("triad", array_bytes, 3 * array_bytes, triad_s, repeats, 1))

    def gemm_peak() -> GemmPeak:
        m1 = torch.full((n_gemm, n_gemm), 0.5, dtype=tdt, device=dev)
        m2, m3 = torch.full_like(m1, 0.25), torch.empty_like(m1)
        return GemmPeak(dtype, n_gemm, best_s(lambda: torch.matmul(m1, m2, out=m3)), repeats, 1)

    start = time.perf_counter()
    with tqdm(total=2 + len(batches), desc="measuring GPU", disable=not show) as bar:
        read, triad = bandwidths()
        bar.update()
        gemm = gemm_peak()
        bar.update()
        w = torch.full((rows, cols), 1.0 / cols, dtype=tdt, device=dev)
        seconds = []
        for batch in batches:
            x = torch.full((batch, cols), 0.5, dtype=tdt, device=dev)
            seconds.append(best_s(lambda x=x: torch.matmul(x, w.t())))
            bar.update()
    props = torch.cuda.get_device_properties(dev)
    backend = Backend(
        library="cuBLAS via torch",
        version=f"{torch.__version__} (CUDA {torch.version.cuda})",
        architecture=f"{props.name}, sm_{props.major}{props.minor}",
        threads=int(props.multi_processor_count),
        threading_layer="SMs",
    )
    decode = DecodeSweep(dtype, 2, rows, cols, batches, tuple(seconds), repeats, 1, False)
    return MachineRoofline(f"GPU: {props.name}", backend, read, triad, (gemm,), decode,
                           time.perf_counter() - start, quick)


# ---------------------------------------------------------------------------- command line


def _mib(n: int) -> str:
    return f"{n / MIB:.0f} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 -m roofline_lab.measure [--quick] [--threads N] [--gpu]`: print every figure."""
    parser = argparse.ArgumentParser(prog="python3 -m roofline_lab.measure", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the ~5 s mode the tests use")
    parser.add_argument("--threads", type=int, default=None, help="BLAS/worker threads (default: BLAS's)")
    parser.add_argument("--gpu", action="store_true", help="measure CUDA device 0 through torch instead")
    parser.add_argument("--dtype", default="fp16", choices=("fp16", "bf16"), help="GPU dtype")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.gpu:
        result = measure_gpu(args.quick, dtype=args.dtype, progress=not args.quick)
    else:
        result = measure_machine(args.quick, threads=args.threads, progress=not args.quick)
    print(result.summary())
    print(f"total command time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Argument checks, timing and the CPU kernels the measurements are made of.

Every kernel is a `_Kernel`: a no-argument callable plus the BLAS thread count it runs
with. `_timed_rounds` times a named set of them in interleaved rounds and returns each
one's best time by name.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from roofline_lab import _checks
from roofline_lab.measure.machine import _blas_entry, blas_limiter, last_level_cache_bytes
from roofline_lab.measure.results import MIB

#: Array size used when the cache size cannot be read (8x a large 32 MiB L3).
FALLBACK_ARRAY_BYTES = 256 * MIB
#: Largest default array/weight size, full and quick mode. A server's (or a VM's host's) L3 of
#: several hundred MiB would otherwise make quick mode read GiBs for a minute; where the arrays
#: come out under 2x the cache, the summary says so.
MAX_ARRAY_BYTES = 1024 * MIB
QUICK_MAX_ARRAY_BYTES = 256 * MIB
#: Input features of the mini decode's weight matrix (a small LLM's hidden size).
DECODE_COLS = 4096
#: Bytes of weight rows in one tile of the mini decode (stays in L3 while all B vectors use it).
DECODE_TILE_BYTES = 4 * MIB
#: Elements per block of the triad (float64: 256 KiB per array, L2-resident).
TRIAD_BLOCK = 32768

DTYPES = {"float32": np.float32, "float64": np.float64}
KERNELS = ("read", "triad")


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
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {dtype!r}")
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
    """Array/weight bytes: 8x the last-level cache in [64 MiB, 1 GiB]; quick: 4x it in [64, 256 MiB]."""
    llc = last_level_cache_bytes()
    if llc is None:
        return FALLBACK_ARRAY_BYTES
    return int(min(max((4 if quick else 8) * llc, 64 * MIB), QUICK_MAX_ARRAY_BYTES if quick else MAX_ARRAY_BYTES))


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
    kernels: Mapping[str, _Kernel], repeats: int, on_round: Callable[[], object] = lambda: None
) -> dict[str, float]:
    """Best seconds of each named kernel over `repeats` interleaved rounds, after a warm-up round.

    Each round runs every kernel once, so a burst of load from other processes hits all
    the kernels of a round alike instead of spoiling one measurement; the minimum keeps
    each kernel's quietest run. The BLAS thread count is pinned around every call (and
    restored afterwards); `on_round` follows each timed round (the progress bar).
    """
    limit = blas_limiter()
    best = dict.fromkeys(kernels, math.inf)
    for round_ in range(repeats + 1):
        for name, kernel in kernels.items():
            with limit(kernel.blas_threads):
                seconds = _best_s(kernel.run, 1)
            if round_:
                best[name] = min(best[name], seconds)
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
    mats = [(np.full((n, n), 0.5, dtype=DTYPES[dtype]), np.full((n, n), 0.25, dtype=DTYPES[dtype]),
             np.empty((n, n), dtype=DTYPES[dtype])) for _ in range(n_threads)]

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
    np_dtype = DTYPES[dtype]
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



"""The CPU measurements: bandwidth, GEMM peak, mini decode, and all three side by side."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from roofline_lab.measure.kernels import (
    DECODE_COLS,
    DTYPES,
    KERNELS,
    _bandwidth_kernel,
    _batches,
    _decode_kernels,
    _default_bytes,
    _dtype,
    _gemm_kernel,
    _threads,
    _timed_rounds,
    _whole,
)
from roofline_lab.measure.machine import _cpu_name, blas_info, last_level_cache_bytes, progress_bar
from roofline_lab.measure.results import Bandwidth, DecodeSweep, GemmPeak, MachineRoofline

FULL_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
QUICK_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)


def measure_bandwidth(
    kernel: str = "read", array_bytes: int | None = None, *, repeats: int = 5, threads: int | None = None
) -> Bandwidth:
    """STREAM-like memory bandwidth on float64 arrays of `array_bytes` bytes each.

    kernel "read": dot(x, x) over one array, split across `threads` threads; counts the
    array's bytes. kernel "triad": a = b + s * c in L2-sized blocks (so the intermediate
    never leaves the cache); counts 3 arrays' bytes, as STREAM does; an ordinary store's
    write-allocate read of `a` is real traffic but not counted. Default size: 8x the
    last-level cache, at most 1 GiB (256 MiB where unknown). A warm-up pass, then the best
    of `repeats`.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    array_bytes = _default_bytes(False) if array_bytes is None else _whole("array_bytes", array_bytes, minimum=8)
    repeats, n_threads = _whole("repeats", repeats), _threads(threads)
    with ThreadPoolExecutor(n_threads) as pool:
        timed, moved = _bandwidth_kernel(kernel, array_bytes, pool, n_threads)
        seconds = _timed_rounds({kernel: timed}, repeats)[kernel]
    return Bandwidth(kernel=kernel, array_bytes=array_bytes // 8 * 8, bytes_moved=moved, seconds=seconds,
                     repeats=repeats, threads=n_threads)


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
        seconds = _timed_rounds({name: _gemm_kernel(name, n, pool, n_threads)}, repeats)[name]
    return GemmPeak(dtype=name, n=n, seconds=seconds, repeats=repeats, threads=n_threads, products=n_threads)


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
    values = _batches(batches)
    weight_bytes = _default_bytes(False) if weight_bytes is None else _whole("weight_bytes", weight_bytes)
    name, repeats, n_threads = _dtype(dtype), _whole("repeats", repeats), _threads(threads)
    with ThreadPoolExecutor(n_threads) as pool, \
            progress_bar(repeats, "mini decode rounds", bool(progress)) as bar:
        rows, kernels = _decode_kernels(weight_bytes, name, values, pool, n_threads, bool(tiled))
        best = _timed_rounds({f"decode B={b}": k for b, k in zip(values, kernels, strict=True)}, repeats, bar.update)
    return DecodeSweep(
        dtype=name, dtype_bytes=np.dtype(DTYPES[name]).itemsize, rows=rows, cols=DECODE_COLS, batches=values,
        seconds=tuple(best[f"decode B={b}"] for b in values), repeats=repeats, threads=n_threads,
        tiled=bool(tiled),
    )


def measure_machine(
    quick: bool = False, *, threads: int | None = None, progress: bool | None = None
) -> MachineRoofline:
    """Measure this CPU's roofline: read and triad bandwidth, float32/float64 GEMM, mini decode.

    Every kernel runs once per round, a warm-up round and then `repeats` timed rounds,
    and each keeps its best time: the ceilings and the decode steps are measured side by
    side, so a burst of load from other processes cannot skew one against the other.
    quick=False: arrays and weights 8x the last-level cache (at most 1 GiB), GEMM n = 2048
    (float64 1536), batches 1..256, 5 rounds: about 10-20 s on 2 cores, with a progress bar.
    quick=True: 4x the cache (at most 256 MiB), GEMM n = 1536 (float64 1024), batches
    1..128, 5 rounds: about 3-6 s. The summary notes arrays under 2x the cache. A busy
    machine still measures lower ceilings than an idle one.
    `threads` worker threads (default: the BLAS's current thread count) each call the
    BLAS pinned to one thread.
    """
    quick = bool(quick)
    n_threads = _threads(threads)
    show = (not quick) if progress is None else bool(progress)
    size = _default_bytes(quick)
    batches = QUICK_BATCHES if quick else FULL_BATCHES
    repeats = 5  # best of 5 even in quick mode: fewer rounds let a burst of load skew the ceilings
    gemm_sizes = {"float32": 1536, "float64": 1024} if quick else {"float32": 2048, "float64": 1536}

    start = time.perf_counter()
    with ThreadPoolExecutor(n_threads) as pool, progress_bar(repeats, "measuring rounds", show) as bar:
        read_kernel, read_bytes = _bandwidth_kernel("read", size, pool, n_threads)
        triad_kernel, triad_bytes = _bandwidth_kernel("triad", size, pool, n_threads)
        rows, decode_kernels = _decode_kernels(size, "float32", batches, pool, n_threads, tiled=True)
        kernels = {
            "read": read_kernel,
            "triad": triad_kernel,
            **{f"gemm {name}": _gemm_kernel(name, n, pool, n_threads) for name, n in gemm_sizes.items()},
            **{f"decode B={b}": k for b, k in zip(batches, decode_kernels, strict=True)},
        }
        best = _timed_rounds(kernels, repeats, bar.update)
    array_bytes = size // 8 * 8
    return MachineRoofline(
        device=f"CPU: {_cpu_name()} ({os.cpu_count()} logical CPUs)",
        backend=blas_info(n_threads),
        read=Bandwidth(kernel="read", array_bytes=array_bytes, bytes_moved=read_bytes, seconds=best["read"],
                       repeats=repeats, threads=n_threads),
        triad=Bandwidth(kernel="triad", array_bytes=array_bytes, bytes_moved=triad_bytes, seconds=best["triad"],
                        repeats=repeats, threads=n_threads),
        gemm=tuple(GemmPeak(dtype=name, n=n, seconds=best[f"gemm {name}"], repeats=repeats, threads=n_threads,
                            products=n_threads) for name, n in gemm_sizes.items()),
        decode=DecodeSweep(dtype="float32", dtype_bytes=4, rows=rows, cols=DECODE_COLS, batches=batches,
                           seconds=tuple(best[f"decode B={b}"] for b in batches), repeats=repeats,
                           threads=n_threads, tiled=True),
        wall_s=time.perf_counter() - start,
        quick=quick,
        cache_bytes=last_level_cache_bytes(),
    )

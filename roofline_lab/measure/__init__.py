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

The package: `results` (the dataclasses and the prediction), `machine` (cache size, CPU
name, BLAS, the optional threadpoolctl/tqdm), `kernels` (argument checks, timing, the CPU
kernels), `cpu` (the CPU measurements), `gpu` (the torch/CUDA path), `cli` (the command).
threadpoolctl and tqdm come with `pip install "roofline-lab[measure]"`; without them the
BLAS thread count is not pinned (a warning says so) and no progress bar is drawn.
"""

from __future__ import annotations

from roofline_lab.measure.cli import main
from roofline_lab.measure.cpu import (
    FULL_BATCHES,
    QUICK_BATCHES,
    measure_bandwidth,
    measure_decode,
    measure_gemm,
    measure_machine,
)
from roofline_lab.measure.gpu import gpu_available, measure_gpu
from roofline_lab.measure.kernels import DECODE_COLS, DECODE_TILE_BYTES, FALLBACK_ARRAY_BYTES, TRIAD_BLOCK
from roofline_lab.measure.machine import blas_info, last_level_cache_bytes
from roofline_lab.measure.results import (
    GIGA,
    MIB,
    Backend,
    Bandwidth,
    DecodeSweep,
    GemmPeak,
    MachineRoofline,
    predicted_critical_batch,
    predicted_ridge,
)

__all__ = [
    "DECODE_COLS",
    "DECODE_TILE_BYTES",
    "FALLBACK_ARRAY_BYTES",
    "FULL_BATCHES",
    "GIGA",
    "MIB",
    "QUICK_BATCHES",
    "TRIAD_BLOCK",
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

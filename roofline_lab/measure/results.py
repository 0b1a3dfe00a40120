"""The measurements' results: small frozen dataclasses in SI units, and the prediction.

Every figure is a named field (bytes, bytes/s, FLOP/s, seconds); `*_gb_per_s` /
`*_gflop_per_s` properties give people's units (GB decimal, 1e9 bytes, never GiB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from roofline_lab import _checks, reference
from roofline_lab.step_model import StepEstimate

MIB = 2**20
GIGA = 1e9


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
    #: The last-level cache the array sizes were chosen from (bytes; None: unknown or a GPU run).
    cache_bytes: int | None = None

    @property
    def arrays_exceed_cache(self) -> bool | None:
        """Whether the read array and the decode weights are each at least 2x the last-level
        cache (a pass over them then finds little in it); None where the cache is unknown."""
        if self.cache_bytes is None:
            return None
        return min(self.read.array_bytes, self.decode.weight_bytes) >= 2 * self.cache_bytes

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
        if self.arrays_exceed_cache is False:
            lines += [
                f"cache note    : the arrays are under 2x the {_mib(self.cache_bytes or 0)} last-level cache this "
                "machine reports,",
                "                so part of the read and the small-batch decode may come from cache (a VM often "
                f"reports its host's whole L3){'; full mode reads larger arrays' if self.quick else ''}",
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




def _mib(n: int) -> str:
    return f"{n / MIB:.0f} MiB"

"""The GPU path: the same measurements on CUDA device 0 through torch, timed with CUDA events.

torch is imported only when a function here is called; nothing else in the package
depends on this module.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from roofline_lab.measure.machine import progress_bar
from roofline_lab.measure.results import MIB, Backend, Bandwidth, DecodeSweep, GemmPeak, MachineRoofline


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
        return (Bandwidth(kernel="read", array_bytes=array_bytes, bytes_moved=array_bytes, seconds=read_s,
                          repeats=repeats, threads=1),
                Bandwidth(kernel="triad", array_bytes=array_bytes, bytes_moved=3 * array_bytes, seconds=triad_s,
                          repeats=repeats, threads=1))

    def gemm_peak() -> GemmPeak:
        m1 = torch.full((n_gemm, n_gemm), 0.5, dtype=tdt, device=dev)
        m2, m3 = torch.full_like(m1, 0.25), torch.empty_like(m1)
        return GemmPeak(dtype=dtype, n=n_gemm, seconds=best_s(lambda: torch.matmul(m1, m2, out=m3)),
                        repeats=repeats, threads=1)

    start = time.perf_counter()
    with progress_bar(2 + len(batches), "measuring GPU", show) as bar:
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
    decode = DecodeSweep(dtype=dtype, dtype_bytes=2, rows=rows, cols=cols, batches=batches, seconds=tuple(seconds),
                         repeats=repeats, threads=1, tiled=False)
    return MachineRoofline(device=f"GPU: {props.name}", backend=backend, read=read, triad=triad, gemm=(gemm,),
                           decode=decode, wall_s=time.perf_counter() - start, quick=quick)

"""`python -m roofline_lab.measure [--quick] [--threads N] [--gpu]`: print every figure."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from roofline_lab.measure import cpu, gpu

_DESCRIPTION = "Measure this machine: its own roofline, next to the model's prediction."


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 -m roofline_lab.measure [--quick] [--threads N] [--gpu]`: print every figure."""
    parser = argparse.ArgumentParser(prog="python3 -m roofline_lab.measure", description=_DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="the ~5 s mode the tests use")
    parser.add_argument("--threads", type=int, default=None, help="BLAS/worker threads (default: BLAS's)")
    parser.add_argument("--gpu", action="store_true", help="measure CUDA device 0 through torch instead")
    parser.add_argument("--dtype", default="fp16", choices=("fp16", "bf16"), help="GPU dtype")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.gpu:
        result = gpu.measure_gpu(args.quick, dtype=args.dtype, progress=not args.quick)
    else:
        result = cpu.measure_machine(args.quick, threads=args.threads, progress=not args.quick)
    print(result.summary())
    print(f"total command time: {time.perf_counter() - start:.1f} s")
    return 0

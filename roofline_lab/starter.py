"""The six lab functions: YOUR implementations.

Replace each `raise NotImplementedError(...)` with one expression, then run
`LAB_IMPL=starter pytest -m ex1` (ex1 ... ex6) to check that exercise, or re-run the
notebook cell that checks it. Units are SI: FLOP/s, bytes/s, bytes, FLOP/byte.
Arguments are already checked (positive, finite numbers) before your code runs.
"""

from __future__ import annotations


def ridge_point(peak_flops: float, mem_bandwidth: float) -> float:
    """The chip's balance point: ridge = peak_flops / mem_bandwidth.

    peak_flops in FLOP/s, mem_bandwidth in bytes/s -> FLOP/byte. A kernel needs at least
    this many FLOPs per byte it moves to keep the compute units busy.
    """
    raise NotImplementedError(
        "ex1 ridge_point: how many FLOPs can the chip do in the time it moves one byte?"
    )


def arithmetic_intensity(n_params: float, num_tokens: float, dtype_bytes: float) -> float:
    """FLOPs per byte of one step: 2 * n_params * num_tokens / (n_params * dtype_bytes).

    Each weight does one multiply-add (2 FLOP) per token and is read once per step
    (dtype_bytes bytes). n_params cancels: the result is 2 * num_tokens / dtype_bytes FLOP/byte.
    """
    raise NotImplementedError(
        "ex2 arithmetic_intensity: FLOPs in the step (2 per parameter per token) over bytes read"
    )


def is_compute_bound(intensity: float, ridge: float) -> bool:
    """The roofline law: compute-bound when intensity >= ridge (both in FLOP/byte)."""
    raise NotImplementedError(
        "ex3 is_compute_bound: one comparison between the workload's intensity and the chip's ridge"
    )


def critical_batch_size(peak_flops: float, mem_bandwidth: float, dtype_bytes: float) -> float:
    """Tokens per step at which decode turns compute-bound: ridge * dtype_bytes / 2.

    Solve 2 * tokens / dtype_bytes = peak_flops / mem_bandwidth for tokens.
    peak_flops in FLOP/s, mem_bandwidth in bytes/s, dtype_bytes in bytes -> tokens.
    """
    raise NotImplementedError(
        "ex4 critical_batch_size: set the decode intensity equal to the ridge and solve for tokens"
    )


def decode_steps_per_second(n_params: float, dtype_bytes: float, mem_bandwidth: float) -> float:
    """Bandwidth ceiling on decode: mem_bandwidth / (n_params * dtype_bytes) steps/s.

    Every step streams all weights (n_params * dtype_bytes bytes) from memory at
    mem_bandwidth bytes/s, so no step can be faster than that read.
    """
    raise NotImplementedError(
        "ex5 decode_steps_per_second: how many times per second can the memory bus deliver every weight?"
    )


def decode_tokens_per_second(
    n_params: float, dtype_bytes: float, mem_bandwidth: float, batch: int = 1
) -> float:
    """Decode throughput ceiling: batch * mem_bandwidth / (n_params * dtype_bytes) tokens/s.

    Each step yields one token for each of the `batch` sequences that share the weight read.
    """
    raise NotImplementedError(
        "ex6 decode_tokens_per_second: each step's weight read serves every sequence in the batch"
    )

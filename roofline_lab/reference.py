"""The six lab functions: reference solutions.

Each is one expression. Units are SI: FLOP/s, bytes/s, bytes, FLOP/byte.
`roofline_lab.lab` wraps whichever implementation LAB_IMPL selects with argument
checks, so these bodies stay as small as the ideas they state.
"""

from __future__ import annotations


def ridge_point(peak_flops: float, mem_bandwidth: float) -> float:
    """The chip's balance point: ridge = peak_flops / mem_bandwidth.

    peak_flops in FLOP/s, mem_bandwidth in bytes/s -> FLOP/byte. A kernel needs at least
    this many FLOPs per byte it moves to keep the compute units busy.
    """
    return peak_flops / mem_bandwidth


def arithmetic_intensity(n_params: float, num_tokens: float, dtype_bytes: float) -> float:
    """FLOPs per byte of one step: 2 * n_params * num_tokens / (n_params * dtype_bytes).

    Each weight does one multiply-add (2 FLOP) per token and is read once per step
    (dtype_bytes bytes). n_params cancels: the result is 2 * num_tokens / dtype_bytes FLOP/byte.
    """
    return 2 * n_params * num_tokens / (n_params * dtype_bytes)


def is_compute_bound(intensity: float, ridge: float) -> bool:
    """The roofline law: compute-bound when intensity >= ridge (both in FLOP/byte)."""
    return intensity >= ridge


def critical_batch_size(peak_flops: float, mem_bandwidth: float, dtype_bytes: float) -> float:
    """Tokens per step at which decode turns compute-bound: ridge * dtype_bytes / 2.

    Solve 2 * tokens / dtype_bytes = peak_flops / mem_bandwidth for tokens.
    peak_flops in FLOP/s, mem_bandwidth in bytes/s, dtype_bytes in bytes -> tokens.
    """
    return peak_flops / mem_bandwidth * dtype_bytes / 2


def decode_steps_per_second(n_params: float, dtype_bytes: float, mem_bandwidth: float) -> float:
    """Bandwidth ceiling on decode: mem_bandwidth / (n_params * dtype_bytes) steps/s.

    Every step streams all weights (n_params * dtype_bytes bytes) from memory at
    mem_bandwidth bytes/s, so no step can be faster than that read.
    """
    return mem_bandwidth / (n_params * dtype_bytes)


def decode_tokens_per_second(
    n_params: float, dtype_bytes: float, mem_bandwidth: float, batch: int = 1
) -> float:
    """Decode throughput ceiling: batch * mem_bandwidth / (n_params * dtype_bytes) tokens/s.

    Each step yields one token for each of the `batch` sequences that share the weight read.
    """
    return batch * mem_bandwidth / (n_params * dtype_bytes)

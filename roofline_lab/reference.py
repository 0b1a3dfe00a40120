"""The six lab functions: reference solutions.

Each is one expression. Units are SI: FLOP/s, bytes/s, bytes, FLOP/byte. The order is the
course's (ex1 ... ex6). `roofline_lab.lab` wraps whichever implementation LAB_IMPL selects
with argument checks, so these bodies stay as small as the ideas they state.
"""

from __future__ import annotations


def ridge_point(peak_flops: float, mem_bandwidth: float) -> float:
    """The chip's balance point, in FLOP per byte.

    peak_flops: the chip's peak arithmetic rate, FLOP/s. mem_bandwidth: how fast its memory
    delivers bytes, bytes/s. The answer is the number of FLOPs a program must do on each byte it
    fetches before the arithmetic, not the memory, sets the pace. It describes the chip alone.
    """
    return peak_flops / mem_bandwidth


def arithmetic_intensity(n_params: float, num_tokens: float, dtype_bytes: float) -> float:
    """FLOPs per byte moved by one step of a model, in FLOP per byte (first-order model).

    n_params: the number of weights. num_tokens: the tokens that share one read of every weight
    in the step (the decode batch, or the prompt length in prefill). dtype_bytes: bytes per
    stored weight. Count the step's FLOPs (each weight takes part in one multiply-add per token)
    and the bytes it reads (every weight, once), and divide.
    """
    return 2 * n_params * num_tokens / (n_params * dtype_bytes)


def is_compute_bound(intensity: float, ridge: float) -> bool:
    """True when a workload is limited by arithmetic, False when by memory bandwidth.

    intensity: the workload's FLOPs per byte. ridge: the chip's ridge point, FLOP per byte. A
    workload exactly at the ridge counts as compute-bound: its FLOPs take as long as its bytes.
    """
    return intensity >= ridge


def decode_steps_per_second(n_params: float, dtype_bytes: float, mem_bandwidth: float) -> float:
    """The bandwidth ceiling on decode, in steps per second.

    n_params: the number of weights; dtype_bytes: bytes per stored weight; mem_bandwidth:
    bytes/s. Every decode step must read every weight from memory once, so no step can finish
    sooner than that read.
    """
    return mem_bandwidth / (n_params * dtype_bytes)


def decode_tokens_per_second(
    n_params: float, dtype_bytes: float, mem_bandwidth: float, batch: int = 1
) -> float:
    """The bandwidth ceiling on decode throughput, in tokens per second summed over the batch.

    Arguments as for decode_steps_per_second, plus batch: the sequences decoding together.
    Each step gives one new token to each sequence in the batch.
    """
    return batch * mem_bandwidth / (n_params * dtype_bytes)


def critical_batch_size(peak_flops: float, mem_bandwidth: float, dtype_bytes: float) -> float:
    """The decode batch at which a step turns compute-bound, in tokens per step.

    peak_flops: FLOP/s; mem_bandwidth: bytes/s; dtype_bytes: bytes per stored weight. Below
    this many tokens per step, extra sequences ride on the weight read for free; from here on
    each one adds arithmetic time.
    """
    return peak_flops / mem_bandwidth * dtype_bytes / 2

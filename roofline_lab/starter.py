"""The six lab functions: YOUR implementations.

Replace each `raise NotImplementedError(...)` with one expression and save: the next call,
in the notebook or in a test, runs your code (no kernel restart). Check one exercise with
`LAB_IMPL=starter .venv/bin/python -m pytest -m ex1` (ex1 ... ex6, in the order below, which is
the order the notebooks introduce them), or re-run the notebook cell that checks it.
Units are SI: FLOP/s, bytes/s, bytes, FLOP/byte. Arguments are already checked (positive,
finite numbers) before your code runs.
"""

from __future__ import annotations


def ridge_point(peak_flops: float, mem_bandwidth: float) -> float:
    """The chip's balance point, in FLOP per byte.

    peak_flops: the chip's peak arithmetic rate, FLOP/s. mem_bandwidth: how fast its memory
    delivers bytes, bytes/s. The answer is the number of FLOPs a program must do on each byte it
    fetches before the arithmetic, not the memory, sets the pace. It describes the chip alone.
    """
    raise NotImplementedError(
        "ex1 ridge_point: how many FLOPs can the chip do in the time it moves one byte?"
    )


def arithmetic_intensity(n_params: float, num_tokens: float, dtype_bytes: float) -> float:
    """FLOPs per byte moved by one step of a model, in FLOP per byte (first-order model).

    n_params: the number of weights. num_tokens: the tokens that share one read of every weight
    in the step (the decode batch, or the prompt length in prefill). dtype_bytes: bytes per
    stored weight. Count the step's FLOPs (each weight takes part in one multiply-add per token)
    and the bytes it reads (every weight, once), and divide.
    """
    raise NotImplementedError(
        "ex2 arithmetic_intensity: how many FLOPs does the step do, and how many bytes does it read?"
    )


def is_compute_bound(intensity: float, ridge: float) -> bool:
    """True when a workload is limited by arithmetic, False when by memory bandwidth.

    intensity: the workload's FLOPs per byte. ridge: the chip's ridge point, FLOP per byte. A
    workload exactly at the ridge counts as compute-bound: its FLOPs take as long as its bytes.
    """
    raise NotImplementedError(
        "ex3 is_compute_bound: which side of the chip's ridge is the workload on, and which side owns the boundary?"
    )


def decode_steps_per_second(n_params: float, dtype_bytes: float, mem_bandwidth: float) -> float:
    """The bandwidth ceiling on decode, in steps per second.

    n_params: the number of weights; dtype_bytes: bytes per stored weight; mem_bandwidth:
    bytes/s. Every decode step must read every weight from memory once, so no step can finish
    sooner than that read.
    """
    raise NotImplementedError(
        "ex4 decode_steps_per_second: how many times per second can the memory bus deliver every weight?"
    )


def decode_tokens_per_second(
    n_params: float, dtype_bytes: float, mem_bandwidth: float, batch: int = 1
) -> float:
    """The bandwidth ceiling on decode throughput, in tokens per second summed over the batch.

    Arguments as for decode_steps_per_second, plus batch: the sequences decoding together.
    Each step gives one new token to each sequence in the batch.
    """
    raise NotImplementedError(
        "ex5 decode_tokens_per_second: how many tokens does one step's weight read produce?"
    )


def critical_batch_size(peak_flops: float, mem_bandwidth: float, dtype_bytes: float) -> float:
    """The decode batch at which a step turns compute-bound, in tokens per step.

    peak_flops: FLOP/s; mem_bandwidth: bytes/s; dtype_bytes: bytes per stored weight. Below
    this many tokens per step, extra sequences ride on the weight read for free; from here on
    each one adds arithmetic time.
    """
    raise NotImplementedError(
        "ex6 critical_batch_size: at how many tokens per step does the decode intensity reach the ridge?"
    )

"""The step model: a forward step's work and time, each operator on its own roofline.

A step runs two kinds of kernels one after the other, so their times add (v2):

    weights time   = max(weight bytes / bandwidth, linear FLOPs / peak)      the GEMMs
    attention time = max(KV bytes / bandwidth, attention FLOPs / peak)      attention over the cache
    time           = weights time + attention time + comm time + overhead_s

The seed's model is one roofline over the whole step, max(all bytes / bandwidth, all
FLOPs / peak) (`StepEstimate.one_roofline_time_s`); at context 0 the attention terms
vanish and the two agree exactly. Weights are stored in `weight_dtype` (W4A16 streams
0.5 byte/param) while the math runs at the peak of `compute_dtype` (W4A16 still
multiplies in fp16; W8A8 and FP8 use the int8/fp8 peak). `bandwidth_fraction` and
`flops_fraction` derate the datasheet's bandwidth and peak to what kernels achieve.

Functions that accept numpy arrays (for sweeps and plots) say so; they broadcast and
return arrays. All quantities are SI: FLOP, FLOP/s, bytes, bytes/s, seconds.
"""

from __future__ import annotations

import functools

import numpy as np

from roofline_lab import _checks, parallel, reference
from roofline_lab import attention as attn
from roofline_lab.dtypes import canonical_dtype
from roofline_lab.estimate import StepEstimate
from roofline_lab.hardware import Accelerator, get_gpu
from roofline_lab.models import Model, get_model, kv_values_per_token

Array = float | np.ndarray

#: One multiply-add per parameter per token in a forward pass (2 FLOP) ...
INFERENCE_FLOPS_PER_PARAM_TOKEN = 2
#: ... and three passes' worth in training (forward 2 + backward 4): the famous 6 N T.
TRAINING_FLOPS_PER_PARAM_TOKEN = 6
#: The 16-bit float formats, which stand in for each other on chips that list only one.
SIXTEEN_BIT = ("fp16", "bf16")

# Argument rules, declared once (see _checks.arguments); each returns the checked value.
_number = _checks.number
_whole = functools.partial(_checks.number, integer=True)
_sizes = functools.partial(_checks.numbers_array, integer=True)
_counts = functools.partial(_checks.numbers_array, integer=True, allow_zero=True)
_reals = _checks.numbers_array


def _model(_name: str, value: Model | str) -> Model:
    return get_model(value)


def _gpu(_name: str, value: Accelerator | str) -> Accelerator:
    return get_gpu(value)


def _dtype(_name: str, value: str) -> str:
    return canonical_dtype(value)


def _maybe_dtype(_name: str, value: str | None) -> str | None:
    return None if value is None else canonical_dtype(value)


_seconds = functools.partial(_checks.number, allow_zero=True)
_STEP = dict(
    model=_model, gpu=_gpu, weight_dtype=_dtype, compute_dtype=_maybe_dtype, kv_dtype=_dtype,
    bandwidth_fraction=_checks.fraction, flops_fraction=_checks.fraction, overhead_s=_seconds,
    attention=_checks.flag,
)


@_checks.arguments(n_layers=_whole, n_kv_heads=_whole, head_dim=_whole, dtype_bytes=_number)
def kv_bytes_per_token(n_layers: int, n_kv_heads: int, head_dim: int, dtype_bytes: float) -> float:
    """KV-cache bytes per token: 2 (K and V) * n_layers * n_kv_heads * head_dim * dtype_bytes.

    Llama-3-8B (32 layers, 8 KV heads of 128) in fp16: 131,072 bytes = 128 KiB.
    """
    return kv_values_per_token(n_layers, n_kv_heads, head_dim) * dtype_bytes


@_checks.arguments(("batch", "context_len"), batch=_sizes, context_len=_counts, kv_per_token=_number)
def kv_bytes_per_step(batch: Array, context_len: Array, kv_per_token: float) -> Array:
    """Bytes of KV cache one decode step reads: batch * context_len * kv_per_token. Arrays OK."""
    return batch * context_len * kv_per_token


@_checks.arguments(n_params=_number, dtype_bytes=_number, batch=_sizes, kv_per_token=_number)
def long_context_wall(n_params: float, dtype_bytes: float, batch: Array, kv_per_token: float) -> Array:
    """Context length at which a decode step's KV reads equal its weight read, in tokens.

    n_params * dtype_bytes / (batch * kv_per_token). 8B fp16, batch 64, 128 KiB/token:
    16e9 / (64 * 131,072) = 1,907 tokens. Past it, the KV cache is most of the traffic.
    Arrays OK for batch.
    """
    return n_params * dtype_bytes / (batch * kv_per_token)


@_checks.arguments(intensity=functools.partial(_reals, allow_zero=True), peak_flops=_number, mem_bandwidth=_number)
def attainable_flops(intensity: Array, peak_flops: float, mem_bandwidth: float) -> Array:
    """The roofline itself: min(peak_flops, mem_bandwidth * intensity) FLOP/s. Arrays OK."""
    return np.minimum(peak_flops, mem_bandwidth * intensity)


@_checks.arguments(n_params=_number, num_tokens=_reals)
def inference_flops(n_params: float, num_tokens: Array) -> Array:
    """Forward-pass FLOPs: 2 * n_params * num_tokens (attention left out). Arrays OK."""
    return INFERENCE_FLOPS_PER_PARAM_TOKEN * n_params * num_tokens


@_checks.arguments(n_params=_number, num_tokens=_reals)
def training_flops(n_params: float, num_tokens: Array) -> Array:
    """Training FLOPs: 6 * n_params * num_tokens, three times inference's 2NT. Arrays OK."""
    return TRAINING_FLOPS_PER_PARAM_TOKEN * n_params * num_tokens


@_checks.arguments(model=_model, context_len=_counts)
def attention_flops_per_token(model: Model | str, context_len: Array) -> Array:
    """FLOPs one new token spends attending to context_len cached tokens (decode). Arrays OK.

    4 * n_layers * n_heads * head_dim * context_len for MHA/GQA: Q.K^T and softmax(..).V
    are each 2 FLOP per head dimension per cached token. See roofline_lab.attention for
    MLA's absorbed form and for windowed layers.
    """
    return attn.decode_flops(model, 1, context_len)


@_checks.arguments(model=_model, tokens=_reals, weight_dtype=_dtype)
def weights_read(model: Model | str, tokens: Array, weight_dtype: str = "fp16") -> Array:
    """Expected weight bytes one step streams when it pushes `tokens` tokens through the model.

    Dense models read every weight once, whatever the tokens. A mixture of experts reads
    only the experts its tokens are routed to. Arrays OK for tokens.
    """
    return model.streamed_weight_bytes(weight_dtype, tokens)


def runs_in(gpu: Accelerator, dtype: str) -> str:
    """The compute dtype a chip runs `dtype` in: itself, or the other 16-bit float where it lists only one.

    TPUs list bf16 and no fp16, V100 fp16 and no bf16: a 16-bit step runs in the one it has.
    Other missing dtypes raise (H100 has no int4 math).
    """
    if dtype not in gpu.dense_flops and dtype in SIXTEEN_BIT:
        other = SIXTEEN_BIT[1 - SIXTEEN_BIT.index(dtype)]
        if other in gpu.dense_flops:
            return other
    gpu.peak_flops(dtype)  # raises with the dtypes the chip lists
    return dtype


def _step(
    phase: str, m: Model, g: Accelerator, *, tokens: Array, linear_flops: Array, attention_flops: Array,
    weight_bytes: Array, kv_bytes: Array, kv_resident: Array, weight_dtype: str, compute_dtype: str | None,
    bandwidth_fraction: float, flops_fraction: float, overhead_s: float,
    layout: parallel.Layout = parallel.ONE_GPU,
) -> StepEstimate:
    compute = runs_in(g, weight_dtype if compute_dtype is None else compute_dtype)
    return StepEstimate(
        phase=phase,
        tokens=tokens,
        flops=linear_flops + attention_flops,
        weight_bytes=weight_bytes,
        kv_bytes=kv_bytes * layout.kv_replication,
        peak_flops=g.peak_flops(compute) * flops_fraction * layout.tp,
        mem_bandwidth=g.mem_bandwidth * bandwidth_fraction * layout.tp,
        attention_flops=attention_flops,
        overhead_s=overhead_s,
        comm_time_s=layout.comm_time_s(m, tokens),
        resident_bytes=m.weight_bytes(weight_dtype) + kv_resident * layout.kv_replication,
        memory_capacity_bytes=g.memory_bytes * layout.n_gpus,
        compute_dtype=compute,
    )


def _linear_flops(m: Model, tokens: Array, logits: Array) -> Array:
    """2 FLOP per weight per token through the blocks, and through the head for `logits` tokens."""
    return INFERENCE_FLOPS_PER_PARAM_TOKEN * (m.block_params_per_token * tokens + m.head_params * logits)


@_checks.arguments(("batch", "context_len"), batch=_sizes, context_len=_counts, **_STEP)
def decode_step(
    model: Model | str,
    gpu: Accelerator | str,
    batch: Array = 1,
    context_len: Array = 0,
    *,
    weight_dtype: str = "fp16",
    compute_dtype: str | None = None,
    kv_dtype: str = "fp16",
    bandwidth_fraction: float = 1.0,
    flops_fraction: float = 1.0,
    overhead_s: float = 0.0,
    attention: bool = True,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    network: str | None = None,
) -> StepEstimate:
    """One decode step: `batch` sequences each add a token after `context_len` cached ones.

    Reads the weights once (the experts its tokens touch, for MoE) plus each sequence's KV
    cache; computes 2 FLOP per weight per token plus attention over the context
    (attention=False drops those FLOPs). compute_dtype defaults to weight_dtype.
    batch and context_len accept arrays. With context_len=0 this is the seed's model.
    """
    m: Model = model  # type: ignore[assignment]
    return _step(
        "decode", m, gpu, tokens=batch,  # type: ignore[arg-type]
        linear_flops=_linear_flops(m, batch, batch),
        attention_flops=attn.decode_flops(m, batch, context_len) * attention,
        weight_bytes=m.streamed_weight_bytes(weight_dtype, batch),
        kv_bytes=attn.decode_kv_bytes(m, batch, context_len, kv_dtype),
        kv_resident=batch * attn.resident_kv_bytes(m, context_len, kv_dtype),
        weight_dtype=weight_dtype, compute_dtype=compute_dtype, bandwidth_fraction=bandwidth_fraction,
        flops_fraction=flops_fraction, overhead_s=overhead_s,
        layout=parallel.layout(m, gpu, tp=tp, pp=pp, ep=ep, network=network),  # type: ignore[arg-type]
    )


@_checks.arguments(("prompt_len", "batch"), prompt_len=_sizes, batch=_sizes, **_STEP)
def prefill_step(
    model: Model | str,
    gpu: Accelerator | str,
    prompt_len: Array,
    batch: Array = 1,
    *,
    weight_dtype: str = "fp16",
    compute_dtype: str | None = None,
    kv_dtype: str = "fp16",
    bandwidth_fraction: float = 1.0,
    flops_fraction: float = 1.0,
    overhead_s: float = 0.0,
    attention: bool = True,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    network: str | None = None,
) -> StepEstimate:
    """One prefill step: `batch` prompts of `prompt_len` tokens go through in one pass.

    Reads the weights once and writes each prompt's KV cache; computes 2 FLOP per weight
    per token (the output head only for each prompt's last token, whose logits pick the
    first new token) plus causal attention. Its time is the time to first token (TTFT).
    prompt_len and batch accept arrays.
    """
    m: Model = model  # type: ignore[assignment]
    tokens = batch * prompt_len
    return _step(
        "prefill", m, gpu, tokens=tokens,  # type: ignore[arg-type]
        linear_flops=_linear_flops(m, tokens, batch),
        attention_flops=attn.prefill_flops(m, batch, prompt_len) * attention,
        weight_bytes=m.streamed_weight_bytes(weight_dtype, tokens),
        kv_bytes=tokens * m.kv_bytes_per_token(kv_dtype),
        kv_resident=batch * attn.resident_kv_bytes(m, prompt_len, kv_dtype),
        weight_dtype=weight_dtype, compute_dtype=compute_dtype, bandwidth_fraction=bandwidth_fraction,
        flops_fraction=flops_fraction, overhead_s=overhead_s,
        layout=parallel.layout(m, gpu, tp=tp, pp=pp, ep=ep, network=network),  # type: ignore[arg-type]
    )


@_checks.arguments(
    ("decode_batch", "prefill_tokens", "context_len"),
    decode_batch=_sizes, prefill_tokens=_sizes, context_len=_counts, **_STEP,
)
def mixed_step(
    model: Model | str,
    gpu: Accelerator | str,
    decode_batch: Array,
    prefill_tokens: Array,
    context_len: Array = 0,
    *,
    weight_dtype: str = "fp16",
    compute_dtype: str | None = None,
    kv_dtype: str = "fp16",
    bandwidth_fraction: float = 1.0,
    flops_fraction: float = 1.0,
    overhead_s: float = 0.0,
    attention: bool = True,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    network: str | None = None,
) -> StepEstimate:
    """One chunked-prefill step: `decode_batch` decode tokens plus a prefill chunk, one weight read.

    decode_step(decode_batch, context_len) and a prefill of one prompt of `prefill_tokens`
    share a single pass over the weights (Sarathi-style piggybacking): FLOPs and KV bytes
    add, weight bytes are paid once. The chunk is treated as the start of a prompt (its
    attention to earlier chunks is left out). Arrays OK for all three sizes.
    """
    m: Model = model  # type: ignore[assignment]
    d, p = decode_batch, prefill_tokens
    return _step(
        "mixed", m, gpu, tokens=d + p,  # type: ignore[arg-type]
        linear_flops=_linear_flops(m, d + p, d + 1),
        attention_flops=(attn.decode_flops(m, d, context_len) + attn.prefill_flops(m, 1, p)) * attention,
        weight_bytes=m.streamed_weight_bytes(weight_dtype, d + p),
        kv_bytes=attn.decode_kv_bytes(m, d, context_len, kv_dtype) + p * m.kv_bytes_per_token(kv_dtype),
        kv_resident=d * attn.resident_kv_bytes(m, context_len, kv_dtype) + attn.resident_kv_bytes(m, p, kv_dtype),
        weight_dtype=weight_dtype, compute_dtype=compute_dtype, bandwidth_fraction=bandwidth_fraction,
        flops_fraction=flops_fraction, overhead_s=overhead_s,
        layout=parallel.layout(m, gpu, tp=tp, pp=pp, ep=ep, network=network),  # type: ignore[arg-type]
    )


@_checks.arguments(
    model=_model, gpu=_gpu, context_len=_sizes, weight_dtype=_dtype, kv_dtype=_dtype,
    memory_fraction=_checks.fraction,
)
def max_batch(
    model: Model | str,
    gpu: Accelerator | str,
    context_len: Array,
    *,
    weight_dtype: str = "fp16",
    kv_dtype: str = "fp16",
    memory_fraction: float = 1.0,
    tp: int = 1,
    pp: int = 1,
) -> int | np.ndarray:
    """Largest decode batch whose weights + KV caches fit in the GPU's memory (tp x pp GPUs' with tp, pp).

    floor((memory_fraction * memory_bytes - weight bytes) / KV bytes a sequence of
    context_len tokens holds), 0 when the weights alone do not fit. Activations and
    fragmentation are ignored, so this is an upper bound; memory_fraction is what a
    serving engine leaves itself (vLLM's default 0.9). context_len (>= 1) accepts arrays.
    """
    m, g = model, gpu
    lay = parallel.layout(m, g, tp=tp, pp=pp, memory_only=True)  # type: ignore[arg-type]
    free = memory_fraction * g.memory_bytes * lay.n_gpus - m.weight_bytes(weight_dtype)  # type: ignore[union-attr]
    per_sequence = attn.resident_kv_bytes(m, context_len, kv_dtype) * lay.kv_replication  # type: ignore[arg-type]
    fits = np.floor(np.maximum(free, 0) / per_sequence)
    return fits.astype(np.int64) if isinstance(fits, np.ndarray) else int(fits)


@_checks.arguments(
    model=_model, gpu=_gpu, weight_dtype=_dtype, compute_dtype=_maybe_dtype,
    bandwidth_fraction=_checks.fraction, flops_fraction=_checks.fraction,
)
def critical_batch(
    model: Model | str,
    gpu: Accelerator | str,
    *,
    weight_dtype: str = "fp16",
    compute_dtype: str | None = None,
    bandwidth_fraction: float = 1.0,
    flops_fraction: float = 1.0,
) -> float:
    """Tokens per decode step at which the weight GEMMs turn compute-bound.

    The seed's critical batch size with the weight and compute dtypes kept apart:
    ridge(compute dtype, achieved rates) * weight bytes per FLOP-doing parameter / 2.
    A100 (lab), 8B: fp16 -> 156; int8 weights with fp16 math (W8A16) -> 78; int8 weights
    with int8 math (W8A8, twice the peak) -> 156 again. Attention is its own operator and
    leaves it alone, so this is the batch where decode_step's weights_bound flips.
    """
    m, g = model, gpu
    compute = runs_in(g, weight_dtype if compute_dtype is None else compute_dtype)  # type: ignore[arg-type]
    peak = g.peak_flops(compute) * flops_fraction  # type: ignore[union-attr]
    bandwidth = g.mem_bandwidth * bandwidth_fraction  # type: ignore[union-attr]
    return reference.critical_batch_size(peak, bandwidth, m.streamed_bytes_per_flop_param(weight_dtype))  # type: ignore[union-attr]


@_checks.arguments(model=_model, num_tokens=_reals, weight_dtype=_dtype)
def weights_only_intensity(model: Model | str, num_tokens: Array, weight_dtype: str = "fp16") -> Array:
    """The seed's first-order intensity: FLOP/byte of a step pushing num_tokens through the weights once.

    inference FLOPs (2 * active params * num_tokens) over one read of the weights; for a dense
    model the parameter count cancels, leaving 2 * num_tokens / dtype_bytes (8B or 70B, fp16,
    a 2048-token prompt: 2048 FLOP/byte). KV traffic and attention FLOPs are left out, as in
    the seed; decode_step and prefill_step add them. Arrays OK for num_tokens.
    """
    m: Model = model  # type: ignore[assignment]
    return INFERENCE_FLOPS_PER_PARAM_TOKEN * num_tokens / m.streamed_bytes_per_flop_param(weight_dtype)

"""The extended step model: the seed's weights-only roofline plus what it leaves out.

One step of a transformer takes max(memory time, compute time):

    memory time  = (weight bytes + KV-cache bytes) / (bandwidth_fraction * mem_bandwidth)
    compute time = (2 * params * tokens + attention FLOPs) / peak_flops[compute dtype]

Weights are stored in `weight_dtype` (W4A16 streams 0.5 byte/param) while the math runs
at the peak of `compute_dtype` (W4A16 still multiplies in fp16; W8A8 and FP8 use the
int8/fp8 peak), so quantization shows up where it belongs: in decode, not in prefill.

Functions that accept numpy arrays (for sweeps and plots) say so; they broadcast and
return arrays. All quantities are SI: FLOP, FLOP/s, bytes, bytes/s, seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from roofline_lab import _checks, reference
from roofline_lab.dtypes import canonical_dtype
from roofline_lab.hardware import Accelerator, get_gpu
from roofline_lab.models import Model, get_model, kv_values_per_token

Array = float | np.ndarray

#: One multiply-add per parameter per token in a forward pass (2 FLOP) ...
INFERENCE_FLOPS_PER_PARAM_TOKEN = 2
#: ... and three passes' worth in training (forward 2 + backward 4): the famous 6 N T.
TRAINING_FLOPS_PER_PARAM_TOKEN = 6


def kv_bytes_per_token(n_layers: int, n_kv_heads: int, head_dim: int, dtype_bytes: float) -> float:
    """KV-cache bytes per token: 2 (K and V) * n_layers * n_kv_heads * head_dim * dtype_bytes.

    Llama-3-8B (32 layers, 8 KV heads of 128) in fp16: 131,072 bytes = 128 KiB.
    """
    n_layers = _checks.number("n_layers", n_layers, integer=True)
    n_kv_heads = _checks.number("n_kv_heads", n_kv_heads, integer=True)
    head_dim = _checks.number("head_dim", head_dim, integer=True)
    return kv_values_per_token(n_layers, n_kv_heads, head_dim) * _checks.number("dtype_bytes", dtype_bytes)


def kv_bytes_per_step(batch: Array, context_len: Array, kv_per_token: float) -> Array:
    """Bytes of KV cache one decode step reads: batch * context_len * kv_per_token. Arrays OK."""
    batch = _checks.numbers_array("batch", batch, integer=True)
    context_len = _checks.numbers_array("context_len", context_len, integer=True, allow_zero=True)
    _checks.broadcast(batch=batch, context_len=context_len)
    return batch * context_len * _checks.number("kv_per_token", kv_per_token)


def long_context_wall(n_params: float, dtype_bytes: float, batch: Array, kv_per_token: float) -> Array:
    """Context length at which a decode step's KV reads equal its weight read, in tokens.

    n_params * dtype_bytes / (batch * kv_per_token). 8B fp16, batch 64, 128 KiB/token:
    16e9 / (64 * 131,072) = 1,907 tokens. Past it, the KV cache is most of the traffic.
    Arrays OK for batch.
    """
    weight_bytes = _checks.number("n_params", n_params) * _checks.number("dtype_bytes", dtype_bytes)
    batch = _checks.numbers_array("batch", batch, integer=True)
    return weight_bytes / (batch * _checks.number("kv_per_token", kv_per_token))


def attainable_flops(intensity: Array, peak_flops: float, mem_bandwidth: float) -> Array:
    """The roofline itself: min(peak_flops, mem_bandwidth * intensity) FLOP/s. Arrays OK."""
    intensity = _checks.numbers_array("intensity", intensity, allow_zero=True)
    peak = _checks.number("peak_flops", peak_flops)
    return np.minimum(peak, _checks.number("mem_bandwidth", mem_bandwidth) * intensity)


def inference_flops(n_params: float, num_tokens: Array) -> Array:
    """Forward-pass FLOPs: 2 * n_params * num_tokens (attention left out). Arrays OK."""
    tokens = _checks.numbers_array("num_tokens", num_tokens)
    return INFERENCE_FLOPS_PER_PARAM_TOKEN * _checks.number("n_params", n_params) * tokens


def training_flops(n_params: float, num_tokens: Array) -> Array:
    """Training FLOPs: 6 * n_params * num_tokens, three times inference's 2NT. Arrays OK."""
    tokens = _checks.numbers_array("num_tokens", num_tokens)
    return TRAINING_FLOPS_PER_PARAM_TOKEN * _checks.number("n_params", n_params) * tokens


def attention_flops_per_token(model: Model | str, context_len: Array) -> Array:
    """FLOPs one new token spends attending to context_len cached tokens.

    4 * n_layers * n_heads * head_dim * context_len: Q.K^T and softmax(..).V are each
    2 FLOP per head dimension per cached token. (For MLA models this uses the value
    head size, an underestimate of the latent-space math.) Arrays OK.
    """
    m = get_model(model)
    context_len = _checks.numbers_array("context_len", context_len, integer=True, allow_zero=True)
    return 4 * m.n_layers * m.n_heads * m.head_dim * context_len


def weights_read(model: Model | str, tokens: Array, weight_dtype: str = "fp16") -> Array:
    """Weight bytes one step streams when it pushes `tokens` tokens through the model.

    Dense models read every weight once: n_params * dtype bytes, whatever the tokens.
    A mixture of experts only touches the experts its tokens are routed to, so the read
    is at most min(n_params, active_params * tokens) * dtype bytes: one token reads its
    active 37B of DeepSeek-V3's 671B, a large batch reads them all. (An upper bound for
    small batches, whose tokens share some experts.) Arrays OK for tokens.
    """
    m = get_model(model)
    if m.flop_params == m.n_params:
        return m.weight_bytes(weight_dtype)
    tokens = _checks.numbers_array("tokens", tokens)
    return np.minimum(1.0, m.flop_params * tokens / m.n_params) * m.weight_bytes(weight_dtype)


@dataclass(frozen=True)
class StepEstimate:
    """One forward step's work and time. Fields are floats, or arrays after a sweep.

    tokens: tokens produced or consumed by the step (decode: batch; prefill: batch * prompt).
    peak_flops: FLOP/s of the compute dtype; mem_bandwidth: achievable bytes/s.
    """

    phase: str
    tokens: Array
    flops: Array
    weight_bytes: Array
    kv_bytes: Array
    peak_flops: float
    mem_bandwidth: float

    @property
    def bytes(self) -> Array:
        """Bytes moved from or to memory in the step."""
        return self.weight_bytes + self.kv_bytes

    @property
    def intensity(self) -> Array:
        """FLOP/byte of the step."""
        return self.flops / self.bytes

    @property
    def ridge(self) -> float:
        """FLOP/byte at which this chip, at this achievable bandwidth, turns compute-bound."""
        return reference.ridge_point(self.peak_flops, self.mem_bandwidth)

    @property
    def memory_time_s(self) -> Array:
        return self.bytes / self.mem_bandwidth

    @property
    def compute_time_s(self) -> Array:
        return self.flops / self.peak_flops

    @property
    def time_s(self) -> Array:
        """Seconds per step: the slower of moving the bytes and doing the FLOPs."""
        return np.maximum(self.memory_time_s, self.compute_time_s)

    @property
    def compute_bound(self) -> Array:
        return self.compute_time_s >= self.memory_time_s

    @property
    def tokens_per_s(self) -> Array:
        return self.tokens / self.time_s

    @property
    def flops_utilization(self) -> Array:
        """Share of peak compute the step keeps busy, 0..1."""
        return self.flops / self.time_s / self.peak_flops


def _rates(
    gpu: Accelerator, compute_dtype: str, bandwidth_fraction: float
) -> tuple[float, float]:
    fraction = _checks.fraction("bandwidth_fraction", bandwidth_fraction)
    return gpu.peak_flops(compute_dtype), gpu.mem_bandwidth * fraction


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
    attention: bool = True,
) -> StepEstimate:
    """One decode step: `batch` sequences each add a token after `context_len` cached ones.

    Reads every weight once plus each sequence's KV cache; computes 2 * active params
    FLOP per token plus attention over the context (attention=False drops it).
    compute_dtype defaults to weight_dtype. batch and context_len accept arrays.
    With context_len=0 this is exactly the seed's weights-only model.
    """
    m, g = get_model(model), get_gpu(gpu)
    compute_dtype = canonical_dtype(weight_dtype if compute_dtype is None else compute_dtype)
    batch = _checks.numbers_array("batch", batch, integer=True)
    context_len = _checks.numbers_array("context_len", context_len, integer=True, allow_zero=True)
    _checks.broadcast(batch=batch, context_len=context_len)
    peak, bandwidth = _rates(g, compute_dtype, bandwidth_fraction)
    flops = INFERENCE_FLOPS_PER_PARAM_TOKEN * m.flop_params * batch
    if _checks.flag("attention", attention):
        flops = flops + batch * attention_flops_per_token(m, context_len)
    return StepEstimate(
        phase="decode",
        tokens=batch,
        flops=flops,
        weight_bytes=weights_read(m, batch, weight_dtype),
        kv_bytes=kv_bytes_per_step(batch, context_len, m.kv_bytes_per_token(kv_dtype)),
        peak_flops=peak,
        mem_bandwidth=bandwidth,
    )


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
    attention: bool = True,
) -> StepEstimate:
    """One prefill step: `batch` prompts of `prompt_len` tokens go through in one pass.

    Reads every weight once and writes each prompt's KV cache; computes 2 * active
    params FLOP per token plus causal attention (token i attends to i tokens). Its time
    is the time to first token (TTFT). prompt_len and batch accept arrays.
    """
    m, g = get_model(model), get_gpu(gpu)
    compute_dtype = canonical_dtype(weight_dtype if compute_dtype is None else compute_dtype)
    prompt_len = _checks.numbers_array("prompt_len", prompt_len, integer=True)
    batch = _checks.numbers_array("batch", batch, integer=True)
    _checks.broadcast(prompt_len=prompt_len, batch=batch)
    peak, bandwidth = _rates(g, compute_dtype, bandwidth_fraction)
    tokens = batch * prompt_len
    flops = INFERENCE_FLOPS_PER_PARAM_TOKEN * m.flop_params * tokens
    if _checks.flag("attention", attention):
        # sum over positions i = 1..L of the per-token cost at context i
        flops = flops + batch * attention_flops_per_token(m, 1) * prompt_len * (prompt_len + 1) / 2
    return StepEstimate(
        phase="prefill",
        tokens=tokens,
        flops=flops,
        weight_bytes=weights_read(m, tokens, weight_dtype),
        kv_bytes=tokens * m.kv_bytes_per_token(kv_dtype),
        peak_flops=peak,
        mem_bandwidth=bandwidth,
    )


def max_batch(
    model: Model | str,
    gpu: Accelerator | str,
    context_len: Array,
    *,
    weight_dtype: str = "fp16",
    kv_dtype: str = "fp16",
    memory_fraction: float = 1.0,
) -> int | np.ndarray:
    """Largest decode batch whose weights + KV caches fit in the GPU's memory.

    floor((memory_fraction * memory_bytes - weight bytes) / (context_len * kv bytes/token)),
    0 when the weights alone do not fit. Activations and fragmentation are ignored, so
    this is an upper bound. context_len (>= 1) accepts arrays.
    """
    m, g = get_model(model), get_gpu(gpu)
    context_len = _checks.numbers_array("context_len", context_len, integer=True)
    usable = _checks.fraction("memory_fraction", memory_fraction) * g.memory_bytes
    free = usable - m.weight_bytes(weight_dtype)
    fits = np.floor(np.maximum(free, 0) / (context_len * m.kv_bytes_per_token(kv_dtype)))
    return fits.astype(np.int64) if isinstance(fits, np.ndarray) else int(fits)


def critical_batch(
    model: Model | str,
    gpu: Accelerator | str,
    *,
    weight_dtype: str = "fp16",
    compute_dtype: str | None = None,
    bandwidth_fraction: float = 1.0,
) -> float:
    """Tokens per decode step at which the weights-only step turns compute-bound.

    The seed's critical batch size with the weight and compute dtypes kept apart:
    ridge(compute dtype, achievable bandwidth) * weight bytes per FLOP-doing parameter / 2.
    A100 (lab), 8B: fp16 -> 156; int8 weights with fp16 math (W8A16) -> 78; int8 weights
    with int8 math (W8A8, twice the peak) -> 156 again. KV traffic is left out
    (context 0), so this is the batch where decode_step(..., context_len=0) flips.
    """
    m, g = get_model(model), get_gpu(gpu)
    compute_dtype = canonical_dtype(weight_dtype if compute_dtype is None else compute_dtype)
    peak, bandwidth = _rates(g, compute_dtype, bandwidth_fraction)
    return reference.critical_batch_size(peak, bandwidth, m.weight_bytes(weight_dtype) / m.flop_params)


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
    attention: bool = True,
) -> StepEstimate:
    """One chunked-prefill step: `decode_batch` decode tokens plus a prefill chunk, one weight read.

    The step is decode_step(decode_batch, context_len) and prefill_step(prefill_tokens)
    sharing a single pass over the weights (Sarathi-style piggybacking): FLOPs and KV
    bytes add, weight bytes are paid once. The chunk is treated as the start of a prompt
    (its attention to earlier chunks is left out). Arrays OK for all three sizes.
    """
    options = dict(
        weight_dtype=weight_dtype,
        compute_dtype=compute_dtype,
        kv_dtype=kv_dtype,
        bandwidth_fraction=bandwidth_fraction,
        attention=attention,
    )
    d = decode_step(model, gpu, decode_batch, context_len, **options)
    p = prefill_step(model, gpu, prefill_tokens, **options)
    _checks.broadcast(decode_batch=d.tokens, prefill_tokens=p.tokens, context_len=context_len)
    return StepEstimate(
        phase="mixed",
        tokens=d.tokens + p.tokens,
        flops=d.flops + p.flops,
        weight_bytes=weights_read(model, d.tokens + p.tokens, weight_dtype),
        kv_bytes=d.kv_bytes + p.kv_bytes,
        peak_flops=d.peak_flops,
        mem_bandwidth=d.mem_bandwidth,
    )


def weights_only_intensity(model: Model | str, num_tokens: Array, weight_dtype: str = "fp16") -> Array:
    """The seed's first-order intensity: FLOP/byte of a step pushing num_tokens through the weights once.

    inference FLOPs (2 * active params * num_tokens) over one read of the weights; for a dense
    model the parameter count cancels, leaving 2 * num_tokens / dtype_bytes (8B or 70B, fp16,
    a 2048-token prompt: 2048 FLOP/byte). KV traffic and attention FLOPs are left out, as in
    the seed; decode_step and prefill_step add them. Arrays OK for num_tokens.
    """
    m = get_model(model)
    return inference_flops(m.flop_params, num_tokens) / m.weight_bytes(weight_dtype)

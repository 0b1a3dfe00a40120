"""roofline-lab: the roofline arithmetic of LLM inference, as small typed functions.

The six lab functions come from `roofline_lab.lab`, which serves your starter code
(LAB_IMPL=starter) or the reference (default). Everything here needs only numpy;
plotting (`roofline_lab.plot`) and widgets (`roofline_lab.widgets`) load on demand.
"""

from roofline_lab import parallel
from roofline_lab.dtypes import DTYPE_BYTES, canonical_dtype, dtype_bytes
from roofline_lab.hardware import Accelerator, get_gpu, gpu_names
from roofline_lab.interconnects import get_interconnect, get_network, interconnect_names, network_names
from roofline_lab.lab import (
    IMPL,
    arithmetic_intensity,
    critical_batch_size,
    decode_steps_per_second,
    decode_tokens_per_second,
    is_compute_bound,
    ridge_point,
)
from roofline_lab.models import Model, get_model, model_names
from roofline_lab.step_model import (
    INFERENCE_FLOPS_PER_PARAM_TOKEN,
    TRAINING_FLOPS_PER_PARAM_TOKEN,
    StepEstimate,
    attainable_flops,
    attention_flops_per_token,
    critical_batch,
    decode_step,
    inference_flops,
    kv_bytes_per_step,
    kv_bytes_per_token,
    long_context_wall,
    max_batch,
    mixed_step,
    prefill_step,
    training_flops,
    weights_only_intensity,
    weights_read,
)

__version__ = "0.1.0"

__all__ = [
    "DTYPE_BYTES",
    "IMPL",
    "INFERENCE_FLOPS_PER_PARAM_TOKEN",
    "TRAINING_FLOPS_PER_PARAM_TOKEN",
    "Accelerator",
    "Model",
    "StepEstimate",
    "arithmetic_intensity",
    "attainable_flops",
    "attention_flops_per_token",
    "canonical_dtype",
    "critical_batch",
    "critical_batch_size",
    "decode_step",
    "decode_steps_per_second",
    "decode_tokens_per_second",
    "dtype_bytes",
    "get_gpu",
    "get_interconnect",
    "get_model",
    "get_network",
    "gpu_names",
    "inference_flops",
    "interconnect_names",
    "is_compute_bound",
    "kv_bytes_per_step",
    "kv_bytes_per_token",
    "long_context_wall",
    "max_batch",
    "mixed_step",
    "model_names",
    "network_names",
    "parallel",
    "prefill_step",
    "ridge_point",
    "training_flops",
    "weights_only_intensity",
    "weights_read",
]

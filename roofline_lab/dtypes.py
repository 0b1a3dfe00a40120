"""Number formats and their sizes in bytes."""

from __future__ import annotations

from roofline_lab._lookup import resolve_key

#: Bytes per stored value. tf32 is stored as fp32 (only the tensor-core math is narrower).
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
    "int4": 0.5,
}

_ALIASES = {
    "float32": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "float8": "fp8",
    "e4m3": "fp8",
    "e5m2": "fp8",
}


def canonical_dtype(name: str) -> str:
    """'FP16', 'float16', 'half' -> 'fp16'. Unknown names raise with the closest ones."""
    return resolve_key("dtype", name, DTYPE_BYTES, _ALIASES)


def dtype_bytes(name: str) -> float:
    """Bytes per value of a dtype by name: dtype_bytes('int4') -> 0.5."""
    return DTYPE_BYTES[canonical_dtype(name)]

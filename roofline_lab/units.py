"""Units and how numbers are written: one place, so readouts, lessons, ticks and labels agree.

SI inside the library (FLOP, FLOP/s, bytes, bytes/s, seconds); these helpers only turn
numbers into text for people. Pure Python, no numpy needed.
"""

from __future__ import annotations

KILO = 1e3
MEGA = 1e6
GIGA = 1e9
TERA = 1e12
KIB = 1024
MIB = 1024**2
GIB = 1024**3


def readout_number(x: float) -> str:
    """8000 -> '8,000', 64 -> '64', 8.04 -> '8.0', 0.0123 -> '0.012'."""
    x = float(x)
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.2g}"


def intensity_text(x: float) -> str:
    """FLOP/byte: 1.0 -> '1', 2048 -> '2,048', 0.5 -> '0.5'."""
    x = float(x)
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def marker_number(x: float) -> str:
    """Values beside a marker: 8000 -> '8,000', 16.6 -> '16.6', 0.0123 -> '0.012'."""
    x = float(x)
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.2g}"


def whole(x: float) -> str:
    """Whole numbers with thousands separators: 1907.3 -> '1,907'."""
    return f"{float(x):,.0f}"


def gigabytes(n_bytes: float) -> str:
    """Decimal gigabytes, as datasheets quote memory: 16e9 -> '16 GB'."""
    return f"{n_bytes / GIGA:,.0f} GB"


def percent(share: float) -> str:
    """A share 0..1 as a percentage number: 0.41 -> '41', 0.0064 -> '0.64'."""
    p = 100 * float(share)
    return f"{p:.0f}" if p >= 10 else f"{p:.1f}" if p >= 1 else f"{p:.2g}"


def tokens_label(n: int) -> str:
    """128 -> '128', 4096 -> '4K', 1048576 -> '1M' (binary K/M, as context lengths are quoted)."""
    if n >= 2**20 and n % 2**20 == 0:
        return f"{n // 2**20}M"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024}K"
    return f"{n:,}"


def tick_number(x: float) -> str:
    """Log-axis decade labels, short enough not to crowd a panel: 0.01 -> '0.01', 1000 -> '1,000',
    1e4 -> '10k', 1e6 -> '1M', 1e7 -> '10M', 1e9 -> '1G'."""
    x = float(x)
    if x < 1:
        return f"{x:.3g}"
    if x < 1e4:
        return f"{x:,.0f}"
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:,.0f}"  # pragma: no cover


__all__ = [
    "GIB", "GIGA", "KIB", "KILO", "MEGA", "MIB", "TERA", "gigabytes", "intensity_text", "marker_number",
    "percent", "readout_number", "tick_number", "tokens_label", "whole",
]

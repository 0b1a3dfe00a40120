"""How numbers are written in readouts and lessons (one place, so they always agree)."""

from __future__ import annotations


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

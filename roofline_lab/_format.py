"""Old home of the number formatters: they live in `roofline_lab.units` now."""

from roofline_lab.units import intensity_text, readout_number

__all__ = ["intensity_text", "readout_number"]

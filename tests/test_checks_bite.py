"""The checks bite: nbval fails when the library is 0.1 % off.

A sitecustomize.py on PYTHONPATH raises every catalog bandwidth by 0.1 % in every Python
process, the notebook kernel included; nbval must then report the ridge cell of notebook 01.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


PERTURBATION = textwrap.dedent(
    """
    # Loaded at start-up by every Python process whose PYTHONPATH starts here.
    import os
    import sys

    marker = os.environ.get("ROOFLINE_LAB_PERTURBATION_MARKER")
    if marker:
        import roofline_lab.hardware

        roofline_lab.hardware.GIGA = 1e9 * 1.001  # every catalog bandwidth (GB/s -> B/s) +0.1 %
        with open(marker, "a", encoding="utf-8") as f:
            f.write(" ".join(sys.orig_argv) + "\\n")
    """
)


def _ridge_cell(notebook: Path) -> int:
    """nbval's number of the code cell whose saved output prints the A100's ridge."""
    code = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    for i, cell in enumerate(code):
        text = "".join(o.get("text", "") for o in cell.get("outputs", []))
        if "ridge point: 156.0 FLOP/byte" in text:
            assert "nbval-check-output" in cell.metadata.get("tags", []), "the ridge cell must be a checked cell"
            return i
    raise AssertionError("no saved cell of notebook 01 prints 'ridge point: 156.0 FLOP/byte'")


def test_nbval_fails_when_catalog_bandwidths_are_a_tenth_of_a_percent_off(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(PERTURBATION, encoding="utf-8")
    marker = tmp_path / "patched-processes.txt"
    env = {
        **os.environ,
        "LAB_IMPL": "reference",
        "PYTHONPATH": os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p),
        "ROOFLINE_LAB_PERTURBATION_MARKER": str(marker),
    }
    notebook = NOTEBOOKS / "01-the-ridge-point.ipynb"
    # nbval runs one cell per test item (code cells, counted from 0): every cell up to the one that
    # prints the A100's ridge
    ridge = _ridge_cell(notebook)
    cells = [f"{notebook}::Cell {i}" for i in range(ridge + 1)]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *cells],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    patched = marker.read_text(encoding="utf-8").splitlines() if marker.exists() else []
    assert any("ipykernel" in argv for argv in patched), f"the patch never reached a kernel: {patched}"
    assert run.returncode == 1, run.stdout[-3000:]
    assert f"01-the-ridge-point.ipynb::Cell {ridge}" in run.stdout, run.stdout[-3000:]
    assert f"Cell {ridge}: Cell outputs differ" in run.stdout, run.stdout[-3000:]
    # nbval's diff of that cell: the saved 156.0 against the kernel's 312 TFLOP/s / 2.002 TB/s
    assert "point: 156.0 FLOP/byte" in run.stdout and "point: 155.8 FLOP/byte" in run.stdout, run.stdout


def test_the_saved_ridge_is_156_so_the_perturbation_has_something_to_contradict():
    """The control for the test above: nbval (reference mode) passes on outputs that say 156.0."""
    saved = json.dumps(nbformat.writes(nbformat.read(NOTEBOOKS / "01-the-ridge-point.ipynb", as_version=4)))
    assert "ridge point: 156.0 FLOP/byte" in saved
    assert "155.8" not in saved

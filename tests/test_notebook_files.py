"""Saved notebooks stay small enough to review and stable under a re-run.

tools/run_notebooks.py stores no widget state, one palette PNG per figure and no
timing; these tests check the files it leaves behind, and the cleaning itself.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import io
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_NOTEBOOK_BYTES = 200_000
#: The twelve original notebooks together weigh at most 1.5 MB: 125 KB each on average.
MAX_AVERAGE_BYTES = 1_500_000 / 12


def _tool():
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_saved_notebook_is_small_and_holds_no_widget_state(path: Path) -> None:
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{path.name}: {path.stat().st_size:,} bytes"
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in nb["metadata"]
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            assert WIDGET_VIEW not in output.get("data", {}), f"{path.name}: a widget view is saved"


def test_the_notebooks_together_stay_under_the_budget() -> None:
    total = sum(p.stat().st_size for p in NOTEBOOKS)
    assert total <= MAX_AVERAGE_BYTES * len(NOTEBOOKS), f"{total:,} bytes in {len(NOTEBOOKS)} notebooks"


def _png(width: int = 300, height: int = 200) -> str:
    """A matplotlib-like figure: white, a few flat colours, antialiased diagonal lines."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width / 100, height / 100), dpi=100)
    ax.loglog([1, 10, 100], [1, 10, 10], label="roofline")
    ax.axvspan(1, 10, alpha=0.2)
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _notebook_with_a_widget_output(png: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    cell = nbformat.v4.new_code_cell("explorer")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "image/png": png,
        "text/html": f"<img src='data:image/png;base64,{png}'/>",
        "text/plain": "Canvas(toolbar=Toolbar(...))",
    })]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(1)")]
    return nb


def test_cleaning_drops_widget_state_and_keeps_one_small_png() -> None:
    tool = _tool()
    png = _png()
    nb = tool.clean(_notebook_with_a_widget_output(png))
    data = nb.cells[0].outputs[0]["data"]
    assert "widgets" not in nb.metadata
    assert set(data) == {"image/png", "text/plain"}
    from PIL import Image

    before = Image.open(io.BytesIO(base64.b64decode(png)))
    after = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert after.size == before.size and after.mode == "P"
    assert len(data["image/png"]) < len(png)
    assert "Software" not in after.info  # no Matplotlib version or date in the file


def test_cleaning_is_deterministic_and_idempotent() -> None:
    tool = _tool()
    nb = _notebook_with_a_widget_output(_png())
    once = nbformat.writes(tool.clean(copy.deepcopy(nb)))
    assert nbformat.writes(tool.clean(copy.deepcopy(nb))) == once
    assert nbformat.writes(tool.clean(nbformat.reads(once, as_version=4))) == once


def test_cleaning_joins_stream_outputs_split_by_timing() -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="b\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning\n")]
    nb.cells = [cell]
    outputs = _tool().clean(nb).cells[0].outputs
    assert [(o["name"], o["text"]) for o in outputs] == [("stdout", "a\nb\n"), ("stderr", "warning\n")]

"""The notebook series: complete, saved executed, shaped like a lesson, runnable in starter mode,
and compared by nbval closely enough that a 0.1 % change in the library fails it.

nbval itself re-executes every notebook in reference mode (pyproject's addopts); these tests
cover what nbval does not: the starter-mode run, the saved state, and that the checks bite.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import time
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import pytest
from conftest import retry_kernel_start
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

SERIES = (
    "00-welcome.ipynb",
    "01-the-ridge-point.ipynb",
    "02-arithmetic-intensity.ipynb",
    "03-decode-is-bandwidth-bound.ipynb",
    "04-prefill-is-compute-bound.ipynb",
    "05-critical-batch-and-the-free-lunch.ipynb",
    "06-quantization.ipynb",
    "07-kv-cache-and-the-long-context-wall.ipynb",
    "08-hardware-generations.ipynb",
    "09-past-the-first-order-model.ipynb",
    "10-the-model-meets-reality.ipynb",
    "11-tensor-parallelism.ipynb",
    "12-mixture-of-experts.ipynb",
    "13-serving-and-cost.ipynb",
    "14-the-explorer.ipynb",
    "15-design-a-deployment.ipynb",
    "16-measure-your-machine.ipynb",
)
PRESENT = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CHECK_TAG = "nbval-check-output"
RAISES = "raises-exception"
# Appended to each notebook for the starter-mode run: it proves the kernel ran the
# learner's implementation and that execution got past the last cell.
PROBE = "import roofline_lab as _probe_rl\nprint(f'LAB_IMPL in this kernel: {_probe_rl.IMPL}')"
PROBE_OUTPUT = "LAB_IMPL in this kernel: starter\n"


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def _markdown(nb: nbformat.NotebookNode) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _stream_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


# ---------------------------------------------------------------------------------------------
# The series is complete


def test_the_series_is_exactly_the_seventeen_notebooks():
    assert PRESENT == sorted(SERIES)


# ---------------------------------------------------------------------------------------------
# Saved executed, top to bottom, and shaped like a lesson


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_is_saved_executed_top_to_bottom(name):
    counts = [c.execution_count for c in _code_cells(_read(name))]
    assert counts, f"{name} has no code"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{name}: execution counts {counts}; run `python3 tools/run_notebooks.py notebooks/{name}`"
    )


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_has_no_error_outputs_except_where_tagged(name):
    for i, cell in enumerate(_code_cells(_read(name))):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if RAISES in cell.metadata.get("tags", []):
            assert errors, f"{name}, code cell {i}: tagged {RAISES!r} but shows no error"
        else:
            assert not errors, f"{name}, code cell {i}: {errors[0].ename}: {errors[0].evalue}"


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_prints_numbers_that_nbval_checks(name):
    checked = [c for c in _code_cells(_read(name)) if CHECK_TAG in c.metadata.get("tags", [])]
    assert checked, f"{name} has no cell tagged {CHECK_TAG!r}"
    assert any(_stream_text(c).strip() for c in checked), f"{name}: its checked cells print nothing"


@pytest.mark.parametrize("name", PRESENT)
def test_nbval_markers_are_cell_tags_not_comments_in_the_code(name):
    marked = [i for i, c in enumerate(_code_cells(_read(name))) if re.search(r"^\s*#\s*NBVAL_", c.source, re.M)]
    assert not marked, f"{name}: code cells {marked} carry a '# NBVAL_' comment; use the cell tag instead"


# Lesson notebooks: each first asks for a guess (a `guess...` variable bound to None), and a later
# checked cell reveals it against the answer with exercises.reveal.
LESSONS = [n for n in PRESENT if re.match(r"\d\d-", n) and not n.startswith(("00-", "14-"))]


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_asks_for_a_guess_then_reveals_it_in_a_checked_cell(name):
    cells = _code_cells(_read(name))
    guesses = [(i, m.group(1)) for i, c in enumerate(cells)
               for m in re.finditer(r"^(guess\w*)\s*=\s*None\b", c.source, re.M)]
    assert guesses, f"{name} binds no `guess_... = None` before its answer"
    for i, var in guesses:
        reveals = [j for j, c in enumerate(cells) if j > i and re.search(rf"exercises\.reveal\(\s*{var}\b", c.source)]
        assert reveals, f"{name}: {var} is never revealed"
        cell = cells[reveals[0]]
        assert CHECK_TAG in cell.metadata.get("tags", []), f"{name}: the reveal of {var} is not a checked cell"
        assert _stream_text(cell).startswith("no guess yet"), f"{name}: saved reveal of {var} is not the None case"


def test_welcome_asks_the_four_guesses_and_later_notebooks_come_back_to_them():
    welcome = "\n".join(c.source for c in _code_cells(_read("00-welcome.ipynb")))
    names = ["guess_utilization", "guess_speed_limit", "guess_crossover", "guess_batch64"]
    for var in names:
        assert re.search(rf"^{var}\s*=\s*None", welcome, re.M), f"00 does not ask {var}"
        later = [n for n in LESSONS if re.search(rf"exercises\.reveal\(\s*{var}\b",
                                                   "\n".join(c.source for c in _code_cells(_read(n))))]
        assert later, f"no notebook comes back to {var}"
    printed = "".join(_stream_text(c) for c in _code_cells(_read("00-welcome.ipynb")))
    assert "8,000" not in printed and "125 tokens/s" not in printed, "00 prints an answer it should ask for"


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_ends_with_takeaways_and_folded_exercise_answers(name):
    text = _markdown(_read(name))
    assert re.search(r"^#+ .*Takeaways", text, re.MULTILINE), f"{name} has no Takeaways heading"
    assert re.search(r"^#+ .*Exercises", text, re.MULTILINE), f"{name} has no Exercises heading"
    assert re.search(r"<details>\s*<summary>", text), f"{name} folds no answer in <details><summary>"


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_shows_a_widget(name):
    # widget state is not saved (tools/run_notebooks.py strips it), so look for a cell that builds a
    # widget and keeps a saved fallback: the figure's PNG or the widget's text
    builds = re.compile(r"RooflineExplorer|ipywidgets|widgets\.|interactive\(|interact\(|lecture_app|_explorer\(")
    shown = [
        c for c in _code_cells(_read(name))
        if builds.search(c.source) and any({"image/png", "text/plain"} & set(o.get("data", {})) for o in c.outputs)
    ]
    assert shown, f"{name} builds no widget (explorer or ipywidgets) with a saved fallback output"


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_uses_the_python3_kernel(name):
    assert _read(name).metadata.kernelspec.name == "python3"


# ---------------------------------------------------------------------------------------------
# Starter mode: every notebook runs to the end while the six functions are still stubs


# Each notebook's own kernel start costs more than most notebooks' cells (about 2.5 s of 4), so the
# starter-mode runs share two kernels: each runs its notebooks one after another, with the
# namespace reset, the figures closed and the working directory set before every notebook.
# Errors are recorded, not raised, so one broken notebook does not hide the ones after it.
# (nbval already runs every notebook in a kernel of its own, in reference mode.)
RESET = (
    "%reset -f\n"
    "import os as _os, matplotlib.pyplot as _plt\n"
    "_plt.close('all'); _os.chdir({path!r})\n"
    "del _os, _plt"
)


SLICE_S = 1.0


def _poll_in_slices(channel: Any) -> None:
    """Make an asyncio kernel-client channel wait for messages at most SLICE_S at a time.

    zmq.asyncio sometimes misses the wake-up for a message that has arrived (seen here after
    `widgets.interactive` cells: the cell's reply sat unread until nbclient's 120 s cell timeout
    ran out, and a poll's final check found it; pyzmq issue 1558). Short polls find it within a
    second; an overall timeout still raises Empty when it runs out."""
    get_msg = channel.get_msg

    async def sliced(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=SLICE_S if left is None else min(SLICE_S, left))
            except Empty:
                if left is not None and left <= SLICE_S:
                    raise

    channel.get_msg = sliced


async def _run_in_starter_mode(names: list[str]) -> dict[str, str]:
    """Run the notebooks one after another in one LAB_IMPL=starter kernel.

    Returns, per notebook, the probe's output, or the first error of a cell that is not
    tagged raises-exception (cell number, the error and the cell's source)."""
    cells, spans = [], {}
    for name in names:
        start = len(cells)
        cells.append(nbformat.v4.new_code_cell(RESET.format(path=str(NOTEBOOKS))))
        cells += [copy.deepcopy(c) for c in _code_cells(_read(name))]
        cells.append(nbformat.v4.new_code_cell(PROBE))
        spans[name] = (start, len(cells))
    nb = nbformat.v4.new_notebook(cells=cells, metadata=_read(names[0]).metadata)

    async def execute() -> None:
        client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, record_timing=False,
                                resources={"metadata": {"path": str(NOTEBOOKS)}})

        def poll_in_slices(notebook: Any) -> None:  # once the kernel client exists
            _poll_in_slices(client.kc.shell_channel)
            _poll_in_slices(client.kc.iopub_channel)

        client.on_notebook_start = poll_in_slices
        await client.async_execute(env={**os.environ, "LAB_IMPL": "starter"})

    await retry_kernel_start(execute)()  # a kernel that dies at start-up: once more (the port race)
    results = {}
    for name, (start, stop) in spans.items():
        results[name] = _stream_text(nb.cells[stop - 1])
        for number, cell in enumerate(nb.cells[start + 1:stop - 1]):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors and RAISES not in cell.metadata.get("tags", []):
                results[name] = (f"code cell {number} raised {errors[0].ename}: {errors[0].evalue}\n"
                                 f"--- its source:\n{cell.source}")
                break
    return results


def test_a_channel_polled_in_slices_finds_a_late_message_and_still_times_out():
    class Channel:  # every poll times out until the fourth, as when a wake-up was missed
        def __init__(self) -> None:
            self.polls: list[float | None] = []

        async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
            self.polls.append(timeout)
            if len(self.polls) < 4:
                raise Empty
            return {"msg_type": "execute_reply"}

    channel = Channel()
    _poll_in_slices(channel)
    assert asyncio.run(channel.get_msg(timeout=120))["msg_type"] == "execute_reply"
    assert channel.polls == [SLICE_S] * 4  # short polls, not one of 120 s
    late = Channel()
    _poll_in_slices(late)
    with pytest.raises(Empty):
        asyncio.run(late.get_msg(timeout=0.05))  # the overall timeout still holds
    assert len(late.polls) == 1 and late.polls[0] == pytest.approx(0.05, abs=0.01)


@pytest.fixture(scope="module")
def starter_runs(request) -> dict[str, str]:
    """The starter-mode runs the session selected, in two kernels (the slow measuring notebook first)."""
    wanted = sorted({
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_notebook_runs_to_the_end_in_starter_mode"
    }, reverse=True)
    groups = [group for group in (wanted[0::2], wanted[1::2]) if group]

    async def both() -> list[dict[str, str]]:  # both clients in one event loop, no threads
        return await asyncio.gather(*(_run_in_starter_mode(group) for group in groups))

    return {name: text for run in asyncio.run(both()) for name, text in run.items()}


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_runs_to_the_end_in_starter_mode(name, starter_runs):
    assert starter_runs[name] == PROBE_OUTPUT, f"{name} stops in starter mode: {starter_runs[name][-3000:]}"

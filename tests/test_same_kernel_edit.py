"""The learner's loop through a real Jupyter kernel: edit roofline_lab/starter.py, save, re-run the
exercise cell, and the same kernel runs the saved code, with no restart and no magic command.

The kernel runs on a copy of the package in a temporary folder (LAB_IMPL=starter, PYTHONPATH set to
the copy) whose starter.py is the shipped stubs (the repository's file with every function put back to
its stub), so the repository's own starter.py is never touched and a learner's finished one does not
change the test.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from roofline_lab import lab, reference

ROOT = Path(__file__).resolve().parents[1]
STUB_LINE = "    raise NotImplementedError('ex1 ridge_point: not written yet?')"


def _stubs() -> str:
    """A starter.py with all six functions as stubs (the signatures are the reference's)."""
    lines = ["from __future__ import annotations", ""]
    for name in lab.FUNCTIONS:
        number = lab.FUNCTIONS.index(name) + 1
        lines += ["", f"def {name}{inspect.signature(getattr(reference, name))}:",
                  f"    raise NotImplementedError({f'ex{number} {name}: not written yet?'!r})", ""]
    return "\n".join(lines)


def _output(client, code: str) -> str:
    """Run `code` in the kernel; return its stdout, and any error as 'ERROR Name: value'."""
    chunks: list[str] = []

    def collect(msg: dict) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            chunks.append(content["text"])
        elif kind == "error":
            chunks.append(f"ERROR {content['ename']}: {content['evalue']}\n")

    reply = client.execute_interactive(code, output_hook=collect, timeout=60)
    assert reply["content"]["status"] in ("ok", "error")
    return "".join(chunks)


@pytest.fixture
def kernel(tmp_path):
    shutil.copytree(ROOT / "roofline_lab", tmp_path / "roofline_lab", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "roofline_lab" / "starter.py").write_text(_stubs(), encoding="utf-8")
    env = {**os.environ, "LAB_IMPL": "starter", "PYTHONPATH": str(tmp_path)}
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    try:
        yield client, tmp_path / "roofline_lab" / "starter.py"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _save(path: Path, text: str) -> None:
    """Write like an editor's save; the timestamp moves on even on a coarse-clock filesystem."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_write_break_and_fix_starter_py_in_one_kernel(kernel):
    client, starter = kernel
    check = "from roofline_lab import exercises\nok = exercises.check('ridge_point')"
    direct = "import roofline_lab as rl\nprint(rl.ridge_point(312e12, 2.0e12))"

    assert _output(client, "import roofline_lab as rl\nprint(rl.starter.__file__)").strip() == str(starter)
    assert "not implemented yet: implement `ridge_point`" in _output(client, check)

    stub = starter.read_text(encoding="utf-8")
    assert STUB_LINE in stub
    written = stub.replace(STUB_LINE, "    return peak_flops / mem_bandwidth")
    _save(starter, written)
    assert "✓ ridge_point matches the reference" in _output(client, check)
    assert _output(client, direct).strip() == "156.0"

    _save(starter, written.replace("return peak_flops / mem_bandwidth", "return peak_flops /"))
    broken = _output(client, check)
    lines = [line for line in broken.splitlines() if line.strip()]
    assert len(lines) == 1, broken
    assert str(starter) in lines[0] and "SyntaxError" in lines[0]
    line_no = written.splitlines().index("    return peak_flops / mem_bandwidth") + 1
    assert f"line {line_no}" in lines[0], lines[0]
    assert "ERROR StarterImportError:" in _output(client, direct)  # a direct call says the same, as an error
    assert _output(client, "print('the notebook keeps running')").strip() == "the notebook keeps running"

    future = "from __future__ import annotations"
    _save(starter, written.replace(future, f"{future}\nX = oops"))
    typo = _output(client, check)
    assert "NameError: name 'oops' is not defined" in typo and str(starter) in typo, typo

    _save(starter, written)
    assert "✓ ridge_point matches the reference" in _output(client, check)
    assert _output(client, direct).strip() == "156.0"

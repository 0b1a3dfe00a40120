"""The starter/reference switch: one place, same signatures, a clear failure for typos."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import roofline_lab
from roofline_lab import lab, reference, starter

ROOT = Path(__file__).resolve().parents[1]


def _run(code_or_args: list[str], impl: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LAB_IMPL"}
    if impl is not None:
        env["LAB_IMPL"] = impl
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("name", lab.FUNCTIONS)
def test_starter_signatures_equal_the_reference(name):
    assert inspect.signature(getattr(starter, name)) == inspect.signature(getattr(reference, name))
    assert getattr(starter, name).__doc__ == getattr(reference, name).__doc__


@pytest.mark.parametrize("name", lab.FUNCTIONS)
def test_every_reference_function_is_one_expression(name):
    body = inspect.getsource(getattr(reference, name)).split('"""')[-1].strip()
    assert body.startswith("return ") and body.count("\n") == 0, body


@pytest.mark.parametrize("name", lab.FUNCTIONS)
def test_package_exports_the_checked_selected_function(name):
    exported = getattr(roofline_lab, name)
    assert exported is getattr(lab, name)
    assert exported.__wrapped__ is getattr(reference if lab.IMPL == "reference" else starter, name)


def test_default_implementation_is_the_reference():
    assert lab.selected_impl({}) == "reference"
    assert lab.selected_impl({"LAB_IMPL": " Starter "}) == "starter"


def test_unknown_lab_impl_is_refused_with_the_allowed_values():
    with pytest.raises(lab.LabImplError, match=r"LAB_IMPL='bogus'.*'reference'.*'starter'"):
        lab.selected_impl({"LAB_IMPL": "bogus"})


def test_importing_with_a_bogus_lab_impl_exits_with_a_clear_message():
    result = _run(["-c", "import roofline_lab"], impl="bogus")
    assert result.returncode != 0
    assert "LAB_IMPL='bogus' is not an implementation; allowed: 'reference'" in result.stderr


# In-process, tests/test_lab.py already passes in reference mode; these run it again as a learner
# would, with LAB_IMPL=starter, in a fresh interpreter (plugins off to keep start-up short).
PYTEST = ["-m", "pytest", "tests/test_lab.py", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "-p", "no:nbval"]


def test_seed_tests_fail_with_the_hint_in_starter_mode():
    result = _run(PYTEST, impl="starter")
    assert result.returncode == 1, result.stdout
    assert "15 failed" in result.stdout and "passed" not in result.stdout
    assert "NotImplementedError: ex1 ridge_point:" in result.stdout
    assert "ImportError" not in result.stdout and " error" not in result.stdout.splitlines()[-1]


def test_one_exercise_marker_selects_only_its_tests():
    result = _run([*PYTEST, "-m", "ex5"], impl="starter")
    assert "2 failed, 13 deselected" in result.stdout
    assert "ex5 decode_steps_per_second:" in result.stdout


def test_importing_the_package_loads_no_plotting_or_widgets():
    code = "import sys, roofline_lab; print([m for m in ('matplotlib', 'ipywidgets') if m in sys.modules])"
    assert _run(["-c", code], impl=None).stdout.strip() == "[]"

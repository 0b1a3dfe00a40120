"""The set-up contract: the two commands, CI running exactly the README's test command,
and environment.yml agreeing with pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [b.strip() for b in blocks]


def _spec(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = _pyproject()["project"]
    wanted = dict(map(_spec, project["dependencies"] + project["optional-dependencies"]["test"]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    listed = dict(map(_spec, conda))
    python = listed.pop("python")
    listed.pop("pip")
    assert listed == wanted
    assert python == ">=" + project["requires-python"].removeprefix(">=")
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.endswith("-e .") for line in pip_section)


def test_readme_gives_the_two_commands_first():
    commands = _readme_commands()
    opens_lab, runs_tests = commands[0], commands[1]
    assert "jupyter lab notebooks/00-welcome.ipynb" in opens_lab
    assert "pip install" in opens_lab and "pip install" in runs_tests
    assert runs_tests.endswith("-m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci_lines


def test_first_notebook_named_by_the_readme_exists():
    assert (ROOT / "notebooks" / "00-welcome.ipynb").is_file()


def test_python_floor_is_311():
    assert _pyproject()["project"]["requires-python"] == ">=3.11"

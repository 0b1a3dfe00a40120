"""The set-up contract: the two commands, CI running exactly the README's test command,
the package's metadata and entry points, and binder/, environment.yml and pyproject.toml
agreeing with each other (and with the rules repo2docker documents)."""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from roofline_lab.server import SERVER_FLAG

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [b.strip() for b in blocks]


def _spec(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def _requirements(names: list[str]) -> dict[str, str]:
    """name -> version spec, self-references (roofline-lab[...]) left out."""
    return dict(_spec(r) for r in names if not r.startswith("roofline-lab"))


def _conda(path: Path) -> tuple[dict[str, str], list]:
    env = yaml.safe_load(path.read_text())
    conda = dict(_spec(d) for d in env["dependencies"] if isinstance(d, str))
    pip = [line for d in env["dependencies"] if isinstance(d, dict) for line in d["pip"]]
    return conda, pip


def test_environment_yml_lists_every_dependency_of_pyproject_and_its_extras():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    wanted = _requirements(project["dependencies"] + extras["lecture"] + extras["measure"] + extras["test"])
    listed, pip = _conda(ROOT / "environment.yml")
    python = listed.pop("python")
    listed.pop("pip")
    assert listed == wanted
    assert python == ">=" + project["requires-python"].removeprefix(">=")
    assert any(line.endswith("-e .") for line in pip)


def test_test_extra_pulls_the_lecture_and_measure_extras():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert "roofline-lab[lecture,measure]" in extras["test"]


def test_the_base_install_is_what_the_lab_command_needs():
    """The lab command installs no extra: it must bring JupyterLab, the widget stack and pytest
    (the learner's `LAB_IMPL=starter .venv/bin/python -m pytest -m ex1`), and nothing lecture-only."""
    base = _requirements(_pyproject()["project"]["dependencies"])
    # hypothesis: pytest -m ex1 still collects tests/test_properties.py, which imports it
    assert set(base) == {"numpy", "matplotlib", "ipywidgets", "ipympl", "jupyterlab", "pytest", "pytest-xdist", "nbval",
                         "hypothesis"}
    # pytest reads addopts on every run, the learner's too: each plugin they need is in the base
    addopts = _pyproject()["tool"]["pytest"]["ini_options"]["addopts"]
    assert ("-n " not in addopts or "pytest-xdist" in base) and ("--nbval" not in addopts or "nbval" in base)
    lab = _readme_commands()[0]
    assert "pip install -q -e . " in lab  # no extras
    extras = _pyproject()["project"]["optional-dependencies"]
    assert _requirements(extras["lecture"]) == {"voila": ">=0.5.7"}
    assert set(_requirements(extras["measure"])) == {"threadpoolctl", "tqdm"}


def test_readme_lecturer_command_installs_the_lecture_extra():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if "voila app/lecture.ipynb" in line]
    assert len(lines) == 1 and 'pip install -q -e ".[lecture]"' in lines[0]


# ---- Binder (repo2docker) ---------------------------------------------------------------

BINDER = ROOT / "binder"


def test_binder_environment_is_the_runtime_with_an_exact_python():
    listed, pip = _conda(BINDER / "environment.yml")
    python = listed.pop("python")
    listed.pop("pip")
    assert listed == _requirements(_pyproject()["project"]["dependencies"])
    assert not pip  # the package comes from postBuild, not an editable pip line
    # repo2docker reads the version from `python=X.Y...`; a range (>=) is ignored, so pin it
    version = re.fullmatch(r"=(\d+)\.(\d+)\.(\d+)", python)
    assert version, python
    floor = tuple(map(int, _pyproject()["project"]["requires-python"].removeprefix(">=").split(".")))
    assert tuple(map(int, version.groups()[:2])) >= floor


def test_binder_postbuild_installs_the_package_not_editable():
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK)  # repo2docker runs it only when executable
    text = post.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    installs = [line for line in text.splitlines() if "pip install" in line and not line.startswith("#")]
    assert len(installs) == 1 and installs[0].rstrip().endswith(" .") and " -e" not in installs[0]


def test_binder_folder_follows_repo2docker_rules():
    """repo2docker (https://repo2docker.readthedocs.io/en/latest/usage.html#where-to-put-configuration-files):
    a binder/ folder wins and every configuration file outside it is ignored; environment.yml
    selects the conda build pack; postBuild runs after it. Only files it knows belong there."""
    known = {"environment.yml", "postBuild", "apt.txt", "start", "runtime.txt", "requirements.txt"}
    present = {p.name for p in BINDER.iterdir() if not p.name.startswith(".")}
    assert present <= known and {"environment.yml", "postBuild"} <= present
    assert "requirements.txt" not in present  # with environment.yml it would be ignored: a trap


def test_readme_links_a_binder_launch_of_the_first_notebook():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    assert links, "no Binder launch link"
    for link in links:
        path = re.search(r"urlpath=lab/tree/(\S+)", link)
        assert path and path.group(1) == "notebooks/00-welcome.ipynb"
        assert (ROOT / path.group(1)).is_file()
    assert "JupyterHub" in readme and "pip install" in readme.split("JupyterHub", 1)[1]


def _binder_link():
    import importlib.util

    spec = importlib.util.spec_from_file_location("binder_link", ROOT / "tools" / "binder_link.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_binder_link_builds_the_readme_badge_from_a_remote_url():
    bl = _binder_link()
    readme = (ROOT / "README.md").read_text()
    for url in ("https://github.com/roofline-lab/roofline-lab.git", "git@github.com:roofline-lab/roofline-lab.git",
                "ssh://git@github.com/roofline-lab/roofline-lab"):
        assert bl.binder_url(url) in readme, url  # the README's badge is the tool's link for the public home
        assert bl.pip_install_line(url) in readme
    assert bl.binder_url("https://gitlab.com/me/sub/rl.git", "v1").startswith("https://mybinder.org/v2/gl/me%2Fsub%2Frl/v1?")
    assert bl.binder_url("https://git.example.org/rl.git").startswith(
        "https://mybinder.org/v2/git/https%3A%2F%2Fgit.example.org%2Frl.git/HEAD?")
    with pytest.raises(ValueError, match="remote_url"):
        bl.binder_url("/home/me/roofline-lab")
    assert "tools/binder_link.py" in readme


def test_binder_link_explains_a_clone_without_origin(tmp_path, capsys):
    bl = _binder_link()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert bl.remote_url("origin", tmp_path) is None
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:me/fork.git"], check=True)
    assert bl.remote_url("origin", tmp_path) == "git@github.com:me/fork.git"
    assert bl.main(["--remote", "no-such-remote"]) == 1
    assert "no git remote 'no-such-remote'" in capsys.readouterr().err


# ---- the package ------------------------------------------------------------------------


def test_license_is_mit_in_spdx_form_and_the_file_ships():
    project = _pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_wheel_carries_the_data_and_py_typed():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["roofline_lab"]
    assert "py.typed" in data and "data/*.toml" in data
    assert (ROOT / "roofline_lab" / "py.typed").is_file()
    assert list((ROOT / "roofline_lab" / "data").glob("*.toml"))


def test_console_script_points_at_a_function_that_exists():
    target = _pyproject()["project"]["scripts"]["roofline-lab"]
    module, _, name = target.partition(":")
    assert module == "roofline_lab.__main__"
    import roofline_lab.__main__ as entry

    assert callable(getattr(entry, name))
    assert set(entry.MODULE_COMMANDS) == {"bench", "measure"}


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run([sys.executable, "-m", "roofline_lab", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, **kwargs)


def test_every_subcommand_is_reachable():
    usage = _run()
    assert usage.returncode == 2 and all(c in usage.stdout for c in ("table", "plot", "bench", "measure"))
    assert _run("table", "--gpu", "h100-sxm").stdout.startswith("8B (lab rounding) on NVIDIA H100 SXM")
    assert "--quick" in _run("measure", "--help").stdout
    assert _run("bench", "--help").returncode == 0


def test_output_into_a_closed_pipe_ends_quietly():
    """`roofline-lab table | head -3`: the reader leaves early; no BrokenPipeError traceback."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        run = subprocess.run([sys.executable, "-m", "roofline_lab", "table"], cwd=ROOT, env=env, stdout=write_end,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert run.stderr == ""
    assert run.returncode == 141


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_sdist_manifest_covers_every_tracked_file_so_its_tests_run():
    """MANIFEST.in grafts every tracked folder (setuptools adds the package and pyproject itself)."""
    rules = [line.split() for line in (ROOT / "MANIFEST.in").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    included = {name for rule in rules if rule[0] == "include" for name in rule[1:]}
    grafted = {rule[1] for rule in rules if rule[0] == "graft"}
    excluded = [pattern for rule in rules if rule[0] == "global-exclude" for pattern in rule[1:]]
    missing = []
    for path in _tracked_files():
        if path.startswith("roofline_lab/") or path == "pyproject.toml":
            continue
        if any(fnmatch.fnmatch(Path(path).name, e) for e in excluded):
            continue
        if path not in included and path.split("/")[0] not in grafted:
            missing.append(path)
    assert not missing


def test_readme_gives_the_two_commands_first():
    commands = _readme_commands()
    opens_lab, runs_tests = commands[0], commands[1]
    # rooted at the repository, so roofline_lab/starter.py is reachable from the lab
    assert "jupyter lab --notebook-dir=. " in opens_lab and opens_lab.endswith(" notebooks/00-welcome.ipynb")
    assert SERVER_FLAG in opens_lab  # kernel messages reach the page without Nagle's delay
    assert "pip install" in opens_lab and "pip install" in runs_tests
    assert runs_tests.endswith("-m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci_lines


def test_first_notebook_named_by_the_readme_exists():
    assert (ROOT / "notebooks" / "00-welcome.ipynb").is_file()


def test_python_floor_is_311():
    assert _pyproject()["project"]["requires-python"] == ">=3.11"

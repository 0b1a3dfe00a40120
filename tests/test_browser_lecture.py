"""The lecturer page in a real browser: Voila serves app/lecture.ipynb on 127.0.0.1, chromium
(through Playwright, fixtures in conftest.py) opens it, clicks a preset, and the readout and
the figure's pixels change. Marked `browser`; skipped without chromium unless
ROOFLINE_REQUIRE_BROWSER=1, which makes that a failure."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from conftest import ROOT, free_port, jupyter_env, stop_process_group, wait_for_http

from roofline_lab.presets import get_preset
from roofline_lab.server import VOILA_FLAG

pytestmark = pytest.mark.browser

APP = Path("app/lecture.ipynb")
T = TypeVar("T")


@dataclass
class VoilaServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def readme_voila_command() -> tuple[dict[str, str], list[str]]:
    """The README's lecturer command: its environment assignments (VAR=value before the
    program, paths relative to the repository root) and the arguments after `.venv/bin/voila`."""
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if f"voila {APP.as_posix()}" in line]
    assert len(lines) == 1, f"the README should hold one lecturer command, found {lines}"
    command = shlex.split(lines[0].split("&&")[-1])
    env = {}
    while command and "=" in command[0] and not command[0].startswith("-"):
        name, value = command.pop(0).split("=", 1)
        env[name] = value
    assert command and command[0].endswith("/voila"), command
    return env, command[1:]


def readme_voila_args() -> list[str]:
    """The arguments of the README's lecturer command (after `.venv/bin/voila`)."""
    return readme_voila_command()[1]


def test_readme_lecturer_command_serves_the_app_on_localhost_only() -> None:
    args = readme_voila_args()
    assert args[0] == APP.as_posix() and (ROOT / APP).is_file()
    assert "--Voila.ip=127.0.0.1" in args and "--no-browser" in args
    assert not any("strip_sources=False" in a or "strip-sources=False" in a for a in args)
    assert VOILA_FLAG in args  # kernel messages without Nagle's delay, as in the lab


@pytest.fixture
def voila_server(tmp_path: Path) -> Iterator[VoilaServer]:
    """The README's lecturer command on a free port (Voila on 127.0.0.1); stopped at teardown."""
    port = free_port()
    readme_env, _ = readme_voila_command()
    env = {**jupyter_env(tmp_path), **readme_env}
    log_path = tmp_path / "voila.log"
    command = [sys.executable, "-m", "voila", *readme_voila_args(), f"--port={port}", "--Voila.port_retries=0"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = VoilaServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        wait_for_http(f"{server.url}/voila/static/voila.js", timeout_s=60, proc=process)
        yield server
    finally:
        stop_process_group(process)


def _wait_for(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 15.0) -> T:
    """read() until done(value) or the timeout; returns the last value read."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def test_lecture_page_preset_button_changes_readout_and_figure(browser: object, voila_server: VoilaServer) -> None:
    started = time.monotonic()
    # a projector-width page: talk style must fill it, controls readable, nothing cut
    context = browser.new_context(viewport={"width": 1600, "height": 1200})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requested: list[str] = []  # every URL the page asks for: an offline classroom has only the server
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(voila_server.url + "/", timeout=60_000)
        readout = page.locator(".roofline-readout-text")
        readout.wait_for(timeout=60_000)
        figure = page.locator(".roofline-figure canvas").first
        figure.wait_for(timeout=30_000)
        # no code on the page: Voila strips the cells' sources
        assert page.locator(".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .cm-editor").count() == 0
        assert "lecture_app" not in page.locator("body").inner_text()
        page.wait_for_timeout(500)  # let ipympl paint its first frame
        before_text = readout.inner_text()
        before_png = figure.screenshot()
        print(f"page ready after {time.monotonic() - started:.1f} s; readout: {before_text[:80]}...")

        preset = get_preset("batch 64 free lunch")
        page.locator(".roofline-preset-batch-64-free-lunch").click()
        lesson = f"{preset.name}: {preset.lesson}"
        after_text = _wait_for(readout.inner_text, lambda text: text.startswith(lesson))
        assert after_text.startswith(lesson), after_text
        assert "8,000 tok/s" in after_text
        after_png = _wait_for(figure.screenshot, lambda png: png != before_png)
        assert after_png != before_png, "the figure's pixels did not change after the preset"
        print(f"preset applied and checked after {time.monotonic() - started:.1f} s")
        box = figure.bounding_box()
        assert box is not None and box["width"] >= 0.85 * 1600, box  # the figure fills the page's width
        shots = os.environ.get("ROOFLINE_SCREENSHOTS")
        if shots:
            page.wait_for_timeout(300)
            page.screenshot(path=f"{shots}/lecture-1600.png", full_page=True)
        assert not errors, errors
        outside = [u for u in requested if u.startswith(("http:", "https:", "ws:", "wss:"))
                   and not u.split("://", 1)[1].startswith(voila_server.url.split("://", 1)[1])]
        assert requested and not outside, f"the page fetched from outside the server: {outside}"
    finally:
        context.close()
    assert "Traceback" not in voila_server.log(), voila_server.log()[-3000:]

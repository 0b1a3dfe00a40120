"""Shared fixtures for the tests that drive a real browser (marked `browser`).

    chromium_path    Debian's chromium, or skip -- or FAIL when ROOFLINE_REQUIRE_BROWSER=1 (CI)
    browser          one headless chromium per session, through Playwright (never `playwright install`)
    jupyter_server   one JupyterLab per session on 127.0.0.1, a random free port and a token,
                     serving a temporary copy of chosen notebooks; its sessions are deleted
                     and the server stopped at teardown
    lab_page         a fresh page (tab) on that server, closed afterwards

Reuse them for a Voila test: `jupyter_server` exposes `url`, `token`, `root` (the served
folder) and `copy_in(path)`; start Voila the same way with `free_port()` and `wait_for_http()`.

Also: nbval's kernel start is tried a second time when the kernel dies before it answers
(`retry_kernel_start`; see there why).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from roofline_lab.server import SERVER_FLAG

ROOT = Path(__file__).resolve().parents[1]

#: Flags chromium needs to run headless as root in a container, without phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
REQUIRE_BROWSER_ENV = "ROOFLINE_REQUIRE_BROWSER"
#: The error jupyter_client raises when a kernel process exits before its first reply.
KERNEL_DIED = "Kernel died before replying to kernel_info"


def _died_at_start_up(exc: RuntimeError) -> None:
    """Re-raise `exc` unless it is KERNEL_DIED; warn that the start is tried again."""
    if KERNEL_DIED not in str(exc):
        raise exc
    warnings.warn(f"a kernel died at start-up ({exc}); starting another on fresh ports", stacklevel=3)


def retry_kernel_start(start: Callable[..., Any]) -> Callable[..., Any]:
    """`start` (nbval.kernel.start_new_kernel, or a coroutine function that starts a kernel and
    runs a notebook), tried once more with fresh ports when the kernel dies at start-up.
    jupyter_client picks free TCP ports, releases them and hands them to the kernel, which
    binds them a second or two later; with xdist workers, a JupyterLab and chromium opening
    connections meanwhile, an outgoing connection can take one of them first, and the kernel
    exits with 'Address already in use' (seen once in a fresh-clone run; nbmake#129 reports
    the same race). Any other error, or a second death, is raised."""
    if inspect.iscoroutinefunction(start):

        @functools.wraps(start)
        async def start_again_if_it_died_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await start(*args, **kwargs)
            except RuntimeError as exc:
                _died_at_start_up(exc)
            return await start(*args, **kwargs)

        return start_again_if_it_died_async

    @functools.wraps(start)
    def start_again_if_it_died(*args: Any, **kwargs: Any) -> Any:
        try:
            return start(*args, **kwargs)
        except RuntimeError as exc:
            _died_at_start_up(exc)
        return start(*args, **kwargs)

    return start_again_if_it_died


def pytest_configure(config: pytest.Config) -> None:
    import nbval.kernel

    if not getattr(nbval.kernel.start_new_kernel, "__wrapped__", None):
        nbval.kernel.start_new_kernel = retry_kernel_start(nbval.kernel.start_new_kernel)


def _browser_required() -> bool:
    return os.environ.get(REQUIRE_BROWSER_ENV, "").strip() not in ("", "0", "false", "no")


def _missing(what: str) -> None:
    """Skip locally; fail where CI asked for the browser tests to run."""
    if _browser_required():
        pytest.fail(f"{what} ({REQUIRE_BROWSER_ENV}=1 makes this a failure, not a skip)")
    pytest.skip(what)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, timeout_s: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers 200; raise with the server's output if it dies or times out."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s (last error: {last})")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path to chromium (ROOFLINE_CHROMIUM, else `chromium` on PATH, else /usr/bin/chromium)."""
    candidates = [os.environ.get("ROOFLINE_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    _missing("chromium is not installed (apt-get install chromium)")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    """A headless chromium driven by Playwright, shared by the session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class JupyterServer:
    """A running JupyterLab: base `url`, `token`, the folder it serves (`root`)."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log_path: Path
    deleted_sessions: list[str] = field(default_factory=list)

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def copy_in(self, path: Path | str) -> Path:
        """Copy a notebook (or any file) into the served folder; returns the copy."""
        src = Path(path)
        dst = self.root / src.name
        shutil.copy2(src if src.is_absolute() else ROOT / src, dst)
        return dst

    def lab_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def delete_sessions(self) -> None:
        for session in self.api("/api/sessions") or []:  # type: ignore[union-attr]
            self.api(f"/api/sessions/{session['id']}", method="DELETE")
            self.deleted_sessions.append(session["id"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a server started in its own process group: SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def jupyter_env(home: Path) -> dict[str, str]:
    """The environment for a Jupyter or Voila server under test: config, runtime and IPython
    folders of its own below `home`, the reference implementation, the backend its notebooks ask for."""
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "LAB_IMPL": "reference",
    }
    env.pop("MPLBACKEND", None)
    return env


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """JupyterLab on 127.0.0.1:<free port> with a random token, serving a temporary folder
    (so running notebooks in the browser never rewrites the repository's copies)."""
    root = tmp_path_factory.mktemp("served")
    home = tmp_path_factory.mktemp("jupyter-home")
    port, token = free_port(), secrets.token_hex(16)
    env = jupyter_env(home)
    # Lab settings for unattended runs: every cell stays in the DOM (no windowing, so tests
    # can find outputs above the fold) and no "get Jupyter news?" prompt.
    settings = home / "settings"
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    }.items():
        path = settings / plugin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    log_path = home / "server.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
        f"--LabApp.workspaces_dir={home / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
        "--ServerApp.allow_root=True",  # CI runs as root
        SERVER_FLAG,  # as the README's lab command: kernel messages without Nagle's delay
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = JupyterServer(url=f"http://127.0.0.1:{port}", token=token, root=root, process=process,
                           log_path=log_path)
    try:
        try:
            wait_for_http(f"{server.url}/api/status?token={token}", timeout_s=90, proc=process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n--- jupyter lab log (tail) ---\n{server.log()[-4000:]}") from None
        yield server
    finally:
        try:
            if process.poll() is None:
                server.delete_sessions()
        finally:
            stop_process_group(process)


@pytest.fixture
def lab_page(browser: object, jupyter_server: JupyterServer) -> Iterator[object]:
    """A new browser page (1400x1000) on the JupyterLab server; closed at teardown."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()

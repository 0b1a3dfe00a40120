"""Print the Binder launch URL (and the JupyterHub install line) for this clone's git remote.

The README's badge names the project's public home, github.com/roofline-lab/roofline-lab. A
fork, or a clone hosted elsewhere, launches its own copy instead:

    python tools/binder_link.py            # from `origin`
    python tools/binder_link.py --remote upstream --ref main
    python tools/binder_link.py --url https://gitlab.com/me/roofline-lab.git

Exits with status 1, saying why, when the clone has no such remote.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
FIRST_NOTEBOOK = "notebooks/00-welcome.ipynb"

_HOSTED = re.compile(r"^(?:https?://|ssh://)?(?:[^@/]+@)?(?P<host>github\.com|gitlab\.com)[:/]"
                     r"(?P<path>[^?#]+?)(?:\.git)?/?$")


def binder_url(remote_url: str, ref: str = "HEAD") -> str:
    """The mybinder.org launch URL that opens FIRST_NOTEBOOK in JupyterLab for a git remote.

    GitHub and GitLab remotes (https or ssh form) use Binder's gh/gl providers; any other
    https remote uses the generic git provider.
    """
    remote_url, ref = remote_url.strip(), ref.strip()
    if not remote_url or not ref:
        raise ValueError(f"remote_url and ref must be non-empty, got {remote_url!r} and {ref!r}")
    tail = f"{quote(ref, safe='')}?urlpath=lab/tree/{FIRST_NOTEBOOK}"
    m = _HOSTED.match(remote_url)
    if m and m.group("host") == "github.com":
        return f"https://mybinder.org/v2/gh/{m.group('path')}/{tail}"
    if m:
        return f"https://mybinder.org/v2/gl/{quote(m.group('path'), safe='')}/{tail}"
    if remote_url.startswith(("https://", "http://")):
        return f"https://mybinder.org/v2/git/{quote(remote_url, safe='')}/{tail}"
    raise ValueError(f"remote_url must be an https or GitHub/GitLab ssh URL that Binder can clone, got {remote_url!r}")


def pip_install_line(remote_url: str) -> str:
    """The JupyterHub admin's one install command, from the same remote (https form)."""
    m = _HOSTED.match(remote_url.strip())
    url = f"https://{m.group('host')}/{m.group('path')}" if m else remote_url.strip()
    return f'python -m pip install "roofline-lab[measure] @ git+{url}"'


def remote_url(name: str = "origin", cwd: Path = ROOT) -> str | None:
    """The URL of the clone's remote `name`, or None when there is none (or no git)."""
    try:
        out = subprocess.run(["git", "remote", "get-url", name], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remote", default="origin", help="git remote to read (default: origin)")
    parser.add_argument("--url", help="use this repository URL instead of reading a remote")
    parser.add_argument("--ref", default="HEAD", help="branch, tag or commit Binder builds (default: HEAD)")
    args = parser.parse_args(argv)
    url = args.url or remote_url(args.remote)
    if url is None:
        print(f"This clone has no git remote {args.remote!r} (see `git remote -v`), so there is no public "
              f"repository for Binder to build. Push it somewhere Binder can clone (GitHub, GitLab, any "
              f"https git host), add it with `git remote add {args.remote} URL`, and run this again; "
              f"or pass --url URL.", file=sys.stderr)
        return 1
    try:
        print(binder_url(url, args.ref))
    except ValueError as err:
        print(f"binder_link: {err}", file=sys.stderr)
        return 1
    print(pip_install_line(url))
    return 0


if __name__ == "__main__":
    sys.exit(main())

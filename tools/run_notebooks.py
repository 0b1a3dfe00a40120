"""Execute notebooks top to bottom in reference mode and save them in place.

    python tools/run_notebooks.py                       # every notebook
    python tools/run_notebooks.py notebooks/03-*.ipynb  # some

Saved notebooks carry real outputs for nbval to compare and for GitHub to render.
Timing metadata is not recorded, so re-running an unchanged notebook changes nothing
but figure bytes and widget ids (both ignored by nbval).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 300) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    os.environ["LAB_IMPL"] = "reference"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        print(f"executing {path} ...", flush=True)
        run(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Execute notebooks top to bottom in reference mode and save them in place, small and stable.

    python tools/run_notebooks.py                          # every notebook
    python tools/run_notebooks.py notebooks/03-*.ipynb     # some
    python tools/run_notebooks.py --clean-only [paths]     # only shrink what is saved, no kernel

Saved notebooks carry real outputs for nbval to compare and one PNG per figure for GitHub
to render, and nothing else a re-run would change:

* no widget state: `metadata.widgets` and every widget view (application/vnd.jupyter.widget-view+json)
  are dropped; an explorer output keeps the PNG ipympl renders beside it (and its text),
  not ipympl's HTML fallback, which embeds the same PNG a second time;
* every PNG re-encoded as a 128-colour palette image with no text chunks (no Matplotlib
  version, no dates): about a third of the bytes, the same pixels to the eye, and the same
  bytes every run;
* consecutive stream outputs joined (the kernel splits them by timing), no timing metadata.

So a re-run with no source change leaves a notebook byte-identical (except cells whose
output is a measurement of this machine, which nbval ignores), and each notebook stays
well under 200 KB (tests/test_notebook_files.py checks the limits).
"""

from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Palette size for saved figures: plenty for flat-coloured plots and antialiased text.
PNG_COLOURS = 128


def shrink_png(data: str) -> str:
    """A base64 PNG re-encoded as a palette image, no dithering, no metadata: deterministic."""
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(data)))
    if image.mode == "P":  # already a palette image (cleaned before): leave it byte for byte
        return data
    palette = image.convert("RGB").quantize(colors=PNG_COLOURS, method=Image.Quantize.MEDIANCUT,
                                            dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    smaller = out.getvalue()
    return base64.b64encode(smaller).decode("ascii") if len(smaller) < len(base64.b64decode(data)) else data


def _merged_streams(outputs: list[Any]) -> list[Any]:
    """Consecutive stdout (or stderr) outputs joined into one: how the kernel's messages
    happened to be split is timing, not content."""
    merged: list[Any] = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                and last.get("name") == output.get("name")):
            last["text"] = "".join(last["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def clean(nb: Any) -> Any:
    """Drop widget state and views, shrink every PNG, join split streams, in place; returns nb."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = _merged_streams(cell.outputs)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            data.pop(WIDGET_VIEW, None)
            if "image/png" in data and "data:image/png;base64," in "".join(data.get("text/html", "")):
                del data["text/html"]  # ipympl's fallback HTML: the same PNG again, inline
            if "image/png" in data:
                data["image/png"] = shrink_png(data["image/png"])
    return nb


def run(path: Path, timeout: int = 300) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()
    nbformat.write(clean(nb), path)


def main(argv: list[str]) -> int:
    clean_only = "--clean-only" in argv
    args = [a for a in argv if a != "--clean-only"]
    os.environ["LAB_IMPL"] = "reference"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [Path(a) for a in args] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        if clean_only:
            print(f"cleaning {path}", flush=True)
            nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        else:
            print(f"executing {path} ...", flush=True)
            run(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

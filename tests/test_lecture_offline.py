"""The lecture page loads offline: the README's lecturer command serves it with the
`roofline-offline` template (app/share/jupyter, on JUPYTER_PATH); that template removes the
only off-server URLs Voila's lab template links (Font Awesome from cdn.jsdelivr.net). A static
check here; tests/test_browser_lecture.py also watches every request the served page makes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "app" / "share" / "jupyter" / "voila" / "templates" / "roofline-offline" / "index.html.j2"
TAG_URL = re.compile(r"<(?:link|script|img)\b[^>]*?(?:href|src)=\"(https?://[^\"]+)\"[^>]*>")


def _lab_template() -> Path:
    voila = pytest.importorskip("voila")  # the [lecture] extra
    from voila.paths import collect_template_paths

    for folder in collect_template_paths(["voila"], "lab", prune=True):
        path = Path(folder) / "index.html.j2"
        if path.is_file() and "voila" in path.parts:
            return path
    raise AssertionError(f"Voila {voila.__version__} has no lab/index.html.j2")


def test_readme_lecturer_command_uses_the_offline_template() -> None:
    line = next(ln for ln in (ROOT / "README.md").read_text().splitlines() if "voila app/lecture.ipynb" in ln)
    assert "JUPYTER_PATH=app/share/jupyter " in line and "--template=roofline-offline" in line
    assert (ROOT / "app/share/jupyter/voila/templates/roofline-offline") == TEMPLATE.parent
    assert (TEMPLATE.parent / "conf.json").read_text().count('"lab"') == 1


def test_offline_template_removes_every_off_server_tag_of_the_lab_template() -> None:
    lab_tags = [m.group(0) for m in TAG_URL.finditer(_lab_template().read_text())]
    assert lab_tags, "Voila's lab template links no CDN any more: the override may be unneeded"
    ours = TEMPLATE.read_text()
    for tag in lab_tags:
        assert f"replace('{tag}', '')" in ours, f"not removed by {TEMPLATE.name}: {tag}"
    # outside those replace() arguments, the override itself adds no URL
    assert not re.search(r"https?://", re.sub(r"replace\('[^']*', ''\)", "", ours))

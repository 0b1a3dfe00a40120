"""Lecturer mode beside the explorer: presets, the talk style and the lecture page.

    from roofline_lab.lecture import lecture_app
    lecture_app()            # preset buttons over an explorer in talk style (app/lecture.ipynb)

`apply_preset(explorer, name)` sets every control to a preset (`roofline_lab.presets`)
with one redraw and puts the preset's lesson at the front of the readout.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from roofline_lab._lookup import normalize
from roofline_lab.presets import PRESETS, SERVING_PRESET_NAMES, get_preset
from roofline_lab.widgets import RooflineExplorer


def apply_preset(explorer: RooflineExplorer, name: str) -> RooflineExplorer:
    """Every control of `explorer` set to preset `name`, one redraw, the lesson in the readout."""
    preset = get_preset(name)
    explorer._set(dict(preset.settings), exact_batch=True)  # a computed batch shows as it is
    explorer._show_lesson(f"{preset.name}: {preset.lesson}")
    return explorer


def preset_buttons(explorer: RooflineExplorer) -> Any:
    """A row of buttons, one per lecturer preset (its lesson as tooltip; the serving ones after a
    "serving:" label), and a talk-style toggle."""
    buttons: list[Any] = []
    for preset in PRESETS.values():
        if preset.name == SERVING_PRESET_NAMES[0]:
            label = w.HTML("<b>serving:</b>")
            label.add_class("roofline-preset-group")
            row_break = w.HTML(layout={"flex": "0 0 100%", "height": "0px", "margin": "0px"})
            buttons += [row_break, label]  # the serving presets on a row of their own
        button = w.Button(description=preset.name, tooltip=preset.lesson, layout={"width": "auto"})
        button.add_class("roofline-preset")
        button.add_class(f"roofline-preset-{normalize(preset.name)}")
        button.on_click(lambda _b, name=preset.name: explorer.apply_preset(name))
        buttons.append(button)
    talk = w.ToggleButton(value=explorer.talk, description="talk style", icon="television",
                          tooltip="projector: larger fonts, thicker lines", layout={"width": "auto"})
    talk.add_class("roofline-talk-toggle")
    talk.observe(lambda change: setattr(explorer, "talk", bool(change["new"])), names="value")
    return w.HBox([*buttons, talk], layout={"flex_flow": "row wrap"})


#: Talk style for the page: controls and readout that read from the back of a room.
TALK_CSS = """<style>
.roofline-talk .roofline-readout-text{font-size:22px;line-height:1.4}
.roofline-talk .roofline-controls .widget-label,.roofline-talk .roofline-controls .widget-readout,
.roofline-talk .roofline-controls select,.roofline-talk .roofline-controls button,
.roofline-talk .roofline-controls .widget-label-basic{font-size:20px !important}
.roofline-talk .roofline-controls .widget-inline-hbox{height:40px;width:560px !important}
.roofline-talk .roofline-controls .widget-label{width:190px !important;max-width:190px !important}
.roofline-talk .roofline-controls .widget-dropdown>select{height:36px}
.roofline-talk .roofline-controls .widget-toggle-buttons .widget-toggle-button{width:140px !important;height:36px}
.roofline-lecture .roofline-preset,.roofline-lecture .roofline-talk-toggle{font-size:18px;height:40px}
.roofline-lecture .roofline-preset-group,
.roofline-lecture .roofline-preset-group .widget-html-content{font-size:18px;line-height:40px;height:40px}
.roofline-talk canvas,.roofline-talk img.roofline-figure{max-width:100% !important;height:auto !important}
</style>"""


def lecture_app(explorer: RooflineExplorer | None = None, *, talk: bool = True) -> Any:
    """The lecturer's page: preset buttons over the explorer, talk style on by default."""
    explorer = RooflineExplorer() if explorer is None else explorer
    if not isinstance(explorer, RooflineExplorer):
        raise TypeError(f"explorer must be a RooflineExplorer or None, got {type(explorer).__name__}")
    box = explorer.widget()
    explorer.talk = talk
    app = w.VBox([w.HTML(TALK_CSS), preset_buttons(explorer), box])
    app.add_class("roofline-lecture")
    return app


__all__ = ["TALK_CSS", "apply_preset", "lecture_app", "preset_buttons"]

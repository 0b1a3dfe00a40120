"""The roofline explorer: controls -> explorer state -> view -> moved artists -> one redraw.

    %matplotlib widget
    from roofline_lab.widgets import RooflineExplorer
    ex = RooflineExplorer(batch=64)
    ex                                  # controls, the three-panel figure, a readout line
    ex.set(gpu="h100-sxm", batch=512)   # several controls, one redraw
    print(ex.readout, ex.point)

A thin shell around three parts: `roofline_lab.explorer` (the state and what it shows,
pure numpy: every number comes from `step_model`), `roofline_lab.figure` (the figure and
the Blitter that redraws it) and ipywidgets controls. Lecturer mode (presets, talk style,
the lecture page) is `roofline_lab.lecture`; its names are re-exported here.

Names typed in code that do not exist (a GPU 'h10', a dtype 'fp12') raise with
suggestions; numbers out of range are clamped or snapped to a slider stop, and the
readout says so. Works with ipympl (`%matplotlib widget`), inline and Agg.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np

from roofline_lab.dtypes import DTYPE_BYTES
from roofline_lab.explorer import (
    BANDWIDTH_RANGE,
    BATCH_OPTIONS,
    BATCH_SWEEP,
    CONTEXT_OPTIONS,
    CONTROL_NAMES,
    DEFAULTS,
    DEPRECATED_NAMES,
    FRACTION_RANGE,
    PHASES,
    PROMPT_OPTIONS,
    SEED_DECODE_BATCHES,
    SEED_PREFILL_TOKENS,
    ExplorerState,
    ExplorerView,
    canonical_names,
    check_control,
    explorer_view,
    updated_state,
)
from roofline_lab.figure import LAYERS, SIZE_INCHES, TALK_SIZE_INCHES, Blitter, ExplorerFigure
from roofline_lab.frames import png_rgba, send_cheap_frames
from roofline_lab.hardware import get_gpu, gpu_names
from roofline_lab.models import get_model, model_names
from roofline_lab.parallel import tp_choices
from roofline_lab.units import tokens_label

#: Screen resolution of the live figure (pixels per inch): fewer pixels to draw, encode and send.
SCREEN_DPI = 90
_DESCRIPTIONS = {"batch": "batch", "weight_dtype": "weight dtype", "compute_dtype": "compute dtype", "gpu": "GPU",
                 "model": "model", "context_len": "context (tokens)", "kv": "KV-cache term (context)",
                 "bandwidth_fraction": "bandwidth used", "flops_fraction": "FLOP/s used", "phase": "phase",
                 "prompt_len": "prompt (tokens)", "tp": "GPUs"}


def _stops(options: Sequence[int]) -> list[tuple[str, int]]:
    return [(tokens_label(o) if o >= 1024 else f"{o:,}", o) for o in options]


def tp_options(state: ExplorerState) -> list[tuple[str, int]]:
    """The "GPUs" dropdown's options for the state's model and chip: ('1 (no TP)', 1), ('8 (TP8)', 8), ..."""
    return [(f"{n} (TP{n})" if n > 1 else "1 (no TP)", n) for n in tp_choices(state.model, state.gpu)]


def make_controls(state: ExplorerState) -> dict[str, Any]:
    """One ipywidget per control, named as the state's fields, set to `state`."""
    layout, style = {"width": "340px"}, {"description_width": "110px"}
    kw = lambda name: dict(value=getattr(state, name), description=_DESCRIPTIONS[name])  # noqa: E731
    dtypes = list(DTYPE_BYTES)
    fraction = dict(min=FRACTION_RANGE[0], max=FRACTION_RANGE[1], step=0.05, readout_format=".0%", layout=layout,
                    style=style)
    controls: dict[str, Any] = {
        "batch": w.SelectionSlider(options=_stops(BATCH_OPTIONS), **kw("batch"), layout=layout, style=style),
        "weight_dtype": w.Dropdown(options=dtypes, **kw("weight_dtype"), layout=layout, style=style),
        "compute_dtype": w.Dropdown(options=dtypes, **kw("compute_dtype"), layout=layout, style=style),
        "gpu": w.Dropdown(options=[(get_gpu(k).name, k) for k in gpu_names()], **kw("gpu"), layout=layout,
                          style=style),
        "model": w.Dropdown(options=[(get_model(k).name, k) for k in model_names()], **kw("model"), layout=layout,
                            style=style),
        "context_len": w.SelectionSlider(options=_stops(CONTEXT_OPTIONS), **kw("context_len"), layout=layout,
                                         style=style),
        "kv": w.Checkbox(**kw("kv"), indent=False),
        "bandwidth_fraction": w.FloatSlider(**kw("bandwidth_fraction"), **fraction),
        "flops_fraction": w.FloatSlider(**kw("flops_fraction"), **fraction),
        "phase": w.ToggleButtons(options=list(PHASES), **kw("phase"), style={**style, "button_width": "90px"}),
        "prompt_len": w.SelectionSlider(options=_stops(PROMPT_OPTIONS), **kw("prompt_len"), layout=layout,
                                        style=style),
        "tp": w.Dropdown(options=tp_options(state), **kw("tp"), layout=layout, style=style),
    }
    for name, control in controls.items():
        control.add_class(f"roofline-control-{name.replace('_', '-')}")
    return controls


@contextmanager
def _quiet(fig: Any) -> Iterator[None]:
    """Artists changed inside do not mark the figure stale (pyplot would ask for an idle draw)."""
    callback, fig.stale_callback = fig.stale_callback, None
    try:
        yield
    finally:
        fig.stale_callback = callback


def sync_controls(controls: Mapping[str, Any], state: ExplorerState, names: Sequence[str]) -> None:
    """Set the named controls to the state's values (the GPUs options follow tp_choices; a batch
    between stops, a preset's, shows as an extra stop). The caller silences their events."""
    if "tp" in names:
        options = tp_options(state)
        if list(controls["tp"].options) != options:
            controls["tp"].options = options
    if "batch" in names:
        stops = _stops(sorted({*BATCH_OPTIONS, state.batch}))
        if list(controls["batch"].options) != stops:
            controls["batch"].options = stops
    for name in names:
        new = getattr(state, name)
        if controls[name].value != new:
            controls[name].value = new


def _shown_controls(show: Sequence[str] | None) -> tuple[str, ...]:
    """The constructor's `show`, checked: every control when None."""
    if show is None:
        return CONTROL_NAMES
    if isinstance(show, str) or not all(isinstance(n, str) for n in show):
        raise TypeError(f"show must be None or a tuple of control names, got {show!r}")
    unknown = [n for n in show if n not in CONTROL_NAMES and n not in DEPRECATED_NAMES]
    if unknown:
        raise ValueError(f"show names unknown controls {unknown}; controls: {', '.join(CONTROL_NAMES)}")
    return tuple(canonical_names(dict.fromkeys(show), stacklevel=4))


def _new_figure() -> Any:
    """The explorer's figure, not auto-shown (the explorer displays it in its own box), with
    ipympl's header, footer, toolbar and resize handle off."""
    with plt.ioff():
        figure = plt.figure(figsize=SIZE_INCHES, dpi=SCREEN_DPI)
    canvas = figure.canvas
    for attr in ("header_visible", "footer_visible", "resizable", "toolbar_visible"):
        if hasattr(canvas, attr):
            setattr(canvas, attr, False)
    if hasattr(canvas, "add_class"):
        canvas.add_class("roofline-figure")
    send_cheap_frames(canvas)  # ipympl: each frame deflates only the rows that changed
    return figure


def png_of_canvas(figure: Any, compress_level: int | None = 6) -> bytes:
    """The rendered canvas as PNG: Pillow at compress_level; live updates pass None for
    `roofline_lab.frames.png_rgba` (5 ms against Pillow's 9-16 ms, ~10% more bytes)."""
    if compress_level is None:
        return png_rgba(np.asarray(figure.canvas.buffer_rgba()))
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(figure.canvas.buffer_rgba())).save(buf, format="png", compress_level=compress_level)
    return buf.getvalue()


class RooflineExplorer:
    """Controls, a three-panel roofline figure and a readout line, linked.

    Every keyword is a control, named as in `roofline_lab.step_model`: gpu, model (catalog
    names or aliases), batch 1..4096, weight_dtype / compute_dtype (names from DTYPE_BYTES;
    W4A16 = weight_dtype="int4", compute_dtype="fp16"), context_len 0..1M cached tokens,
    kv (the KV-cache term), bandwidth_fraction and flops_fraction (achieved shares, 0.05..1),
    phase ("decode" or "prefill"), prompt_len 16..128K, tp (the "GPUs" control: tensor
    parallelism over one of `roofline_lab.parallel.tp_choices(model, gpu)`; a gpu or model
    change that rules the current tp out snaps it down, with a note). `set()` takes the same names. show:
    None for every control, or the names of the controls to display (the others keep their
    values). The old names dtype, context and prompt still work, with a DeprecationWarning.
    """

    def __init__(self, gpu: str = "a100-lab", model: str = "8b-lab", batch: int = 1, weight_dtype: str = "fp16",
                 compute_dtype: str = "fp16", context_len: int = 0, kv: bool = False,
                 bandwidth_fraction: float = 1.0, phase: str = "decode", prompt_len: int = 2048, *,
                 flops_fraction: float = 1.0, tp: int = 1, show: Sequence[str] | None = None,
                 **old_names: object) -> None:
        values = dict(gpu=gpu, model=model, batch=batch, weight_dtype=weight_dtype, compute_dtype=compute_dtype,
                      context_len=context_len, kv=kv, bandwidth_fraction=bandwidth_fraction,
                      flops_fraction=flops_fraction, phase=phase, prompt_len=prompt_len, tp=tp)
        values.update(canonical_names(old_names, stacklevel=3))
        self._show = _shown_controls(show)
        self._state, self._notes = updated_state(ExplorerState(), values)
        self.controls = make_controls(self._state)
        self._syncing = False
        self._box: Any = None
        self._image: Any = None
        self._html: Any = None
        self._lesson = ""
        self.figure = _new_figure()
        self._panels = ExplorerFigure(self.figure, animated=True, max_batch_shown=BATCH_OPTIONS[-1])
        self._blitter = Blitter(self._panels)
        for control in self.controls.values():
            control.observe(self._on_control, names="value")
        self._update(None)

    # ----------------------------------------------------------------- state

    def _on_control(self, change: Mapping[str, Any]) -> None:
        if self._syncing:
            return
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        tp = self._state.tp
        # a slider value is always a batch the explorer can show (a preset may add a stop)
        self._state, self._notes = updated_state(self._state, {name: change["new"]}, exact_batch=True)
        self._lesson = ""
        changed = {name}
        if name in ("gpu", "model"):  # the GPUs dropdown follows tp_choices (no redraw of its own)
            self._sync_controls(["tp"])
            changed |= {"tp"} if self._state.tp != tp else set()
        self._update(changed)

    def set(self, **values: object) -> RooflineExplorer:
        """Set several controls at once (the constructor's names); exactly one redraw.

        Numbers out of range clamp and in-between ones snap to the nearest stop (the readout
        says which); unknown GPUs, models or dtypes raise ValueError with suggestions, and an
        unknown control name TypeError."""
        return self._set(canonical_names(values))

    def _set(self, values: Mapping[str, object], *, exact_batch: bool = False) -> RooflineExplorer:
        """set() for checked names; exact_batch keeps a whole batch as it is (presets), adding it
        to the batch slider as an extra stop."""
        tp = self._state.tp
        self._state, self._notes = updated_state(self._state, values, exact_batch=exact_batch)
        self._lesson = ""
        names = set(values) | ({"tp"} if self._state.tp != tp or {"gpu", "model"} & set(values) else set())
        self._sync_controls(sorted(names))
        self._update(names)
        return self

    def _sync_controls(self, names: Sequence[str]) -> None:
        """Controls shown as the state says, without their change events (the `_syncing` guard)."""
        self._syncing = True
        try:
            sync_controls(self.controls, self._state, names)
        finally:
            self._syncing = False

    def _update(self, changed: set[str] | None) -> None:
        view = explorer_view(self._state, self._notes)
        self._view = view
        self._readout = f"{self._lesson} | {view.readout}" if self._lesson else view.readout
        if self._html is not None:  # the text first: the browser shows it while the image is encoded
            self._html.value = self._readout_html()
        with _quiet(self.figure):  # moving artists must not ask for idle redraws on the way
            lowest, panels = self._panels.update(view, changed)
        self._render(lowest, panels)

    def _render(self, lowest: str = "roof", panels: Sequence[bool] = (False, False, False), *,
                full: bool = False) -> None:
        with _quiet(self.figure):
            self._blitter.update(lowest, panels, full=full)
        self.figure.stale = False  # what we changed is drawn: no second, idle draw (ipympl asks the page for one)
        if self._image is not None:
            self._image.value = self._png_of_canvas(compress_level=None)

    @property
    def state(self) -> dict[str, Any]:
        """Current values, name -> value (the names of `controls`)."""
        return {name: getattr(self._state, name) for name in CONTROL_NAMES}

    @property
    def view(self) -> ExplorerView:
        """What the figure shows now (`roofline_lab.explorer.ExplorerView`)."""
        return self._view

    @property
    def point(self) -> tuple[float, float]:
        """The current operating point: (intensity FLOP/byte, achieved FLOP/s)."""
        return self._view.point

    @property
    def readout(self) -> str:
        """One line saying what the figure shows and why; also the figure's text alternative."""
        return self._readout

    @property
    def render_count(self) -> int:
        """Renders (full draws, panel redraws and blits) so far."""
        return self._blitter.renders

    @property
    def full_draw_count(self) -> int:
        return self._blitter.full_draws

    def close(self) -> None:
        """Close the figure (pyplot forgets it); the explorer stops drawing."""
        self._blitter.disconnect()
        plt.close(self.figure)

    # ----------------------------------------------------------------- display

    def _readout_html(self) -> str:
        return f"<div class='roofline-readout-text' style='font-family:monospace'>{html.escape(self._readout)}</div>"

    def widget(self) -> Any:
        """The ipywidgets VBox: shown controls, the figure, the readout (built on first use)."""
        if self._box is not None:
            return self._box
        canvas = self.figure.canvas
        if isinstance(canvas, w.DOMWidget):  # ipympl: the live canvas itself
            figure_widget = canvas
        else:  # inline/Agg: a PNG of the rendered canvas, refreshed after every render
            self._image = w.Image(value=self._png_of_canvas(), format="png")
            self._image.add_class("roofline-figure")
            figure_widget = self._image
        self._html = w.HTML(value=self._readout_html())
        self._html.add_class("roofline-readout")
        shown = [self.controls[n] for n in CONTROL_NAMES if n in self._show]
        half = (len(shown) + 1) // 2
        controls = w.HBox([w.VBox(shown[:half]), w.VBox(shown[half:])]) if len(shown) > 3 else w.VBox(shown)
        controls.add_class("roofline-controls")
        self._box = w.VBox([controls, figure_widget, self._html])
        self._box.add_class("roofline-explorer")
        return self._box

    def _png_of_canvas(self, compress_level: int | None = 6) -> bytes:
        return png_of_canvas(self.figure, compress_level)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget, plus a PNG and the readout for viewers without widgets (GitHub)."""
        bundle = dict(self.widget()._repr_mimebundle_(**kwargs))
        bundle["image/png"] = base64.b64encode(self._png_of_canvas()).decode("ascii")
        bundle["text/plain"] = self._readout
        return bundle

    # ----------------------------------------------------------------- lecturer mode (roofline_lab.lecture)

    def apply_preset(self, name: str) -> RooflineExplorer:
        """Set every control to a lecturer preset with one redraw; the readout then starts with
        the preset's lesson. Unknown names raise ValueError listing the presets."""
        from roofline_lab.lecture import apply_preset

        return apply_preset(self, name)

    def _show_lesson(self, lesson: str) -> None:
        self._lesson = lesson
        self._readout = f"{lesson} | {self._view.readout}"
        if self._html is not None:
            self._html.value = self._readout_html()

    @property
    def talk(self) -> bool:
        """Projector style: larger fonts, thicker lines, a figure as wide as the page (one full redraw)."""
        from roofline_lab.slides import is_talk_style

        return is_talk_style(self.figure)

    @talk.setter
    def talk(self, on: bool) -> None:
        from roofline_lab.slides import set_talk_style

        set_talk_style(self.figure, on)
        self.figure.set_size_inches(*(TALK_SIZE_INCHES if on else SIZE_INCHES), forward=True)
        if self._box is not None:
            (self._box.add_class if on else self._box.remove_class)("roofline-talk")
        self._panels.relayout()
        self._panels.update(self._view, None)
        self._render(full=True)

    def save(self, path: Any) -> Any:
        """Write the figure as it stands, legend and current point included, with the readout
        under it, to `path`: .svg or .png by suffix (talk style too, when on). Returns the Path."""
        from roofline_lab.slides import save_figure

        out = save_figure(self.figure, path, caption=self._readout)
        self._render(full=True)  # saving a PNG draws into the canvas's buffer: put the live picture back
        return out


def __getattr__(name: str) -> Any:
    """Lecturer mode's names, from roofline_lab.lecture (loaded on first use)."""
    if name in ("lecture_app", "preset_buttons"):
        from roofline_lab import lecture

        return getattr(lecture, name)
    raise AttributeError(f"module 'roofline_lab.widgets' has no attribute {name!r}")


__all__ = [
    "BANDWIDTH_RANGE",
    "BATCH_OPTIONS",
    "BATCH_SWEEP",
    "CONTEXT_OPTIONS",
    "CONTROL_NAMES",
    "DEFAULTS",
    "LAYERS",
    "PROMPT_OPTIONS",
    "SEED_DECODE_BATCHES",
    "SEED_PREFILL_TOKENS",
    "ExplorerState",
    "RooflineExplorer",
    "check_control",
    "explorer_view",
    "lecture_app",  # noqa: F822 (module __getattr__, from roofline_lab.lecture)
    "make_controls",
    "preset_buttons",  # noqa: F822
    "tp_options",
]

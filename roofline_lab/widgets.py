"""The roofline explorer: controls -> step model -> moved artists -> one redraw.

    %matplotlib widget
    from roofline_lab.widgets import RooflineExplorer
    ex = RooflineExplorer(batch=64)
    ex                                  # controls, the three-panel figure, a readout line
    ex.set(gpu="h100-sxm", batch=512)   # several controls, one redraw
    print(ex.readout)

Every number comes from `roofline_lab.step_model` (decode_step, prefill_step, max_batch)
and the catalogs, always with the reference physics (LAB_IMPL=starter does not change
the pictures). The figure is built once: a control change moves artists and blits them
over a cached background; only a change of axis limits or labels redraws the whole
figure. Works with ipympl (`%matplotlib widget`), inline and Agg.

Out-of-range values never raise: they are clamped or snapped to the nearest slider value,
or refused, and the readout says so.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from roofline_lab._format import intensity_text as _intensity
from roofline_lab._format import readout_number as _fmt
from roofline_lab.dtypes import DTYPE_BYTES, canonical_dtype
from roofline_lab.hardware import get_gpu, gpu_names
from roofline_lab.models import get_model, model_names
from roofline_lab.plot import ExplorerFigure, ExplorerView
from roofline_lab.step_model import StepEstimate, attainable_flops, decode_step, max_batch, prefill_step

#: Batch slider stops: about 1.5x apart, 1 to 4096, with the seed's 1, 8, 64, 156, 512 exactly.
BATCH_OPTIONS: tuple[int, ...] = (
    1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 156, 192, 256, 384, 512,
    768, 1024, 1536, 2048, 3072, 4096,
)
#: Context stops (cached tokens per sequence): 0, then powers of two from 128 to 1M.
CONTEXT_OPTIONS: tuple[int, ...] = (0, *(2**k for k in range(7, 21)))
#: Prompt stops (tokens per prompt, prefill): powers of two from 16 to 128K.
PROMPT_OPTIONS: tuple[int, ...] = tuple(2**k for k in range(4, 18))
#: The seed's points.
SEED_DECODE_BATCHES: tuple[int, ...] = (1, 8, 64, 156, 512)
SEED_PREFILL_TOKENS: tuple[int, ...] = (128, 2048)
#: The batch sweep behind panels (b) and (c).
BATCH_SWEEP = np.unique(np.round(np.geomspace(1, BATCH_OPTIONS[-1], 97))).astype(float)
PHASES = ("decode", "prefill")
BANDWIDTH_RANGE = (0.05, 1.0)
#: Blit layers of ExplorerFigure, bottom to top.
LAYERS = ("roof", "data", "fast")
CONTROL_NAMES = (
    "batch", "dtype", "compute_dtype", "gpu", "model", "context", "kv", "bandwidth_fraction", "phase", "prompt",
)


def _tokens_label(n: int) -> str:
    """128 -> '128', 4096 -> '4K', 1048576 -> '1M' (binary K/M, as context lengths are quoted)."""
    if n >= 2**20 and n % 2**20 == 0:
        return f"{n // 2**20}M"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024}K"
    return f"{n:,}"


def _percent(share: float) -> str:
    p = 100 * share
    return f"{p:.0f}" if p >= 10 else f"{p:.1f}" if p >= 1 else f"{p:.2g}"


@dataclass(frozen=True)
class ExplorerState:
    """The explorer's inputs, already checked and snapped to what the controls offer."""

    batch: int = 1
    dtype: str = "fp16"  # weight dtype
    compute_dtype: str = "fp16"
    gpu: str = "a100-lab"
    model: str = "8b-lab"
    context: int = 0
    kv: bool = False
    bandwidth_fraction: float = 1.0
    phase: str = "decode"
    prompt: int = 2048


def _nearest(value: float, options: Sequence[int]) -> int:
    """The option nearest to value on a log scale (0 only for values below half the first stop)."""
    positive = [o for o in options if o > 0]
    if 0 in options and value < positive[0] / 2:
        return 0
    value = max(value, 1e-9)
    return min(positive, key=lambda o: abs(math.log(o) - math.log(value)))


def normalize(name: str, value: object, options: Sequence[int] | None = None) -> tuple[object, str | None]:
    """Check one control value. Returns (value to use, note for the readout or None).

    Raises ValueError/TypeError only for values that cannot be used at all; the caller
    turns those into a readout message and keeps the old value.
    """
    if name in ("batch", "context", "prompt"):
        stops = options or {"batch": BATCH_OPTIONS, "context": CONTEXT_OPTIONS, "prompt": PROMPT_OPTIONS}[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value!r}")
        snapped = _nearest(float(value), stops)
        note = None
        if value > max(stops) or value < min(stops):
            note = f"{name} {value:,} is outside {min(stops):,}..{max(stops):,}: clamped to {snapped:,}"
        elif snapped != value:
            note = f"{name} {value:,} shown as {snapped:,}, the nearest slider stop"
        return snapped, note
    if name in ("dtype", "compute_dtype"):
        return canonical_dtype(value), None  # type: ignore[arg-type]
    if name == "gpu":
        return get_gpu(value).key, None  # type: ignore[arg-type]
    if name == "model":
        return get_model(value).key, None  # type: ignore[arg-type]
    if name == "kv":
        if not isinstance(value, (bool, np.bool_, int)):
            raise TypeError(f"kv must be True or False, got {value!r}")
        return bool(value), None
    if name == "bandwidth_fraction":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"bandwidth_fraction must be a number in (0, 1], got {value!r}")
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"bandwidth_fraction must be finite, got {value!r}")
        lo, hi = BANDWIDTH_RANGE
        clamped = round(min(max(x, lo), hi), 2)
        note = None if lo <= x <= hi else f"bandwidth_fraction {x:g} clamped to {clamped:g}"
        return clamped, note
    if name == "phase":
        if value not in PHASES:
            raise ValueError(f"phase must be 'decode' or 'prefill', got {value!r}")
        return value, None
    raise TypeError(f"unknown control {name!r}; controls: {', '.join(CONTROL_NAMES)}")


# --------------------------------------------------------------------------- the numbers


def _step(state: ExplorerState, batch: Any, *, prompt: Any = None, compute: str) -> StepEstimate:
    """The step the explorer shows: decode of `batch` sequences, or prefill of batch x prompt.

    With the KV term off this is the seed's weights-only model: a step is `tokens` tokens
    sharing one weight read (decode_step at context 0), prefill included.
    """
    opts = dict(weight_dtype=state.dtype, compute_dtype=compute, bandwidth_fraction=state.bandwidth_fraction)
    prompt = state.prompt if prompt is None else prompt
    if state.phase == "decode":
        return decode_step(state.model, state.gpu, batch, state.context if state.kv else 0, **opts)
    if state.kv:
        return prefill_step(state.model, state.gpu, prompt, batch, **opts)
    return decode_step(state.model, state.gpu, np.asarray(batch) * np.asarray(prompt), 0, **opts)


def _seed_points(state: ExplorerState, compute: str) -> tuple[StepEstimate, StepEstimate]:
    """The seed's decode batches (at the current context) and prefill prompts (batch 1)."""
    dec = _step(replace(state, phase="decode"), np.array(SEED_DECODE_BATCHES, dtype=float), compute=compute)
    pre = _step(replace(state, phase="prefill"), 1, prompt=np.array(SEED_PREFILL_TOKENS, dtype=float),
                compute=compute)
    return dec, pre


def explorer_view(state: ExplorerState, notes: Sequence[str] = ()) -> ExplorerView:
    """Everything the figure and readout show for one state, from step_model and the catalogs."""
    g, m = get_gpu(state.gpu), get_model(state.model)
    notes = list(notes)
    compute = g.runs(state.compute_dtype)
    if compute != state.compute_dtype:
        notes.append(f"{g.name} lists no {state.compute_dtype} peak, so the math runs in {compute}")
    now = _step(state, state.batch, compute=compute)
    sweep = _step(state, BATCH_SWEEP, compute=compute)
    dec, pre = _seed_points(state, compute)
    dec_x, pre_x = np.atleast_1d(dec.intensity), np.atleast_1d(pre.intensity)

    weight_bytes = m.weight_bytes(state.dtype)
    if weight_bytes > g.memory_bytes:
        wall: int | None = 0
        notes.append(f"{m.name} weights in {state.dtype} ({weight_bytes / 1e9:,.0f} GB) exceed the "
                     f"{g.memory_label} of memory: nothing fits (numbers assume they did)")
    else:
        cached = state.prompt if state.phase == "prefill" else state.context
        wall = int(max_batch(m, g, cached, weight_dtype=state.dtype)) if state.kv and cached > 0 else None
        if wall is not None and state.batch > wall:
            notes.append(f"batch {state.batch:,} x {_tokens_label(cached)} tokens of KV does not fit in "
                         f"{g.memory_label}: at most {wall:,} sequences")

    intensity, ridge = float(now.intensity), float(now.ridge)
    bound = "compute-bound" if bool(now.compute_bound) else "memory-bound"
    dtypes = state.dtype if state.dtype == compute else f"{state.dtype} weights, {compute} math"
    where = f"batch {state.batch:,}"
    if state.phase == "prefill":
        where += f" x {_tokens_label(state.prompt)}-token prompts"
    elif state.kv:
        where += f", context {_tokens_label(state.context)}"
    if state.kv:
        where += " (KV on)"
    if state.bandwidth_fraction < 1:
        where += f", {state.bandwidth_fraction:.0%} of bandwidth"
    step_ms = 1e3 * float(now.time_s)
    readout = (
        f"{state.phase}, {where}, {dtypes}, {m.name} on {g.name}: intensity {_intensity(intensity)} FLOP/B "
        f"{'>=' if intensity >= ridge else '<'} ridge {_intensity(ridge)} -> {bound}; "
        f"{_fmt(float(now.tokens_per_s))} tok/s; {_percent(float(now.flops_utilization))} % of peak compute; "
        f"{'step' if state.phase == 'decode' else 'TTFT'} {_fmt(step_ms)} ms"
    )
    if notes:
        readout += "; note: " + "; ".join(notes)

    tps = np.asarray(sweep.tokens_per_s, dtype=float)
    return ExplorerView(
        phase=state.phase,
        peak_flops=now.peak_flops,
        mem_bandwidth=now.mem_bandwidth,
        decode_x=dec_x,
        decode_y=attainable_flops(dec_x, dec.peak_flops, dec.mem_bandwidth),
        decode_labels=tuple(f"b={b}" for b in SEED_DECODE_BATCHES),
        prefill_x=pre_x,
        prefill_y=attainable_flops(pre_x, pre.peak_flops, pre.mem_bandwidth),
        prefill_labels=tuple(f"L={_tokens_label(t)}" for t in SEED_PREFILL_TOKENS),
        current_x=intensity,
        current_y=float(attainable_flops(intensity, now.peak_flops, now.mem_bandwidth)),
        current_label=f"{state.phase} b={state.batch:,}",
        batches=BATCH_SWEEP,
        tokens_per_s=tps,
        ideal_tokens_per_s=tps[0] * BATCH_SWEEP / BATCH_SWEEP[0],
        step_ms=1e3 * np.asarray(sweep.time_s, dtype=float),
        batch=state.batch,
        batch_tokens_per_s=float(now.tokens_per_s),
        batch_step_ms=step_ms,
        wall_batch=wall,
        readout=readout,
    )


# --------------------------------------------------------------------------- the widget


def _make_controls(state: ExplorerState) -> dict[str, Any]:
    import ipywidgets as w

    def stops(options: Sequence[int]) -> list[tuple[str, int]]:
        return [(_tokens_label(o) if o >= 1024 else f"{o:,}", o) for o in options]

    layout = {"width": "340px"}
    style = {"description_width": "110px"}
    dtypes = list(DTYPE_BYTES)
    controls: dict[str, Any] = {
        "batch": w.SelectionSlider(options=stops(BATCH_OPTIONS), value=state.batch, description="batch",
                                   continuous_update=True, layout=layout, style=style),
        "dtype": w.Dropdown(options=dtypes, value=state.dtype, description="weight dtype", layout=layout,
                            style=style),
        "compute_dtype": w.Dropdown(options=dtypes, value=state.compute_dtype, description="compute dtype",
                                    layout=layout, style=style),
        "gpu": w.Dropdown(options=[(get_gpu(k).name, k) for k in gpu_names()], value=state.gpu,
                          description="GPU", layout=layout, style=style),
        "model": w.Dropdown(options=[(get_model(k).name, k) for k in model_names()], value=state.model,
                            description="model", layout=layout, style=style),
        "context": w.SelectionSlider(options=stops(CONTEXT_OPTIONS), value=state.context,
                                     description="context (tokens)", layout=layout, style=style),
        "kv": w.Checkbox(value=state.kv, description="KV-cache term (context)", indent=False),
        "bandwidth_fraction": w.FloatSlider(value=state.bandwidth_fraction, min=BANDWIDTH_RANGE[0],
                                            max=BANDWIDTH_RANGE[1], step=0.05, readout_format=".0%",
                                            description="bandwidth used", layout=layout, style=style),
        "phase": w.ToggleButtons(options=list(PHASES), value=state.phase, description="phase",
                                 style={**style, "button_width": "90px"}),
        "prompt": w.SelectionSlider(options=stops(PROMPT_OPTIONS), value=state.prompt,
                                    description="prompt (tokens)", layout=layout, style=style),
    }
    for name, control in controls.items():
        control.add_class(f"roofline-control-{name.replace('_', '-')}")
    return controls


class RooflineExplorer:
    """Controls, a three-panel roofline figure and a readout line, linked.

    gpu, model: catalog names (any alias); batch 1..4096, context 0..1M and prompt 16..128K
    snap to the sliders' stops; weight_dtype / compute_dtype: names from DTYPE_BYTES
    (W4A16 = weight_dtype="int4", compute_dtype="fp16"); kv: include the KV-cache reads of
    `context` cached tokens (decode) or the prompt's KV writes and attention (prefill);
    bandwidth_fraction: share of the datasheet bandwidth achieved, 0.05..1; phase:
    "decode" or "prefill" (batch prompts of `prompt` tokens); show: None for every control,
    or a tuple of control names to display (the others keep their values).
    """

    def __init__(
        self,
        gpu: str = "a100-lab",
        model: str = "8b-lab",
        batch: int = 1,
        weight_dtype: str = "fp16",
        compute_dtype: str = "fp16",
        context: int = 0,
        kv: bool = False,
        bandwidth_fraction: float = 1.0,
        phase: str = "decode",
        prompt: int = 2048,
        show: Sequence[str] | None = None,
    ) -> None:
        if show is not None:
            if isinstance(show, str) or not all(isinstance(n, str) for n in show):
                raise TypeError(f"show must be None or a tuple of control names, got {show!r}")
            unknown = [n for n in show if n not in CONTROL_NAMES]
            if unknown:
                raise ValueError(f"show names unknown controls {unknown}; controls: {', '.join(CONTROL_NAMES)}")
        self._show = tuple(show) if show is not None else CONTROL_NAMES
        self._notes: list[str] = []
        self._state = ExplorerState()
        self._state = self._normalized(
            dict(gpu=gpu, model=model, batch=batch, dtype=weight_dtype, compute_dtype=compute_dtype,
                 context=context, kv=kv, bandwidth_fraction=bandwidth_fraction, phase=phase, prompt=prompt)
        )
        self.controls = _make_controls(self._state)
        self._holding = False
        self.render_count = 0  # renders (full draws + blits) so far: tests count redraws with it
        self.full_draw_count = 0
        self._box: Any = None
        self._image: Any = None
        self._html: Any = None
        self._build_figure()
        for control in self.controls.values():
            control.observe(self._on_control, names="value")
        self._update()

    # ----------------------------------------------------------------- figure and drawing

    def _build_figure(self) -> None:
        import matplotlib.pyplot as plt

        with plt.ioff():  # not auto-shown: the explorer displays it inside its own box
            self.figure = plt.figure(figsize=ExplorerFigure.SIZE_INCHES, dpi=90)
        self._panels = ExplorerFigure(self.figure, animated=True, max_batch_shown=BATCH_OPTIONS[-1])
        canvas = self.figure.canvas
        self._backgrounds: dict[str, Any] = {}  # layer -> the canvas pixels under it
        self._background_size: tuple[int, int] | None = None
        self._draw_cid = canvas.mpl_connect("draw_event", self._on_draw)
        for attr, value in (("header_visible", False), ("footer_visible", False), ("resizable", False),
                            ("toolbar_visible", False)):
            if hasattr(canvas, attr):
                setattr(canvas, attr, value)
        if hasattr(canvas, "add_class"):
            canvas.add_class("roofline-figure")

    def _on_draw(self, event: Any) -> None:
        """After any full draw (ours, ipympl's, a resize): cache the background under each
        moving layer and draw the layers on top, so the canvas always shows the whole picture."""
        canvas = self.figure.canvas
        if canvas.is_saving():
            return
        self._background_size = canvas.get_width_height(physical=True)
        for layer in LAYERS:
            self._backgrounds[layer] = canvas.copy_from_bbox(self.figure.bbox)
            self._panels.draw_layer(layer)
        self.full_draw_count += 1

    def _render(self, level: str) -> None:
        """Redraw after `ExplorerFigure.update`: 'full' draws everything; otherwise restore the
        background under `level` ('roof', 'data' or 'fast'), draw that layer and those above
        it, and blit. On Agg blit() is a no-op and the buffer is already final."""
        canvas = self.figure.canvas
        stale = (not self._backgrounds or level not in (*LAYERS, "full")
                 or self._background_size != canvas.get_width_height(physical=True))
        if level == "full" or stale:
            canvas.draw()  # -> _on_draw
        else:
            canvas.restore_region(self._backgrounds[level])
            for layer in LAYERS[LAYERS.index(level):]:
                if layer != level:
                    self._backgrounds[layer] = canvas.copy_from_bbox(self.figure.bbox)
                self._panels.draw_layer(layer)
            canvas.blit(self.figure.bbox)
        self.render_count += 1
        if self._image is not None:
            self._image.value = self._png_of_canvas()

    def _png_of_canvas(self) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(np.asarray(self.figure.canvas.buffer_rgba())).save(buf, format="png")
        return buf.getvalue()

    def _update(self) -> None:
        view = explorer_view(self._state, self._notes)
        self._readout = view.readout
        level = self._panels.update(view)
        if self._html is not None:
            self._html.value = self._readout_html()
        self._render(level)

    # ----------------------------------------------------------------- state

    def _normalized(self, values: Mapping[str, object]) -> ExplorerState:
        """Check and snap values; bad ones are refused with a note and keep the old value."""
        changes: dict[str, object] = {}
        for name, value in values.items():
            if name not in CONTROL_NAMES:
                raise TypeError(f"unknown control {name!r}; controls: {', '.join(CONTROL_NAMES)}")
            try:
                clean, note = normalize(name, value)
            except (TypeError, ValueError) as exc:
                self._notes.append(f"{name} not changed: {exc}")
                continue
            if note:
                self._notes.append(note)
            changes[name] = clean
        return replace(self._state, **changes)  # type: ignore[arg-type]

    @contextmanager
    def _hold(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _on_control(self, change: Mapping[str, Any]) -> None:
        if self._holding:
            return
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        self._notes = []
        self._state = self._normalized({name: change["new"]})
        self._update()

    def set(self, **values: object) -> RooflineExplorer:
        """Set several controls at once (names as in `controls`); exactly one redraw.

        Values are checked like the sliders' own: out-of-range numbers clamp, in-between
        ones snap to the nearest stop, unknown names of GPUs/models/dtypes are refused;
        the readout says which. An unknown control name raises TypeError.
        """
        self._notes = []
        self._state = self._normalized(values)
        with self._hold():
            for name in values:
                control = self.controls[name]
                new = getattr(self._state, name)
                if control.value != new:
                    control.value = new
        self._update()
        return self

    @property
    def state(self) -> dict[str, Any]:
        """Current values, name -> value (the names of `controls`)."""
        return {name: getattr(self._state, name) for name in CONTROL_NAMES}

    @property
    def readout(self) -> str:
        """One line saying what the figure shows and why; also the figure's text alternative."""
        return self._readout

    def close(self) -> None:
        """Close the figure (pyplot forgets it); the explorer stops drawing."""
        import matplotlib.pyplot as plt

        self.figure.canvas.mpl_disconnect(self._draw_cid)
        plt.close(self.figure)

    # ----------------------------------------------------------------- display

    def _readout_html(self) -> str:
        import html

        return f"<div class='roofline-readout-text' style='font-family:monospace'>{html.escape(self._readout)}</div>"

    def widget(self) -> Any:
        """The ipywidgets VBox: shown controls, the figure, the readout (built on first use)."""
        if self._box is not None:
            return self._box
        import ipywidgets as w

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
        self._box = w.VBox([controls, figure_widget, self._html])
        self._box.add_class("roofline-explorer")
        return self._box

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget, plus a PNG and the readout for viewers without widgets (GitHub)."""
        import base64

        bundle = dict(self.widget()._repr_mimebundle_(**kwargs))
        bundle["image/png"] = base64.b64encode(self._png_of_canvas()).decode("ascii")
        bundle["text/plain"] = self._readout
        return bundle

    # ----------------------------------------------------------------- lecturer mode and export

    def apply_preset(self, name: str) -> RooflineExplorer:
        """Set every control to a lecturer preset (`roofline_lab.presets`) with one redraw;
        the readout then starts with the preset's lesson. Unknown names raise ValueError
        listing the presets."""
        from roofline_lab.presets import get_preset

        preset = get_preset(name)
        html, self._html = self._html, None  # the page's readout changes once, lesson included
        try:
            self.set(**preset.settings)
        finally:
            self._html = html
        self._readout = f"{preset.name}: {preset.lesson} | {self._readout}"
        if self._html is not None:
            self._html.value = self._readout_html()
        return self

    @property
    def talk(self) -> bool:
        """Projector style: larger fonts and thicker lines on the same artists (one full redraw)."""
        from roofline_lab.slides import is_talk_style

        return is_talk_style(self.figure)

    @talk.setter
    def talk(self, on: bool) -> None:
        from roofline_lab.slides import set_talk_style

        set_talk_style(self.figure, on)
        if self._box is not None:
            (self._box.add_class if on else self._box.remove_class)("roofline-talk")
        self._render("full")

    def save(self, path: Any) -> Any:
        """Write the figure as it stands, legend and current point included, with the readout
        under it, to `path`: .svg or .png by suffix (talk style too, when on). Returns the Path."""
        from roofline_lab.slides import save_figure

        out = save_figure(self.figure, path, caption=self._readout)
        self._render("full")  # saving a PNG draws into the canvas's buffer: put the live picture back
        return out


def preset_buttons(explorer: RooflineExplorer) -> Any:
    """A row of buttons, one per lecturer preset (its lesson as tooltip), and a talk-style toggle."""
    import ipywidgets as w

    from roofline_lab._lookup import normalize
    from roofline_lab.presets import PRESETS

    buttons = []
    for preset in PRESETS.values():
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


#: Larger readout and buttons in talk style (the figure scales itself).
_TALK_CSS = (
    "<style>.roofline-talk .roofline-readout-text{font-size:1.35em;line-height:1.35}"
    ".roofline-lecture .roofline-preset{font-size:1.1em}</style>"
)


def lecture_app(explorer: RooflineExplorer | None = None, *, talk: bool = True) -> Any:
    """The lecturer's page: preset buttons over the explorer, talk style on by default."""
    import ipywidgets as w

    explorer = RooflineExplorer() if explorer is None else explorer
    if not isinstance(explorer, RooflineExplorer):
        raise TypeError(f"explorer must be a RooflineExplorer or None, got {type(explorer).__name__}")
    box = explorer.widget()
    explorer.talk = talk
    app = w.VBox([w.HTML(_TALK_CSS), preset_buttons(explorer), box])
    app.add_class("roofline-lecture")
    return app

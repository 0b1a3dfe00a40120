"""How fast does the explorer redraw? `python3 -m roofline_lab.bench`

On Agg, where a redraw renders synchronously, time random control changes (batch, weight
dtype, GPU, model, context) from setting the widget's `.value` to the finished render, and
print the median and p95 per control. In the same run, between those changes (so both
meet the machine in the same state), time a naive `interact`-style callback that rebuilds
the same three-panel figure from scratch for each change, and print the ratio. Targets:
median <= 16 ms and p95 <= 33 ms per change (one and two 60 Hz frames), >= 20x the naive.
Then the same changes with each speed device taken away in turn (PathLabel -> Text
labels, PathLabel's glyph cache and sprites, the tinted fills, the second blit layer, the
panel cache, the stamped texts and legends), and with a third blit layer added (the
roofline apart from the data: it did not pay, so it is off), so each one shows what it pays.

Prints figures; asserts nothing (speed depends on the machine and its load, which is
printed too).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import matplotlib

BENCH_CONTROLS = ("batch", "weight_dtype", "gpu", "model", "context_len")


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def _options(control: object) -> list[object]:
    """The values a widget offers: SelectionSlider/Dropdown options as (label, value) pairs."""
    return [o[1] if isinstance(o, tuple) else o for o in control.options]  # type: ignore[attr-defined]


def time_explorer(changes: int, seed: int, *, layers: Sequence[str] | None = None,
                  panel_cache: int | None = None, stamps: bool = True,
                  between: Callable[[], None] | None = None,
                  every: int = 20) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds per change, by control, for `changes` random changes; and render counts.
    layers: the Blitter's layers (default blitter.BLIT_LAYERS, two); panel_cache: static panels kept;
    stamps: whether a redrawn panel stamps its titles, axis labels and legends from a cache;
    between: called (untimed) after every `every` changes (the naive rebuilds, so that both
    meet the same machine: a shared VM's speed drifts by tens of percent within a minute)."""
    from roofline_lab import blitter, figure
    from roofline_lab.widgets import RooflineExplorer

    rng = random.Random(seed)
    ex = RooflineExplorer(kv=True, context_len=4096)  # KV on, so the context slider moves things
    if layers is not None:
        ex._blitter.disconnect()
        ex._blitter = figure.Blitter(ex._panels, layers=layers)
        ex._render(full=True)
    saved, saved_stamps = blitter.PANEL_CACHE, blitter.STAMPS
    blitter.STAMPS = stamps
    if panel_cache is not None:
        blitter.PANEL_CACHE = panel_cache
    times: dict[str, list[float]] = {name: [] for name in BENCH_CONTROLS}
    full_before, renders_before = ex.full_draw_count, ex.render_count
    try:
        for k in range(changes):
            name = rng.choice(BENCH_CONTROLS)
            control = ex.controls[name]
            value = rng.choice([v for v in _options(control) if v != control.value])
            start = time.perf_counter()
            control.value = value  # observer -> step model -> move artists -> render (sync on Agg)
            times[name].append(1e3 * (time.perf_counter() - start))
            if between is not None and (k + 1) % every == 0:
                between()
        counts = {"renders": ex.render_count - renders_before, "full draws": ex.full_draw_count - full_before,
                  "panel draws": ex._blitter.panel_draws}
    finally:
        blitter.PANEL_CACHE, blitter.STAMPS = saved, saved_stamps
        ex.close()
    return times, counts


def naive_rebuild(rng: random.Random) -> float:
    """Milliseconds for one change made by an `interact`-style callback: new figure, draw, close."""
    import matplotlib.pyplot as plt

    from roofline_lab.explorer import BATCH_OPTIONS, ExplorerState, explorer_view
    from roofline_lab.figure import ExplorerFigure

    state = ExplorerState(batch=rng.choice(BATCH_OPTIONS), kv=True, context_len=4096)
    start = time.perf_counter()
    fig = plt.figure(dpi=90)  # the explorer's screen resolution
    ExplorerFigure(fig, animated=False).update(explorer_view(state))
    fig.canvas.draw()
    plt.close(fig)
    return 1e3 * (time.perf_counter() - start)


def _variants(changes: int, seed: int, median: float, p95: float) -> None:
    """The same changes with one speed device taken away at a time."""
    from roofline_lab import blitter, labels

    print("\nwhat each speed device pays (same changes; median / p95 ms, batch-only median):")
    print(f"  {'all on (default)':<44}{median:>8.2f}{p95:>8.2f}")
    runs = [("Text labels instead of PathLabel", dict(), (labels, "LABEL_CLASS", labels.TextLabel)),
            ("PathLabel without its glyph cache", dict(), (labels, "GLYPH_CACHE", False)),
            ("PathLabel without its sprites", dict(), (labels, "SPRITES", False)),
            ("fills drawn, not copied from a tinted panel", dict(), (blitter, "TINTS", False)),
            ("three blit layers (roof apart from the data)", dict(layers=("roof", "data", "fast")), None),
            ("one blit layer", dict(layers=("fast",)), None),
            ("no panel cache (every limit change redraws)", dict(panel_cache=0), None),
            ("no text/legend stamps in panel redraws", dict(stamps=False), None)]
    for name, kwargs, patch in runs:
        old = getattr(patch[0], patch[1]) if patch else None
        if patch:
            setattr(patch[0], patch[1], patch[2])
            labels._label_marker.cache_clear()
            labels._sprite.cache_clear()
        try:
            times, _ = time_explorer(changes, seed, **kwargs)
        finally:
            if patch:
                setattr(patch[0], patch[1], old)
                labels._label_marker.cache_clear()
                labels._sprite.cache_clear()
        every = [t for ts in times.values() for t in ts]
        print(f"  {name:<44}{statistics.median(every):>8.2f}{_percentile(every, 95):>8.2f}"
              f"{statistics.median(times['batch']):>8.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m roofline_lab.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=300, help="random control changes to time (>= 1)")
    parser.add_argument("--naive", type=int, default=15, help="naive full rebuilds to time (>= 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-variants", action="store_true", help="skip the runs without each speed device")
    args = parser.parse_args(argv)
    if args.changes < 1 or args.naive < 1:
        parser.error(f"--changes and --naive must be >= 1, got {args.changes} and {args.naive}")
    matplotlib.use("Agg", force=True)

    print(f"backend {matplotlib.get_backend()}, matplotlib {matplotlib.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    # warm-up with the very changes timed next: the font, glyph, sprite and import caches are then
    # as warm as in the variant runs below, which repeat those changes (a fair comparison)
    rng, naive = random.Random(args.seed), []
    naive_rebuild(rng)
    time_explorer(args.changes, args.seed)
    spacing = max(1, args.changes // args.naive)  # the naive rebuilds run between the timed changes
    times, counts = time_explorer(args.changes, args.seed, between=lambda: naive.append(naive_rebuild(rng)),
                                  every=spacing)
    while len(naive) < args.naive:
        naive.append(naive_rebuild(rng))
    every = [t for ts in times.values() for t in ts]
    print(f"\nexplorer: {len(every)} random control changes, .value set -> render finished (ms)")
    print(f"{'control':<10}{'n':>5}{'median':>10}{'p95':>10}")
    for name, ts in times.items():
        if ts:
            print(f"{name:<10}{len(ts):>5}{statistics.median(ts):>10.2f}{_percentile(ts, 95):>10.2f}")
    median, p95 = statistics.median(every), _percentile(every, 95)
    print(f"{'all':<10}{len(every):>5}{median:>10.2f}{p95:>10.2f}")
    print(f"renders: {counts['renders']} ({counts['full draws']} full redraws, {counts['panel draws']} single-panel "
          "redraws, the rest blits and cached panels)")

    naive_median = statistics.median(naive)
    print(f"\nnaive interact-style rebuild of the same figure: {len(naive)} runs between those changes, "
          f"median {naive_median:.1f} ms, p95 {_percentile(naive, 95):.1f} ms")
    ratio = naive_median / median
    print(f"\nspeed-up (naive median / explorer median): {ratio:.1f}x")
    print(f"targets: median <= 16 ms: {'met' if median <= 16 else 'MISSED'} ({median:.2f} ms); "
          f"p95 <= 33 ms: {'met' if p95 <= 33 else 'MISSED'} ({p95:.2f} ms); "
          f">= 20x naive: {'met' if ratio >= 20 else 'MISSED'} ({ratio:.1f}x); "
          f"load average {os.getloadavg()[0]:.2f} at end")
    if not args.no_variants:
        _variants(args.changes, args.seed, median, p95)
    return 0


if __name__ == "__main__":
    sys.exit(main())

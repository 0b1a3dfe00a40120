"""Command line: the seed's numbers as a table, and the roofline figure as a file.

    python -m roofline_lab table --gpu a100-lab
    python -m roofline_lab plot --gpu h100 --dtype fp16 --batch 1,8,64,156,512 --prefill 128,2048 --out roofline.svg

Every number comes from the library (catalogs + step_model, the reference physics).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from roofline_lab import _checks
from roofline_lab.dtypes import DTYPE_BYTES, canonical_dtype
from roofline_lab.hardware import Accelerator, get_gpu, gpu_names
from roofline_lab.models import Model, get_model, model_names
from roofline_lab.step_model import attainable_flops, critical_batch, decode_step, weights_only_intensity

SEED_DECODE_BATCHES = (1, 8, 64, 156, 512)
SEED_PREFILL_TOKENS = (128, 2048)
FIGURE_FORMATS = ("svg", "png", "pdf")
#: A PNG for slides is at least this wide (a 1080p projector's width).
PNG_MIN_WIDTH_PX = 1920


def _argtype(lookup: Callable[[str], object]) -> Callable[[str], object]:
    """Wrap a catalog look-up so argparse reports its 'did you mean' message as a usage error."""

    def parse(text: str) -> object:
        try:
            return lookup(text)
        except (ValueError, TypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = lookup.__name__
    return parse


def _counts(text: str) -> tuple[int, ...]:
    """'1,8,64' -> (1, 8, 64); every entry a whole number >= 1."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
        for v in values:
            _checks.number("count", v, integer=True)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers >= 1 (e.g. 1,8,64), got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one whole number, got {text!r}")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m roofline_lab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--gpu", type=_argtype(get_gpu), default=get_gpu("a100-lab"),
                        help=f"accelerator (default a100-lab); one of: {', '.join(gpu_names())}")
    common.add_argument("--model", type=_argtype(get_model), default=get_model("8b-lab"),
                        help=f"model preset (default 8b-lab); one of: {', '.join(model_names())}")
    common.add_argument("--dtype", type=_argtype(canonical_dtype), default=None,
                        help=f"weight and compute dtype (default: the GPU's 16-bit format); one of: "
                             f"{', '.join(DTYPE_BYTES)}")
    common.add_argument("--batch", type=_counts, default=SEED_DECODE_BATCHES,
                        help="decode batch sizes, comma-separated (default 1,8,64,156,512)")
    common.add_argument("--prefill", type=_counts, default=SEED_PREFILL_TOKENS,
                        help="prefill prompt lengths in tokens, comma-separated (default 128,2048)")
    sub.add_parser("table", parents=[common], help="print the seed's numbers for a GPU and model")
    plot = sub.add_parser("plot", parents=[common], help="write the roofline figure to a file")
    plot.add_argument("--out", type=Path, default=Path("roofline.svg"),
                      help=f"output file; the suffix picks the format: {', '.join(FIGURE_FORMATS)}")
    return parser


def _dtype_for(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    gpu: Accelerator = args.gpu
    dtype = args.dtype or gpu.default_dtype
    if dtype not in gpu.dense_flops:
        parser.error(f"argument --dtype: {gpu.name} lists no {dtype} peak; "
                     f"choose one of: {', '.join(gpu.dense_flops)}")
    return dtype


def seed_table(gpu: Accelerator, model: Model, dtype: str,
               batches: Sequence[int] = SEED_DECODE_BATCHES,
               prompts: Sequence[int] = SEED_PREFILL_TOKENS) -> str:
    """The seed's numbers for one GPU, model and dtype, as printable text."""
    one = decode_step(model, gpu, 1, weight_dtype=dtype)
    b64 = decode_step(model, gpu, 64, weight_dtype=dtype)
    critical = critical_batch(model, gpu, weight_dtype=dtype)
    lines = [
        f"{model.name} on {gpu.name}, {dtype} (weights-only model, as in the seed lab)",
        f"  peak compute        {one.peak_flops / 1e12:,.1f} TFLOP/s ({dtype}, dense)",
        f"  memory bandwidth    {one.mem_bandwidth / 1e12:,.3f} TB/s",
        f"  ridge point         {one.ridge:,.1f} FLOP/byte",
        f"  critical batch      {critical:,.1f} tokens/step (compute-bound from {math.ceil(critical):,})",
        f"  decode speed limit  {one.tokens_per_s:,.1f} tok/s per sequence (step >= {one.time_s * 1e3:.2f} ms)",
        f"  batch 64            {b64.tokens_per_s:,.0f} tok/s, {b64.flops_utilization:.0%} of peak compute",
        "",
        f"  {'workload':<16}{'tokens':>8}{'FLOP/byte':>12}  {'regime':<15}{'attainable':>16}{'of peak':>9}",
    ]
    rows = [("decode batch", b) for b in batches] + [("prefill", t) for t in prompts]
    for kind, tokens in rows:
        intensity = float(weights_only_intensity(model, tokens, dtype))
        flops = float(attainable_flops(intensity, one.peak_flops, one.mem_bandwidth))
        regime = "compute-bound" if intensity >= one.ridge else "memory-bound"
        lines.append(f"  {kind + ' ' + format(tokens, ','):<16}{tokens:>8,}{intensity:>12,.1f}  {regime:<15}"
                     f"{flops / 1e12:>9,.1f} TFLOP/s{flops / one.peak_flops:>8.1%}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    dtype = _dtype_for(args, parser)
    if args.command == "table":
        print(seed_table(args.gpu, args.model, dtype, args.batch, args.prefill))
        return 0
    if not args.out.parent.is_dir():
        parser.error(f"argument --out: folder {str(args.out.parent)!r} does not exist")
    suffix = args.out.suffix.lower().lstrip(".")
    if suffix not in FIGURE_FORMATS:
        parser.error(f"argument --out: unknown figure format {args.out.suffix!r}; use one of: "
                     f"{', '.join('.' + f for f in FIGURE_FORMATS)}")
    import matplotlib

    matplotlib.use("Agg")
    from roofline_lab.plot import roofline_figure

    fig, _ = roofline_figure(args.gpu.key, args.model.key, dtype, args.batch, args.prefill)
    # PNG: enough pixels per inch that the tight-cropped picture is PNG_MIN_WIDTH_PX wide or more
    dpi = math.ceil(PNG_MIN_WIDTH_PX / (fig.get_figwidth() * 0.9)) if suffix == "png" else "figure"
    fig.savefig(args.out, format=suffix, bbox_inches="tight", dpi=dpi)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

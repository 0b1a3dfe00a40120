"""The command line: the `roofline-lab` console script, or `python -m roofline_lab`.

    roofline-lab table --gpu h100-sxm     # the seed's numbers for a GPU and model (roofline_lab.cli)
    roofline-lab plot --out roofline.svg  # the roofline figure as SVG/PNG/PDF (roofline_lab.cli)
    roofline-lab bench                    # explorer redraw timing (roofline_lab.bench)
    roofline-lab measure --quick          # this machine's roofline (roofline_lab.measure)

Output piped into a reader that stops early (`roofline-lab table | head -3`) ends quietly.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

#: Subcommands that are whole modules with their own `main(argv)`; the rest go to roofline_lab.cli.
MODULE_COMMANDS = ("bench", "measure")
USAGE = """usage: roofline-lab {table,plot,bench,measure} ...

  table    the seed's numbers for a GPU, model and dtype
  plot     the roofline figure as SVG/PNG/PDF (--out roofline.svg)
  bench    explorer redraw timing against a naive rebuild
  measure  this machine's bandwidth, GEMM peak and mini decode (--quick, --threads N, --gpu)

`roofline-lab COMMAND --help` lists each command's options."""
#: Exit status of a process ended by SIGPIPE (128 + 13), as `yes | head` reports for `yes`.
BROKEN_PIPE_STATUS = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch `argv` (default: sys.argv[1:]) to the subcommand's module; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    if args[0] in MODULE_COMMANDS:
        return int(importlib.import_module(f"roofline_lab.{args[0]}").main(args[1:]))
    from roofline_lab.cli import main as cli_main

    return int(cli_main(args))


def console_main() -> int:
    """The console script: `main()`, with a closed stdout (`| head`) ending quietly, not in a traceback."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    return status


if __name__ == "__main__":
    sys.exit(console_main())

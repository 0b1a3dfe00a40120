"""Facts about this machine: last-level cache, CPU name, the BLAS numpy calls.

threadpoolctl (the `measure` extra) reads and pins the BLAS; tqdm draws progress bars.
Both are optional: without them `blas_info` says "unknown BLAS", the thread count is
left to the BLAS (a warning says the figures may then mix threading models), and no bar
is drawn.
"""

from __future__ import annotations

import contextlib
import os
import platform
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from roofline_lab.measure.results import Backend

_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS")
MEASURE_EXTRA = 'pip install "roofline-lab[measure]"'


def last_level_cache_bytes() -> int | None:
    """Total last-level cache of this machine in bytes, or None where it cannot be read.

    Linux: the highest cache level under /sys/devices/system/cpu, summed over its distinct
    instances (a chip with several L3 slices caches their sum).
    """
    seen: dict[str, int] = {}
    best_level = 0
    for index in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cache/index[0-9]*"):
        try:
            level = int((index / "level").read_text())
            if (index / "type").read_text().strip() == "Instruction":
                continue
            size = _parse_size((index / "size").read_text().strip())
            shared = (index / "shared_cpu_list").read_text().strip()
        except (OSError, ValueError):
            continue
        if level > best_level:
            best_level, seen = level, {}
        if level == best_level:
            seen[shared] = size
    if seen:
        return sum(seen.values())
    try:
        size = os.sysconf("SC_LEVEL3_CACHE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return size if size > 0 else None


def _parse_size(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _blas_entry() -> dict[str, Any] | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    entries = [e for e in threadpool_info() if e.get("user_api") == "blas"]
    numpy_dir = str(Path(np.__file__).parent.parent)
    entries.sort(key=lambda e: not str(e.get("filepath", "")).startswith(numpy_dir))
    return entries[0] if entries else None


def blas_info(threads: int | None = None) -> Backend:
    """The BLAS numpy uses, as threadpoolctl reports it; `threads` overrides its count."""
    entry = _blas_entry() or {}
    env = tuple((k, os.environ[k]) for k in _ENV_VARS if k in os.environ)
    return Backend(
        library=str(entry.get("internal_api", "unknown BLAS")),
        version=str(entry.get("version") or "?"),
        architecture=str(entry.get("architecture") or "?"),
        threads=int(threads if threads is not None else entry.get("num_threads", 1)),
        threading_layer=str(entry.get("threading_layer", "?")),
        env=env,
    )




def blas_limiter() -> Callable[[int], contextlib.AbstractContextManager[object]]:
    """`limit(n)`: a context that runs the BLAS on n threads (threadpoolctl), restoring after.

    Without threadpoolctl: a no-op, after one warning naming the extra that installs it.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        warnings.warn(f"threadpoolctl is not installed, so the BLAS thread count is not pinned and "
                      f"the figures may mix threading models; {MEASURE_EXTRA} adds it", stacklevel=3)
        return lambda n: contextlib.nullcontext()
    controller = ThreadpoolController()
    return lambda n: controller.limit(limits=n, user_api="blas")


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass


@contextlib.contextmanager
def progress_bar(total: int, desc: str, show: bool) -> Iterator[Any]:
    """A tqdm bar when tqdm is installed and `show`; otherwise an object whose update() does nothing."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield _NoBar()
        return
    with tqdm(total=total, desc=desc, disable=not show) as bar:
        yield bar

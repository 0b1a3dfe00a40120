"""Name lookup for the catalogs: case-insensitive, aliases, and "did you mean" errors."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from importlib import resources
from types import MappingProxyType
from typing import Generic, TypeVar

T = TypeVar("T")


def normalize(name: str) -> str:
    """'NVIDIA H100_SXM ' -> 'nvidia-h100-sxm'."""
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def resolve_key(kind: str, name: object, keys: Collection[str], aliases: Mapping[str, str]) -> str:
    """The catalog key for a name or alias in any case; otherwise raise with the closest names."""
    if isinstance(name, str) and name in keys:  # already a key: the step model asks this often
        return name
    known = ", ".join(sorted(keys))
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a name (a str), got {name!r}; known: {known}")
    key = normalize(name)
    key = aliases.get(key, key)
    if key not in keys:
        spellings = [*keys, *(a for a in aliases if a not in {normalize(k) for k in keys})]
        raise ValueError(f"unknown {kind} {name!r}{did_you_mean(key, spellings)}; known: {known}")
    return key


def did_you_mean(key: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(candidates), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


class Catalog(Generic[T]):
    """Entries of one section of a TOML data file, looked up by key, alias or display name."""

    def __init__(self, kind: str, filename: str, section: str, build: Callable[[str, dict], T]):
        text = resources.files("roofline_lab").joinpath("data", filename).read_text(encoding="utf-8")
        rows = tomllib.loads(text)[section]
        self.kind = kind
        self.items: Mapping[str, T] = MappingProxyType({k: build(k, row) for k, row in rows.items()})
        self.aliases = {normalize(a): k for k, row in rows.items() for a in row.get("aliases", ())}
        self.aliases.update({normalize(row["name"]): k for k, row in rows.items()})

    def get(self, name: object) -> T:
        return self.items[resolve_key(self.kind, name, self.items, self.aliases)]

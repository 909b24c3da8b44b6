"""Source adapters: real export formats mapped onto the landing contract (one module per source).

The registry is every module of this package that defines `SOURCE` (or `SOURCES`, when one vendor hands out
several shapes that map differently): adding an adapter is adding a module. Detection tries them in `order`
(more specific shapes first, the landing format last) and takes the first whose `looks_like` accepts the file.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from northstar.sources.base import LoadFileError, Peek, Source, SourceFile, detect_format, peek

__all__ = ["LoadFileError", "Peek", "Source", "SourceFile", "all_sources", "detect", "detect_format", "get", "peek"]

# Modules of this package that are building blocks, not sources.
_NOT_SOURCES = {"base", "sql", "export"}


@cache
def all_sources() -> tuple[Source, ...]:
    """Every registered source, in detection order."""
    found: list[Source] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_SOURCES:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "SOURCES", ()))
        if hasattr(module, "SOURCE"):
            found.append(module.SOURCE)
    names = [s.name for s in found]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"two source adapters share a name: {', '.join(sorted(dupes))}")
    return tuple(sorted(found, key=lambda s: (s.order, s.name)))


def get(name: str) -> Source:
    """The source called `name`; a clear error listing the others when there is none."""
    for s in all_sources():
        if s.name == name:
            return s
    raise KeyError(f"no source called {name!r}; known: {', '.join(s.name for s in all_sources())}")


def detect(p: Peek) -> Source | None:
    """The first source (in detection order) whose shape the file has."""
    for s in all_sources():
        try:
            if s.looks_like(p):
                return s
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            continue  # a sniffer tripping on an odd file means "not mine"
    return None

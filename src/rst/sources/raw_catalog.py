"""The raw catalogue's in-process index: listed and parsed once, reused until the catalogue changes.

Planning a run asks the catalogue thousands of times (every raw input's entry, every
bronze stage's files), so a listing is kept per process and per catalogue directory and
reused while **both** of these are unchanged:

* the directory's ``mtime_ns`` (any entry added, removed or renamed, by anyone);
* the *generation* token ``raw/_catalog/_generation``, a random value every rst writer
  replaces after it changes an entry (:func:`bump_generation`). A change within the same
  timestamp tick as the listing leaves the mtime unchanged on a coarse-clock filesystem;
  the token still moves, so no rst writer's change, in any process, is ever missed, and
  no listing has to be repeated for seconds after an import (the old "racy mtime" wait).

The token is read *before* the listing, so a change racing the listing at worst causes one
more listing. A hand edit of the catalogue is seen through the mtime alone (on kernels with
fine-grained timestamps, Linux 6.13 and later, always; on coarse ones, unless it lands within
the tick of the previous change); ``rst verify`` re-reads everything (:func:`forget`).

Parsed entries are kept by file name with the file's ``(inode, size, mtime_ns)`` and parsed
again when that stamp moves (a migration rewrites entries under the same name).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENERATION = "_generation"
"""File in the catalogue directory whose content changes with every change rst makes to it."""

Stamp = tuple[int, int, int]


@dataclass
class CatalogIndex:
    """The catalogue as listed at ``(mtime_ns, generation)``: entries sorted by path, with memoised filters."""

    mtime_ns: int
    generation: bytes
    entries: list[Any]
    by_path: dict[str, Any]
    problems: list[tuple[str, str]]
    filtered: dict[tuple[str | None, str | None, str | None], list[Any]] = field(default_factory=dict)


EMPTY = CatalogIndex(0, b"", [], {}, [])

_INDEX: dict[str, CatalogIndex] = {}
_PARSED: dict[str, dict[str, tuple[Stamp, Any]]] = {}


def read_generation(catalog_dir: Path) -> bytes:
    """The current generation token (empty when no rst writer has recorded one yet)."""
    try:
        fd = os.open(os.path.join(catalog_dir, GENERATION), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        return os.read(fd, 64)
    except OSError:
        return b""
    finally:
        os.close(fd)


def bump_generation(catalog_dir: Path, staged: Path) -> None:
    """Record a change: ``staged`` (a file holding a fresh random token) replaces the token file.

    Call after the entry change is in place; then forget this process's index (:func:`forget`).
    """
    os.replace(staged, catalog_dir / GENERATION)
    forget(catalog_dir)


def forget(catalog_dir: Path, *, parsed: bool = False) -> None:
    """Drop this process's listing of ``catalog_dir`` (and, with ``parsed``, its parsed entries too)."""
    _INDEX.pop(str(catalog_dir), None)
    if parsed:
        _PARSED.pop(str(catalog_dir), None)


def load_index(catalog_dir: Path, lake: Path, parse: Callable[[Path], Any]) -> CatalogIndex:
    """The index of ``catalog_dir`` in the lake at ``lake`` (reused while unchanged, see the module docstring).

    ``parse`` reads one
    entry file and raises ``OSError`` or ``ValueError`` when it is unusable. An entry that
    does not parse, or a second entry for the same path, is left out and listed in ``problems``.
    """
    key = str(catalog_dir)
    generation = read_generation(catalog_dir)  # before the listing: a racing change costs a relisting, never staleness
    try:
        mtime = os.stat(catalog_dir).st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return EMPTY
    cached = _INDEX.get(key)
    if cached is not None and cached.mtime_ns == mtime and cached.generation == generation:
        return cached
    parsed = _PARSED.setdefault(key, {})
    names = {n for n in os.listdir(catalog_dir) if n.endswith(".json")}
    for gone in parsed.keys() - names:
        del parsed[gone]
    problems: dict[str, str] = {}
    for name in sorted(names):
        path = catalog_dir / name
        try:
            st = os.stat(path)
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            known = parsed.get(name)
            if known is None or known[0] != stamp:  # a bad entry is parsed again at each listing: it may be repaired
                parsed[name] = (stamp, parse(path))
        except (OSError, ValueError) as exc:
            parsed.pop(name, None)
            problems[name] = f"unreadable catalogue entry: {exc}; its raw file is not used"
    by_path: dict[str, Any] = {}
    for name, (_, entry) in sorted(parsed.items()):
        if entry.path in by_path:
            problems[name] = f"a second catalogue entry for {entry.path}; neither is used"
            problems[f"{by_path[entry.path].sha256}.json"] = problems[name]
        by_path[entry.path] = entry
    for name in problems:
        known = parsed.get(name)
        if known is not None:
            by_path.pop(known[1].path, None)
    index = CatalogIndex(
        mtime,
        generation,
        sorted(by_path.values(), key=lambda e: e.path),
        by_path,
        [(f"{catalog_dir.relative_to(lake).as_posix()}/{name}", what) for name, what in sorted(problems.items())],
    )
    _INDEX[key] = index
    return index

"""Importing local DBN files: list what a folder holds, then import a selection into the raw zone.

The app's "import local files" mode uses this: :func:`scan_folder` reads only each file's
header (schema, parent, request window), :func:`import_files` copies the chosen files into
the immutable raw zone and says, per file, whether it was imported, skipped (the same bytes
are already there) or refused (and why, in one line).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rst.errors import RstError, UsageError
from rst.framework.lake import Lake

DBN_SUFFIXES = (".dbn", ".dbn.zst")


class ImportStatus(StrEnum):
    """What importing one file did."""

    IMPORTED = "imported"
    SKIPPED = "skipped"
    REFUSED = "refused"


@dataclass(frozen=True)
class LocalFile:
    """One DBN file found in a folder: what its header says, or ``problem`` when it cannot be read.

    ``start``/``end``: UTC dates of the request window (end exclusive; None when open or unreadable).
    """

    path: Path
    size: int
    dataset: str = ""
    schema: str = ""
    parent: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    problem: str = ""


@dataclass(frozen=True)
class ImportOutcome:
    """One file's import: its status and, for ``imported``/``skipped``, the raw-zone path; else the reason."""

    path: Path
    status: ImportStatus
    detail: str


def _date(ns: int | None) -> dt.date | None:
    return None if ns is None else dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).date()


def check_folder(folder: str | os.PathLike[str]) -> Path:
    """The folder as a path; ``UsageError`` naming it when it does not exist or is not a folder."""
    text = str(folder).strip()
    if not text:
        raise UsageError("folder: give the path of a folder holding .dbn or .dbn.zst files")
    path = Path(text).expanduser()
    if not path.exists():
        raise UsageError(f"folder: {path} does not exist")
    if not path.is_dir():
        raise UsageError(f"folder: {path} is not a folder")
    return path


def dbn_files_under(folder: Path) -> list[Path]:
    """Every path under ``folder`` (recursively, sorted) that carries a DBN suffix and is not a directory.

    FIFOs and sockets are included, so that an import refuses each by name instead of skipping it silently.
    """
    return [p for p in sorted(folder.rglob("*")) if p.name.endswith(DBN_SUFFIXES) and not p.is_dir()]


def scan_folder(folder: str | os.PathLike[str]) -> list[LocalFile]:
    """Every DBN file under ``folder`` (recursively, sorted), described from its header only."""
    from rst.sources.dbn_file import read_info
    from rst.sources.raw_zone import parent_symbol

    root = check_folder(folder)
    found: list[LocalFile] = []
    for path in dbn_files_under(root):
        size = path.stat().st_size if path.is_file() else 0
        try:
            info = read_info(path)
        except RstError as exc:
            found.append(LocalFile(path, size, problem=str(exc)))
            continue
        try:
            parent = parent_symbol(info.symbols)
            problem = ""
        except RstError as exc:
            parent, problem = "", str(exc)
        if info.schema is None:
            problem = problem or f"{path}: mixed-schema DBN file; import one schema per file"
        found.append(
            LocalFile(path, size, info.dataset, info.schema or "", parent, _date(info.start), _date(info.end), problem)
        )
    return found


def import_files(lake: Lake, paths: Sequence[Path], *, symbol: str | None = None) -> list[ImportOutcome]:
    """Import ``paths`` into the raw zone of ``lake``; one outcome per file, in order; never raises for a file."""
    from rst.sources.raw_zone import RawZone

    zone = RawZone(lake.root)
    before = {f.sha256 for f in zone.files()}
    out: list[ImportOutcome] = []
    with zone.batch():  # catalogue entries written together at the end: two fsyncs a file instead of four
        for path in paths:
            try:
                entry = zone.import_file(path, symbol=symbol)
            except (RstError, OSError) as exc:
                problem = str(exc).splitlines()[0] if str(exc) else repr(exc)
                out.append(ImportOutcome(path, ImportStatus.REFUSED, problem))
                continue
            if entry.sha256 in before:
                out.append(ImportOutcome(path, ImportStatus.SKIPPED, f"already in the raw zone as {entry.path}"))
            else:
                before.add(entry.sha256)
                out.append(ImportOutcome(path, ImportStatus.IMPORTED, entry.path))
    return out


def imported_parents(outcomes: Sequence[ImportOutcome], lake: Lake) -> list[str]:
    """Parents of the files an import placed (to run the pipeline for), sorted."""
    from rst.sources.raw_zone import RawZone

    zone = RawZone(lake.root)
    placed = {o.detail for o in outcomes if o.status is ImportStatus.IMPORTED}
    return sorted({f.parent for f in zone.files() if f.path in placed})

"""Re-hash the lake against its own records: partition outputs against manifests, raw files against the catalogue.

Nothing is trusted from mtimes here: every file is read and hashed. The result
lists each problem with the file it concerns; an empty list means the lake is
exactly what its manifests and catalogue say. Stray entries of the table tree
(``year=2024.bak/``, a file named like a partition) are problems too, each
reported once; every other partition is still verified.

A part whose bytes changed but not its size is found only here, so verify records
it (:mod:`rst.framework.integrity`): ``rst status`` then shows the partition
``corrupt``, readers refuse it and the next ``rst run`` rebuilds it. Records of
partitions found clean are removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rst.framework.hashing import sha256_file
from rst.framework.integrity import directory_findings, sweep_records, write_record
from rst.framework.lake import Lake, Layer
from rst.framework.listing import Stray, scan_lake
from rst.framework.manifest import SUCCESS, inspect_manifest

if TYPE_CHECKING:
    from rst.sources.raw_zone import RawZone

CHANGED = "SHA256 differs from the manifest"
"""Detail of a part whose bytes changed: only a re-hash finds it, so verify records it."""


@dataclass(frozen=True)
class Problem:
    """One mismatch: ``kind`` is ``corrupt``, ``missing``, ``unlisted``, ``incomplete``, ``stray``, ``raw-changed``, ….

    ``partition`` is the lake-relative directory of the partition concerned ("" for raw files and strays).
    """

    kind: str
    path: str
    detail: str
    partition: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.path} ({self.detail})"


def partition_dirs(lake: Lake, layers: list[Layer] | None = None) -> Iterator[Path]:
    """Every partition directory (complete or not) under the given layers; stray entries are skipped."""
    yield from scan_lake(lake, layers).partitions


def verify_partition(lake: Lake, directory: Path) -> list[Problem]:
    """Problems of one partition: invalid or unsealed manifest, files unlisted, missing, resized or changed."""
    rel = lake.relative(directory)
    manifest, why = inspect_manifest(directory)
    if manifest is None:
        kind = "corrupt" if os.path.lexists(directory / SUCCESS) else "incomplete"
        return [Problem(kind, rel, why, rel)]
    found = directory_findings(directory, manifest)
    problems = [Problem(f.kind, f"{rel}/{f.name}", f.detail, rel) for f in found]
    skip = {f.name for f in found}
    for out in manifest.outputs:
        if out.path not in skip and sha256_file(directory / out.path) != out.sha256:
            problems.append(Problem("corrupt", f"{rel}/{out.path}", CHANGED, rel))
    return problems


def verify_raw(lake: Lake) -> list[Problem]:
    """The raw zone against its catalogue, each problem once.

    ``catalogue``: an entry that does not parse (skipped everywhere else); ``missing``: a
    catalogued file that is gone; ``raw-changed``: a file whose SHA256 is not its entry's;
    ``uncatalogued``: something in the raw zone no entry lists (an entry deleted by hand, an
    interrupted retirement): no stage reads it. Staged copies left by killed imports are swept
    first (see :meth:`rst.sources.raw_zone.RawZone.sweep_staging`).
    """
    from rst.sources.raw_zone import RawZone

    zone = RawZone(lake.root)
    zone.sweep_staging()
    zone.refresh()  # re-read every entry from disk, not this process's parsed copies
    problems = _catalogue_problems(zone)
    for f in zone.files():
        path = f.abspath(lake.root)
        if not path.is_file():
            problems.append(Problem("missing", f.path, f"raw file in the catalogue is gone; `rst retire {f.path}` drops its entry"))
        elif sha256_file(path) != f.sha256:
            problems.append(Problem("raw-changed", f.path, f"SHA256 differs from the raw catalogue; `rst retire {f.path}` moves it out"))
    for rel in zone.uncatalogued():
        problems.append(Problem(
            "uncatalogued", rel,
            f"in the raw zone without a catalogue entry, so no stage reads it; `rst import` the file again to "
            f"catalogue it, or `rst retire {rel}` to move it out",
        ))  # fmt: skip
    return problems


def verify_lake(
    lake: Lake, layers: list[Layer] | None = None, *, raw: bool = True, record: bool = True
) -> list[Problem]:
    """Every problem in the lake (raw zone, run log, stray entries, then partitions).

    With ``record`` (the default), partitions whose parts have changed bytes get a verify
    record and the records of the other partitions of ``layers`` are removed.
    """
    from rst.framework.commit import purge_trash

    purge_trash(lake)  # swapped-out partitions past their grace period
    chosen = layers or list(Layer)
    problems = verify_raw(lake) if raw else []
    problems.extend(run_log_issues(lake))
    listing = scan_lake(lake, chosen)
    problems.extend(stray_issues(listing.strays))
    recorded: set[Path] = set()
    for directory in listing.partitions:
        found = verify_partition(lake, directory)
        problems.extend(found)
        changed = [str(p) for p in found if p.detail == CHANGED]
        if record and changed:
            write_record(lake, directory, changed)
            recorded.add(directory)
    if record:
        sweep_records(lake, chosen, recorded)
    return problems


def run_log_issues(lake: Lake) -> list[Problem]:
    """Lines of the run log that are not readable records (kind ``run-log``, path ``<file>:<line>``)."""
    from rst.framework.runlog import run_log_problems

    return [Problem("run-log", f"{_relative(lake, p.path)}:{p.line}", p.problem) for p in run_log_problems(lake)]


def catalogue_issues(lake: Lake) -> list[Problem]:
    """Raw catalogue entries that do not parse (kind ``catalogue``); cheap, nothing is hashed."""
    from rst.sources.raw_zone import RawZone

    return _catalogue_problems(RawZone(lake.root))


def _catalogue_problems(zone: RawZone) -> list[Problem]:
    return [Problem("catalogue", path, what) for path, what in zone.problems()]


def _relative(lake: Lake, path: Path) -> str:
    try:
        return lake.relative(path)
    except ValueError:
        return str(path)


def stray_issues(strays: list[Stray]) -> list[Problem]:
    """Stray entries of the table tree as problems (kind ``stray``), with what to do about them."""
    return [Problem("stray", s.path, f"{s.detail}; never read or built: move it out of the lake") for s in strays]

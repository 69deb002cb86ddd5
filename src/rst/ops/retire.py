"""``rst retire``: take a bad raw file out of the raw zone, then say what the next run will do.

The file and its catalogue entry move into ``<lake>/_rejected/<UTC time>-<sha12>/`` (see
:meth:`rst.sources.raw_zone.RawZone.retire`), nothing is deleted. Partitions built from
the file keep their data: they become stale (their inputs changed) and the next
``rst run`` rebuilds them from the remaining raw files; a partition no remaining file can
feed is listed as *orphaned* (it keeps its data until ``rst invalidate`` removes it, since
a run with no input changes nothing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rst.errors import UsageError
from rst.framework.lake import PARENT_KEY, Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.partition import Partition, PartitionKey
from rst.framework.stage import Stage
from rst.ops.status import PartitionStatus, lake_status
from rst.sources.raw_zone import RawZone, Retired
from rst.stages.registry import stages_for


@dataclass
class Retirement:
    """What :func:`retire` did and what it leaves for the next run."""

    retired: Retired
    readers: list[Partition] = field(default_factory=list)
    """Partitions whose manifest lists the retired file as an input."""
    orphaned: list[Partition] = field(default_factory=list)
    """Readers no remaining raw file feeds: they keep their data until invalidated."""
    plan: list[PartitionStatus] = field(default_factory=list)
    """Every partition of the file's parent that is not done after the retirement."""


def raw_path(lake: Lake, given: str | os.PathLike[str]) -> str:
    """The lake-relative path of the raw file ``given`` names (absolute, cwd- or lake-relative).

    Raises
    ------
    UsageError
        ``given`` names neither a catalogued file nor something in the lake's raw zone.
    """
    zone = RawZone(lake.root)
    p = Path(given)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, lake.root / p]
    roots = {lake.root, Path(os.path.realpath(lake.root))}
    for candidate in candidates:
        normal = Path(os.path.normpath(candidate.absolute()))
        for spelled in (normal, Path(os.path.realpath(normal.parent)) / normal.name):
            for root in roots:
                if not spelled.is_relative_to(root):
                    continue
                rel = spelled.relative_to(root).as_posix()
                if rel.startswith("raw/") and (zone.entry(rel) is not None or os.path.lexists(root / rel)):
                    return rel
    raise UsageError(f"RAWFILE: {given} is not a raw file of the lake {lake.root} (expected raw/source=…/<file>)")


def retire(lake: Lake, given: str | os.PathLike[str], reason: str = "") -> Retirement:
    """Retire the raw file ``given`` names and replan its parent (see the module docstring)."""
    zone = RawZone(lake.root)
    rel = raw_path(lake, given)
    entry = zone.entry(rel)
    parent = entry.parent if entry is not None else _parent_from_path(rel)
    # found before the move: a stage whose only raw files were this one's no longer exists after it
    readers = _readers(lake, parent, rel) if parent else []
    result = Retirement(zone.retire(rel, reason))
    result.readers = [stage.partition(key) for stage, key in readers]
    result.orphaned = [stage.partition(key) for stage, key in readers if not stage.inputs(key)]
    if parent:
        result.plan = lake_status(lake, list(Layer), [parent]).problems()
    return result


def _readers(lake: Lake, parent: str, rel: str) -> list[tuple[Stage, PartitionKey]]:
    found: list[tuple[Stage, PartitionKey]] = []
    for stage in stages_for(lake, Layer.BRONZE, parent):
        for key in stage.existing_keys():
            manifest = read_manifest(stage.partition(key).path(lake))
            if manifest is not None and any(i.path == rel for i in manifest.inputs):
                found.append((stage, key))
    return found


def _parent_from_path(rel: str) -> str | None:
    """The parent of an uncatalogued raw file, from its ``parent=`` directory (None when elsewhere)."""
    prefix = f"{PARENT_KEY}="
    parts = [p.removeprefix(prefix) for p in rel.split("/")[:-1] if p.startswith(prefix)]
    return parts[0] if len(parts) == 1 and parts[0] else None

"""Listing the table tree without trusting it: partitions found, stray entries reported.

Anything may turn up under a layer: a backup copy ``year=2024.bak/``, a regular
file named like a partition, a directory ``dt=garbage``, a symlink. None of them
may stop a listing: each entry is either a partition directory (its name is the
canonical key of a granularity, and it is a real directory, not a symlink) or a
:class:`Stray` that ``rst status`` and ``rst verify`` report once. Strays are never
read, built or deleted by rst; removing them is left to the user.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from rst.errors import UsageError
from rst.framework.lake import PARENT_KEY, Lake, Layer
from rst.framework.manifest import SUCCESS
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.validation import validate_symbol

_TABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


@dataclass(frozen=True)
class Stray:
    """An entry of the table tree that is not what its place requires; ``path`` is lake-relative."""

    path: str
    detail: str

    def __str__(self) -> str:
        return f"stray: {self.path} ({self.detail})"


def partition_key(name: str, granularity: Granularity | None = None) -> PartitionKey | None:
    """The key a partition directory ``name`` stands for, or None (not canonical, or another granularity)."""
    try:
        key = PartitionKey.parse(name)
        canonical = PartitionKey.containing(key.granularity, key.start)
    except (ValueError, OverflowError):
        return None
    if key != canonical or (granularity is not None and key.granularity is not granularity):
        return None
    return key


def table_entries(
    table_dir: Path, granularity: Granularity | None = None
) -> tuple[list[tuple[PartitionKey, Path]], list[tuple[Path, str]]]:
    """The partition directories of one table (sorted by key) and its other entries, each with what is wrong.

    ``granularity`` (when the table's is known) also makes a directory of another granularity a stray.
    """
    partitions: list[tuple[PartitionKey, Path]] = []
    strays: list[tuple[Path, str]] = []
    for entry in _scandir(table_dir):
        path = Path(entry.path)
        key = partition_key(entry.name, granularity)
        if key is None:
            wanted = f"{granularity.value}=…" if granularity else "a partition key such as year=2024"
            strays.append((path, f"not a partition directory name ({wanted})"))
        elif entry.is_symlink():
            strays.append((path, "a symlink where a partition directory belongs"))
        elif not entry.is_dir(follow_symlinks=False):
            strays.append((path, "a file where a partition directory belongs"))
        else:
            partitions.append((key, path))
    return sorted(partitions), strays


def claimed_keys(table_dir: Path, granularity: Granularity) -> list[PartitionKey]:
    """Keys of the partitions that hold a ``_SUCCESS`` (complete, or claiming to be), sorted; strays skipped."""
    found, _ = table_entries(table_dir, granularity)
    return [key for key, path in found if os.path.lexists(path / SUCCESS)]


def is_parent_name(name: str) -> bool:
    """``parent=<SYMBOL>`` with a valid symbol written as rst writes it."""
    prefix = f"{PARENT_KEY}="
    return name.startswith(prefix) and is_symbol(name.removeprefix(prefix))


def is_symbol(symbol: str) -> bool:
    """A parent symbol exactly as rst writes it (``ES``; not ``es``, ``ES.bak`` or ``ES.FUT``)."""
    try:
        return validate_symbol(symbol, "parent") == symbol
    except UsageError:
        return False


@dataclass
class Listing:
    """Partition directories and stray entries found under some layers."""

    partitions: list[Path]
    strays: list[Stray]


def scan_lake(
    lake: Lake,
    layers: Collection[Layer] | None = None,
    symbols: Collection[str] | None = None,
    granularities: Mapping[tuple[Layer, str], Granularity] | None = None,
) -> Listing:
    """Every partition directory and stray entry of ``layers`` (all by default).

    Entries directly under a layer are always checked; parents are entered only when in
    ``symbols`` (all when None). ``granularities`` maps ``(layer, table)`` to the table's
    granularity where a stage declares it.
    """
    listing = Listing([], [])
    known = granularities or {}
    for layer in layers or list(Layer):
        for entry in _scandir(lake.layer_dir(layer)):
            if not is_parent_name(entry.name) or not entry.is_dir(follow_symlinks=False):
                listing.strays.append(Stray(lake.relative(Path(entry.path)), f"not a {PARENT_KEY}=<SYMBOL> directory"))
                continue
            if symbols is not None and entry.name.removeprefix(f"{PARENT_KEY}=") not in symbols:
                continue
            for table_entry in _scandir(Path(entry.path)):
                table = table_entry.name.removeprefix("table=")
                if (
                    not table_entry.name.startswith("table=")
                    or not _TABLE.fullmatch(table)
                    or not table_entry.is_dir(follow_symlinks=False)
                ):
                    listing.strays.append(Stray(lake.relative(Path(table_entry.path)), "not a table=<name> directory"))
                    continue
                found, strays = table_entries(Path(table_entry.path), known.get((layer, table)))
                listing.partitions.extend(path for _, path in found)
                listing.strays.extend(Stray(lake.relative(path), detail) for path, detail in strays)
    listing.strays.sort(key=lambda s: s.path)
    return listing


def _scandir(directory: Path) -> Iterator[os.DirEntry[str]]:
    """The entries of ``directory`` by name; none when it is missing or not a directory."""
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return iter(())
    return iter(entries)


def partition_at(lake: Lake, directory: Path) -> Partition | None:
    """The partition whose directory is ``directory`` (``<layer>/…/parent=S/table=T/<key>``), or None."""
    try:
        parts = Path(directory).absolute().relative_to(lake.root).parts
    except ValueError:
        return None
    for layer in Layer:
        segments = (layer.value, *layer.prefix.split("/"))
        if len(parts) != len(segments) + 3 or parts[: len(segments)] != segments:
            continue
        parent, table, name = parts[len(segments) :]
        key = partition_key(name)
        if is_parent_name(parent) and table.startswith("table=") and key is not None:
            return Partition(layer, parent.removeprefix(f"{PARENT_KEY}="), table.removeprefix("table="), key)
    return None

"""The immutable raw zone: validated DBN files, placed once, never overwritten.

Layout (relative to the lake root)::

    raw/source=databento/dataset=<DATASET>/schema=<schema>/symbol=<PARENT>/<file name>
    raw/_catalog/<sha256>.json        one entry per imported file (a RawFile document)
    _staging/                         temp files; same filesystem, never read as data

Guarantees
----------
- A file is validated completely (header + a full streaming pass) *before* it is placed;
  an invalid file raises and leaves nothing under ``raw/`` (its staged copy is removed).
- Placement never overwrites: the staged copy is hard-linked to its final name (``link``
  fails if the name exists), so a concurrent importer cannot clobber a file. Where hard
  links are unsupported it falls back to ``rename`` after an existence check, which is
  *not* exclusive against a concurrent importer of the same name.
- Same name and same SHA256: a no-op returning the existing entry. Same name, different
  content: :class:`~rst.errors.RawZoneError`.
- Placed files are read-only (0o444). The catalogue entry is written after the file
  (atomically, via rename); a crash in between leaves a file without an entry, which
  :meth:`RawZone.rescan` catalogues.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from rst.errors import DbnFormatError, RawZoneError
from rst.framework.hashing import CHUNK_BYTES, sha256_file
from rst.sources.dbn_file import DbnInfo, validate_file

__all__ = [
    "CATALOG_VERSION",
    "RawFile",
    "RawZone",
    "merge_intervals",
    "parent_symbol",
    "subtract_intervals",
]

CATALOG_VERSION = 1
SOURCE = "databento"

# root letters/digits, CME month code, 1-2 year digits: ESH1, ESH24, 6EM4, MESZ3
_CATALOG_CACHE: dict[str, dict[str, RawFile]] = {}
"""Per-process cache of parsed catalogue entries: catalogue dir -> {file name: entry}."""
_RACY_NS = 2_000_000_000
"""A directory mtime younger than this may hide a same-tick change: list again."""


@dataclass
class _CatalogIndex:
    """The sorted catalogue as of the directory's ``mtime_ns``, with memoised filters."""

    mtime_ns: int
    entries: list[RawFile]
    filtered: dict[tuple[str | None, str | None, str | None], list[RawFile]]


_CATALOG_INDEX: dict[str, _CatalogIndex] = {}
_RAW_FUTURE = re.compile(r"^([A-Z0-9]{1,6}?)([FGHJKMNQUVXZ])(\d{1,2})$")
_SYMBOL_OK = re.compile(r"^[A-Z0-9]{1,10}$")


@dataclass(frozen=True)
class RawFile:
    """One catalogued raw file (the ``raw/_catalog/<sha256>.json`` document).

    Attributes
    ----------
    path : str
        Path relative to the lake root, POSIX separators.
    size : int
        Bytes.
    sha256 : str
        Hex SHA256 of the file's bytes.
    dataset, schema, parent : str
        ``parent`` is the root symbol of the ``symbol=`` directory (e.g. ``"ES"``).
    dbn_version : int
    start_ns, end_ns : int, int | None
        The request window from the file's metadata, UTC ns, end exclusive (None: open).
    record_count : int
    symbols : tuple[str, ...]
        The metadata's requested symbols.
    imported_at : str
        ISO-8601 UTC time of import.
    """

    path: str
    size: int
    sha256: str
    dataset: str
    schema: str
    parent: str
    dbn_version: int
    start_ns: int
    end_ns: int | None
    record_count: int
    symbols: tuple[str, ...]
    imported_at: str
    catalog_version: int = CATALOG_VERSION

    def abspath(self, lake: Path) -> Path:
        """Absolute path of the file under ``lake``."""
        return Path(lake) / self.path

    def to_json(self) -> str:
        """The catalogue document."""
        doc = asdict(self)
        doc["symbols"] = list(self.symbols)
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RawFile:
        """Parse a catalogue document."""
        doc = json.loads(text)
        doc["symbols"] = tuple(doc["symbols"])
        return cls(**doc)


def _entry(rel: str, path: Path, info: DbnInfo, parent: str, count: int) -> RawFile:
    """The catalogue entry of the file at ``path``, to live at ``rel`` (hashes the file)."""
    return RawFile(
        path=rel,
        size=path.stat().st_size,
        sha256=sha256_file(path),
        dataset=info.dataset,
        schema=str(info.schema),
        parent=parent,
        dbn_version=info.version,
        start_ns=info.start,
        end_ns=info.end,
        record_count=count,
        symbols=info.symbols,
        imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def parent_symbol(symbols: Iterable[str]) -> str:
    """Derive the one parent root from a file's requested symbols.

    ``"ES.FUT"`` -> ``"ES"``; ``"ES.c.0"`` -> ``"ES"``; raw ``"ESH1"`` -> ``"ES"``;
    spread ``"ESH1-ESM1"`` -> ``"ES"``.

    Raises
    ------
    RawZoneError
        No symbol, an unrecognised symbol, or several parents.
    """
    parents = set()
    for sym in symbols:
        parents.add(_parent_of(sym))
    if not parents:
        raise RawZoneError("the file's metadata names no symbol; pass symbol= (the parent, e.g. 'ES')")
    if len(parents) > 1:
        raise RawZoneError(
            f"the file holds several parents ({', '.join(sorted(parents))}); "
            "split it or pass symbol= to file it under one parent"
        )
    return parents.pop()


def _parent_of(symbol: str) -> str:
    sym = symbol.strip().upper()
    if "." in sym:  # parent (ES.FUT, ES.OPT) or continuous (ES.c.0 / ES.v.1 / ES.n.0)
        root = sym.split(".", 1)[0]
    else:
        leg = sym.split("-", 1)[0].split(":", 1)[0]
        m = _RAW_FUTURE.match(leg)
        root = m.group(1) if m else ""
    if not _SYMBOL_OK.match(root):
        raise RawZoneError(
            f"cannot derive a parent from symbol {symbol!r}; pass symbol= (the parent, e.g. 'ES')"
        )
    return root


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of [start, end) intervals as sorted, disjoint, non-adjacent intervals."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(iv for iv in intervals if iv[1] > iv[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract_intervals(
    window: tuple[int, int], covered: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Parts of the [start, end) ``window`` not in any ``covered`` interval, sorted."""
    lo, hi = window
    out: list[tuple[int, int]] = []
    cursor = lo
    for start, end in merge_intervals(covered):
        if end <= cursor or start >= hi:
            continue
        if start > cursor:
            out.append((cursor, min(start, hi)))
        cursor = max(cursor, end)
        if cursor >= hi:
            break
    if cursor < hi:
        out.append((cursor, hi))
    return out


class RawZone:
    """The raw zone of one lake.

    Parameters
    ----------
    lake : Path
        The lake root (``raw/``, ``_staging/`` are created under it on demand).
    """

    def __init__(self, lake: Path) -> None:
        self.lake = Path(lake)
        self.raw_root = self.lake / "raw"
        self.catalog_dir = self.raw_root / "_catalog"
        self.staging_dir = self.lake / "_staging"

    # ------------------------------------------------------------------ paths

    def relpath_for(self, info: DbnInfo, parent: str, name: str) -> str:
        """Lake-relative destination of a file with this header, parent and name."""
        return (
            f"raw/source={SOURCE}/dataset={info.dataset}/schema={info.schema}/symbol={parent}/{name}"
        )

    def _new_staging_path(self, name: str) -> Path:
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        return self.staging_dir / f"raw-{uuid.uuid4().hex}-{name}"

    # ------------------------------------------------------------------ import

    def import_file(self, path: Path | str, *, symbol: str | None = None) -> RawFile:
        """Validate a DBN file and copy it into the raw zone under its own name.

        Parameters
        ----------
        path : Path | str
            The file to import (left untouched).
        symbol : str, optional
            Parent to file it under (e.g. ``"ES"``) when it cannot be derived from the
            metadata (several parents, or an instrument-id request).

        Returns
        -------
        RawFile
            The catalogue entry (the existing one when the same content is already there).

        Raises
        ------
        DbnFormatError
            The file is not a valid single-schema DBN file; nothing is placed.
        RawZoneError
            A different file already has this name, or the parent cannot be derived.
        """
        src = Path(path)
        staged = self._new_staging_path(src.name)
        try:
            with open(src, "rb") as fin, open(staged, "xb") as fout:
                shutil.copyfileobj(fin, fout, CHUNK_BYTES)
                fout.flush()
                os.fsync(fout.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return self.import_staged(staged, name=src.name, symbol=symbol, source=src)

    def import_bytes(self, data: bytes, name: str, *, symbol: str | None = None) -> RawFile:
        """Import an in-memory DBN file as ``name`` (same rules as :meth:`import_file`)."""
        staged = self._new_staging_path(name)
        try:
            with open(staged, "xb") as fout:
                fout.write(data)
                fout.flush()
                os.fsync(fout.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return self.import_staged(staged, name=name, symbol=symbol)

    def import_stream(self, stream: BinaryIO, name: str, *, symbol: str | None = None) -> RawFile:
        """Import a DBN file read from a binary stream as ``name`` (constant memory)."""
        staged = self._new_staging_path(name)
        try:
            with open(staged, "xb") as fout:
                shutil.copyfileobj(stream, fout, CHUNK_BYTES)
                fout.flush()
                os.fsync(fout.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return self.import_staged(staged, name=name, symbol=symbol)

    def import_staged(
        self,
        staged: Path | str,
        *,
        name: str,
        symbol: str | None = None,
        source: Path | None = None,
    ) -> RawFile:
        """Validate a file already written (and fsynced) under ``<lake>/_staging/`` and move it in.

        The staged file is consumed: on success it becomes the raw file (or is removed
        when the same content is already there); on any failure it is removed too.

        Parameters
        ----------
        staged : Path | str
            A complete file inside this lake's ``_staging/`` directory.
        name : str
            The file name to give it in the raw zone (e.g. ``glbx-mdp3-20240301.mbp-10.dbn.zst``).
        symbol : str, optional
            Parent override, as in :meth:`import_file`.
        source : Path, optional
            Where the bytes came from, for error messages.
        """
        staged = Path(staged)
        if staged.resolve().parent != self.staging_dir.resolve():
            # not ours to consume: leave the caller's file alone
            raise RawZoneError(f"{staged}: import_staged takes files inside {self.staging_dir}")
        try:
            if not name or "/" in name or name.startswith((".", "_")):
                raise RawZoneError(f"invalid raw file name {name!r}")
            shown = source if source is not None else staged
            try:
                info, count = validate_file(staged)
            except DbnFormatError as exc:
                raise DbnFormatError(shown, exc.problem) from exc
            parent = self._parent(symbol, info)
            entry = _entry(self.relpath_for(info, parent, name), staged, info, parent, count)
            return self._place(staged, entry, shown)
        finally:
            staged.unlink(missing_ok=True)

    def _parent(self, symbol: str | None, info: DbnInfo) -> str:
        if symbol is not None:
            sym = symbol.strip().upper()
            if not _SYMBOL_OK.match(sym):
                raise RawZoneError(f"symbol={symbol!r}: expected a parent root like 'ES'")
            return sym
        return parent_symbol(info.symbols)

    def _place(self, staged: Path, entry: RawFile, shown: Path) -> RawFile:
        dest = entry.abspath(self.lake)
        existing = self._existing(dest, entry, shown)
        if existing is not None:
            return existing
        same_content = self._entry_by_sha(entry.sha256)
        if same_content is not None and same_content.abspath(self.lake).exists():
            return same_content  # identical bytes already imported under another name
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staged, 0o444)
        try:
            os.link(staged, dest)
        except FileExistsError:
            existing = self._existing(dest, entry, shown)
            assert existing is not None
            return existing
        except OSError:  # no hard links on this filesystem: check-then-rename (not exclusive)
            if dest.exists():
                existing = self._existing(dest, entry, shown)
                assert existing is not None
                return existing
            os.rename(staged, dest)
        _fsync_dir(dest.parent)
        self._write_entry(entry)
        return entry

    def _existing(self, dest: Path, entry: RawFile, shown: Path) -> RawFile | None:
        """Entry for ``dest`` if it exists with the same content; raise if it differs."""
        if not dest.exists():
            return None
        if sha256_file(dest) != entry.sha256:
            raise RawZoneError(
                f"{shown} differs from {dest} already in the raw zone (same name, different "
                "content); raw files are immutable: rename the new file to import it"
            )
        found = self._entry_by_sha(entry.sha256)
        if found is not None and found.path == entry.path:
            return found
        self._write_entry(entry)  # file placed by hand or entry lost: catalogue it now
        return entry

    # ------------------------------------------------------------------ catalogue

    def _entry_path(self, sha256: str) -> Path:
        return self.catalog_dir / f"{sha256}.json"

    def _entry_by_sha(self, sha256: str) -> RawFile | None:
        p = self._entry_path(sha256)
        if not p.exists():
            return None
        return RawFile.from_json(p.read_text())

    def _write_entry(self, entry: RawFile) -> None:
        self.catalog_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._new_staging_path(f"{entry.sha256}.json")
        with open(tmp, "w") as f:
            f.write(entry.to_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._entry_path(entry.sha256))
        _fsync_dir(self.catalog_dir)

    def files(
        self,
        dataset: str | None = None,
        schema: str | None = None,
        symbol: str | None = None,
    ) -> list[RawFile]:
        """Catalogued files, optionally filtered, sorted by path.

        Entries are immutable (named by SHA256): each is parsed once per process, and
        the listing itself is reused while the catalogue directory's mtime is unchanged
        (and old enough that a same-tick addition cannot hide behind it).
        """
        index = self._index()
        key = (dataset, schema, symbol)
        if key not in index.filtered:
            index.filtered[key] = [
                e
                for e in index.entries
                if (dataset is None or e.dataset == dataset)
                and (schema is None or e.schema == schema)
                and (symbol is None or e.parent == symbol)
            ]
        return list(index.filtered[key])

    def _index(self) -> _CatalogIndex:
        try:
            mtime = self.catalog_dir.stat().st_mtime_ns
        except FileNotFoundError:
            return _CatalogIndex(0, [], {})
        cache_key = str(self.catalog_dir.resolve())
        cached = _CATALOG_INDEX.get(cache_key)
        if cached is not None and cached.mtime_ns == mtime and time.time_ns() - mtime > _RACY_NS:
            return cached
        parsed = _CATALOG_CACHE.setdefault(cache_key, {})
        names = {n for n in os.listdir(self.catalog_dir) if n.endswith(".json")}
        for gone in parsed.keys() - names:
            del parsed[gone]
        for name in names - parsed.keys():
            parsed[name] = RawFile.from_json((self.catalog_dir / name).read_text())
        index = _CatalogIndex(mtime, sorted(parsed.values(), key=lambda e: e.path), {})
        _CATALOG_INDEX[cache_key] = index
        return index

    def rescan(self) -> list[RawFile]:
        """Catalogue files found under ``raw/source=databento/`` that have no entry.

        Each is validated and hashed; its ``dataset=``/``schema=``/``symbol=`` directories
        must agree with its metadata. Files are made read-only.

        Returns
        -------
        list[RawFile]
            The new entries.

        Raises
        ------
        DbnFormatError, RawZoneError
            A found file is invalid or misplaced (entries made before it are kept).
        """
        known = {e.path for e in self.files()}
        added = []
        root = self.raw_root / f"source={SOURCE}"
        if not root.exists():
            return []
        for p in sorted(root.glob("dataset=*/schema=*/symbol=*/*")):
            if not p.is_file():
                continue
            rel = p.relative_to(self.lake).as_posix()
            if rel in known:
                continue
            parent = p.parent.name.removeprefix("symbol=")
            info, count = validate_file(p)
            expected = self.relpath_for(info, parent, p.name)
            if expected != rel:
                raise RawZoneError(f"{p}: misplaced; its metadata says it belongs at {self.lake / expected}")
            entry = _entry(rel, p, info, parent, count)
            os.chmod(p, 0o444)
            self._write_entry(entry)
            added.append(entry)
        return added

    # ------------------------------------------------------------------ coverage

    def coverage(self, dataset: str, schema: str, symbol: str) -> list[tuple[int, int]]:
        """Merged [start, end) UTC-ns windows covered by the catalogued files' metadata.

        Files with an open end (``end_ns`` None) cover nothing certain and are ignored.
        """
        return merge_intervals(
            (e.start_ns, e.end_ns)
            for e in self.files(dataset, schema, symbol)
            if e.end_ns is not None
        )

    def uncovered(
        self, dataset: str, schema: str, symbol: str, start_ns: int, end_ns: int
    ) -> list[tuple[int, int]]:
        """Parts of [start_ns, end_ns) not covered by any file: the windows left to download."""
        return subtract_intervals((start_ns, end_ns), self.coverage(dataset, schema, symbol))


def _fsync_dir(path: Path) -> None:
    """fsync a directory so a rename/link in it is durable (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""The immutable raw zone: validated DBN files, placed once, never overwritten.

Layout (relative to the lake root)::

    raw/source=databento/dataset=<DATASET>/schema=<schema>/symbol=<PARENT>/<file name>
    raw/_catalog/<sha256>.json        one entry per imported file (a RawFile document)
    _staging/raw-<pid>-<uuid>-<name>  an import's copy, flocked while the import lives
    _rejected/<time>-<sha12>/         retired files: retired.json, the entry, raw/<original path>

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
  :meth:`RawZone.rescan` catalogues (and ``rst verify`` reports).
- Only a regular file is imported, and at most the size it had when the import began
  (read in chunks): a FIFO, device, socket or directory is refused without blocking, and a
  file that grows or shrinks while it is copied is refused.
- Many files imported in one :meth:`RawZone.batch` (``rst import`` of a folder) share their
  directory fsyncs: all the files' directories are fsynced before any of their entries is written.
- A killed import leaves its staged copy behind; the next import (or ``rst verify``) sweeps
  the copies no live import holds (flock) that are older than :data:`STAGING_GRACE_S`.
- A catalogue entry that does not parse (not UTF-8, not JSON, a key missing or of the wrong
  type, an unsafe path, a name that is not its SHA256) is skipped and listed by
  :meth:`RawZone.problems`; every other entry is still used.
- :meth:`RawZone.retire` moves a file and its entry into ``_rejected/`` (entry first: an
  interrupted retirement leaves at worst an uncatalogued file, which no stage reads and
  ``rst verify`` reports; retiring it again completes the move).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from rst.errors import DbnFormatError, RawZoneError, UsageError
from rst.framework.hashing import CHUNK_BYTES, sha256_file
from rst.framework.lake import PARENT_KEY, Lake
from rst.framework.layout import ensure_layout
from rst.sources import raw_catalog
from rst.sources.dbn_file import DbnInfo, validate_file
from rst.validation import validate_dataset, validate_file_name, validate_parent_key, validate_schema

__all__ = [
    "CATALOG_VERSION",
    "RawFile",
    "RawFileChanged",
    "RawZone",
    "Retired",
    "merge_intervals",
    "parent_symbol",
    "subtract_intervals",
]

CATALOG_VERSION = 1
SOURCE = "databento"

STAGED_PREFIX = "raw-"
"""Names of this module's staged copies in ``_staging/`` (other writers use other prefixes)."""
STAGING_GRACE_S = 60
"""A staged copy younger than this is never swept: it may belong to an import that has not locked it yet."""
REJECTED = "rejected"
"""Lake-internal directory (``<lake>/_rejected``) that retired raw files are moved into."""

# root letters/digits, CME month code, 1-2 year digits: ESH1, ESH24, 6EM4, MESZ3
# matched whole (re.fullmatch): ``$`` would accept a trailing newline
_RAW_FUTURE = re.compile(r"([A-Z0-9]{1,6}?)([FGHJKMNQUVXZ])([0-9]{1,2})")
_SYMBOL_OK = re.compile(r"[A-Z0-9]{1,10}")


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
        ``parent`` is the root symbol of the ``parent=`` directory (e.g. ``"ES"``).
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
        return Path(os.path.join(lake, self.path))  # one parse, not a join of parsed paths: planning calls this a lot

    def to_json(self) -> str:
        """The catalogue document."""
        doc = asdict(self)
        doc["symbols"] = list(self.symbols)
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> RawFile:
        """Parse and check a catalogue document.

        Raises
        ------
        ValueError
            Not UTF-8, not JSON, not an object, a key missing or unknown, a value of the wrong
            type, or a ``path`` that is not a plain relative path under ``raw/`` (the path
            decides which file stages read and ``rst retire`` moves: it must stay in the lake).
        """
        doc = json.loads(text)  # JSONDecodeError (and UnicodeDecodeError for bytes) are ValueErrors
        if not isinstance(doc, dict):
            raise ValueError(f"a JSON {type(doc).__name__}, not an object")
        missing = sorted(k for k in _ENTRY_FIELDS if k not in doc and k != "catalog_version")
        unknown = sorted(k for k in doc if k not in _ENTRY_FIELDS)
        if missing or unknown:
            raise ValueError(f"lacks {', '.join(missing)}" if missing else f"unknown key {unknown[0]!r}")
        for key, kind in _ENTRY_FIELDS.items():
            if key in doc and not _is_kind(doc[key], kind):
                raise ValueError(f"{key} is {_shown(doc[key])}, not {kind}")
        if not _SHA256.fullmatch(doc["sha256"]):
            raise ValueError("sha256 is not 64 lowercase hex digits")
        if not _safe_raw_path(doc["path"]):
            raise ValueError(f"path {_shown(doc['path'])} is not a plain relative path under raw/")
        doc["symbols"] = tuple(doc["symbols"])
        return cls(**doc)


_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENTRY_FIELDS = {
    "path": "a string", "size": "a count", "sha256": "a string", "dataset": "a string", "schema": "a string",
    "parent": "a string", "dbn_version": "a count", "start_ns": "an integer", "end_ns": "an integer or null",
    "record_count": "a count", "symbols": "a list of strings", "imported_at": "a string", "catalog_version": "a count",
}  # fmt: skip


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "a string":
        return isinstance(value, str)
    if kind == "a list of strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "an integer or null" and value is None:
        return True
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return is_int and (kind != "a count" or value >= 0)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _safe_raw_path(path: str) -> bool:
    """A relative POSIX path below ``raw/`` (not the catalogue) with no empty, ``.`` or ``..`` part."""
    if "\0" in path or "\\" in path or path.startswith("/"):
        return False
    parts = path.split("/")
    return (
        len(parts) >= 3
        and parts[0] == "raw"
        and parts[1] != "_catalog"
        and all(part not in ("", ".", "..") for part in parts)
        and PurePosixPath(path).as_posix() == path
    )


class RawFileChanged(RawZoneError):
    """A catalogued raw file's bytes are no longer those the catalogue recorded at import."""

    def __init__(self, path: str, catalogue_sha256: str, now_sha256: str) -> None:
        self.path = path
        self.catalogue_sha256 = catalogue_sha256
        self.now_sha256 = now_sha256
        super().__init__(
            f"raw file changed since import: {path} (catalogue sha {catalogue_sha256[:12]}…, "
            f"now {now_sha256[:12]}…); retire it with `rst retire {path}`"
        )

    def __reduce__(self) -> tuple[type[RawFileChanged], tuple[str, str, str]]:
        return type(self), (self.path, self.catalogue_sha256, self.now_sha256)


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
        raise RawZoneError("the file's metadata names no symbol; pass --symbol (the parent, e.g. ES)")
    if len(parents) > 1:
        raise RawZoneError(
            f"the file holds several parents ({', '.join(sorted(parents))}); "
            "split it or pass --symbol to file it under one parent"
        )
    return parents.pop()


def _parent_of(symbol: str) -> str:
    sym = symbol.strip(" ").upper()  # control characters (NUL, newline) stay in, and are refused below
    if "." in sym:  # parent (ES.FUT, ES.OPT) or continuous (ES.c.0 / ES.v.1 / ES.n.0)
        root = sym.split(".", 1)[0]
    else:
        leg = sym.split("-", 1)[0].split(":", 1)[0]
        m = _RAW_FUTURE.fullmatch(leg)
        root = m.group(1) if m else ""
    if not sym.isprintable() or not _SYMBOL_OK.fullmatch(root):
        raise RawZoneError(
            f"cannot derive a parent from symbol {symbol!r}; pass --symbol (the parent, e.g. ES)"
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
        self._batch: _Batch | None = None

    # made on first use: planning creates a zone per raw input it checks
    @cached_property
    def raw_root(self) -> Path:
        return self.lake / "raw"

    @cached_property
    def catalog_dir(self) -> Path:
        return self.raw_root / "_catalog"

    @cached_property
    def staging_dir(self) -> Path:
        return self.lake / "_staging"

    # ------------------------------------------------------------------ paths

    def relpath_for(self, info: DbnInfo, parent: str, name: str, shown: Path | None = None) -> str:
        """Lake-relative destination of a file with this header, parent and name.

        Each name is validated whole before it becomes a path component; a bad one raises a
        one-line :class:`RawZoneError` naming ``shown`` (default: the file the header came from).
        """
        where = shown if shown is not None else info.path
        dataset = _checked(validate_dataset, info.dataset, where, "metadata dataset")
        schema = _checked(validate_schema, info.schema, where, "metadata schema")
        parent = _checked(validate_parent_key, parent, where, "parent")
        name = _checked(validate_file_name, name, where, "file name")
        return f"raw/source={SOURCE}/dataset={dataset}/schema={schema}/{PARENT_KEY}={parent}/{name}"

    @contextmanager
    def _staging_file(self, name: str) -> Iterator[tuple[Path, BinaryIO]]:
        """A new file in ``_staging/`` held under an exclusive flock until the block ends, then removed.

        The lock (released by the kernel when the process dies, SIGKILL included) is what
        tells :meth:`sweep_staging` that a live import still owns the copy; the pid in the
        name is for people.
        """
        _checked(validate_file_name, name, "raw zone import", "file name")  # the name becomes part of a path
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        path = self.staging_dir / f"{STAGED_PREFIX}{os.getpid()}-{uuid.uuid4().hex}-{name}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            with os.fdopen(fd, "w+b") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
                yield path, f
        finally:
            path.unlink(missing_ok=True)

    def sweep_staging(self) -> list[Path]:
        """Remove staged copies left by killed imports; return what was removed.

        A copy is stale when no process holds its flock and it is older than
        :data:`STAGING_GRACE_S` (which covers the instant between an import creating its copy
        and locking it). Only regular files named ``raw-*`` are touched (never a symlink,
        never another writer's file); opening one never blocks.
        """
        try:
            names = [n for n in os.listdir(self.staging_dir) if n.startswith(STAGED_PREFIX)]
        except (FileNotFoundError, NotADirectoryError):
            return []
        removed = []
        cutoff = time.time() - STAGING_GRACE_S
        for name in names:
            path = self.staging_dir / name
            try:
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode) or st.st_mtime > cutoff:
                    continue
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live import holds it
            else:
                path.unlink(missing_ok=True)  # still locked by us: no import can be using it
                removed.append(path)
            finally:
                os.close(fd)
        return removed

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
        _checked(validate_file_name, src.name, src, "file name")
        self.sweep_staging()
        with _open_regular(src) as (fin, size), self._staging_file(src.name) as (staged, fout):
            _copy_exactly(fin, fout, size, src)
            return self.import_staged(staged, name=src.name, symbol=symbol, source=src)

    def import_bytes(self, data: bytes, name: str, *, symbol: str | None = None) -> RawFile:
        """Import an in-memory DBN file as ``name`` (same rules as :meth:`import_file`)."""
        with self._staging_file(name) as (staged, fout):
            fout.write(data)
            fout.flush()
            os.fsync(fout.fileno())
            return self.import_staged(staged, name=name, symbol=symbol)

    def import_stream(self, stream: BinaryIO, name: str, *, symbol: str | None = None) -> RawFile:
        """Import a DBN file read from a binary stream as ``name`` (constant memory)."""
        with self._staging_file(name) as (staged, fout):
            shutil.copyfileobj(stream, fout, CHUNK_BYTES)
            fout.flush()
            os.fsync(fout.fileno())
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
            shown = source if source is not None else staged
            _checked(validate_file_name, name, shown, "file name")  # before the full validation pass
            try:
                info, count = validate_file(staged)
            except DbnFormatError as exc:
                raise DbnFormatError(shown, exc.problem) from exc
            try:
                parent = self._parent(symbol, info)
            except RawZoneError as exc:
                raise RawZoneError(f"{shown}: {exc}") from None
            entry = _entry(self.relpath_for(info, parent, name, shown), staged, info, parent, count)
            placed = self._place(staged, entry, shown)
            _publish(self.lake, placed)
            return placed
        finally:
            staged.unlink(missing_ok=True)

    def _parent(self, symbol: str | None, info: DbnInfo) -> str:
        if symbol is not None:
            sym = symbol.strip(" ").upper()
            if not _SYMBOL_OK.fullmatch(sym):
                raise RawZoneError(f"--symbol {symbol!r}: expected a parent root like ES")
            return sym
        return parent_symbol(info.symbols)

    def _place(self, staged: Path, entry: RawFile, shown: Path) -> RawFile:
        ensure_layout(Lake(self.lake))  # importing is what makes a folder a lake
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
        if self._batch is not None:
            self._batch.directories.add(dest.parent)  # fsynced, before any entry is written, when the batch ends
        else:
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
        """The entry named ``sha256``; None when absent or unreadable (an import then rewrites it)."""
        if self._batch is not None and sha256 in self._batch.entries:
            return self._batch.entries[sha256]
        try:
            return _parse_entry(self._entry_path(sha256))
        except (OSError, ValueError):
            return None

    def _write_entry(self, entry: RawFile) -> None:
        if self._batch is not None:
            self._batch.entries[entry.sha256] = entry
            return
        self._put_entry(entry)
        _fsync_dir(self.catalog_dir)
        self._changed()

    def _put_entry(self, entry: RawFile) -> None:
        self.catalog_dir.mkdir(parents=True, exist_ok=True)
        with self._staging_file(f"{entry.sha256}.json") as (tmp, f):
            f.write(entry.to_json().encode())
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, self._entry_path(entry.sha256))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Import many files with fewer fsyncs: same guarantees, entries written when the block ends.

        Inside the block each file is still copied, fsynced and linked into place as it is
        imported; the directories it was linked into are fsynced once each, *then* every
        entry is written (each fsynced), then the catalogue directory once: a file's entry
        is never durable before the file. A crash inside the block leaves files without
        entries, which an import of the same files (or :meth:`rescan`) catalogues. The
        entries are written when the block ends, also when it ends by an exception.
        """
        if self._batch is not None:  # nested: the outer block writes
            yield
            return
        self._batch = _Batch()
        try:
            yield
        finally:
            batch, self._batch = self._batch, None
            for directory in sorted(batch.directories):
                _fsync_dir(directory)
            for entry in batch.entries.values():
                self._put_entry(entry)
            if batch.entries:
                _fsync_dir(self.catalog_dir)
                self._changed()

    def _changed(self) -> None:
        """Record that the catalogue changed, for every process's index (:mod:`rst.sources.raw_catalog`)."""
        with self._staging_file("generation") as (tmp, f):
            f.write(uuid.uuid4().hex.encode())
            f.flush()
            raw_catalog.bump_generation(self.catalog_dir, tmp)

    def refresh(self) -> None:
        """Forget this process's listing and parsed entries (``verify`` re-reads what is on disk)."""
        raw_catalog.forget(self.catalog_dir, parsed=True)

    def entry(self, path: str) -> RawFile | None:
        """The catalogue entry of the lake-relative ``path``, None when it has none."""
        return self._index().by_path.get(path)

    def problems(self) -> list[tuple[str, str]]:
        """Catalogue entries that were skipped: (lake-relative path of the entry, what is wrong), sorted.

        ``rst verify`` reports them; ``rst status`` can show them. Stages never see a
        skipped entry, so its raw file is unused until the entry is repaired (importing the
        same file again rewrites it) or the file is retired.
        """
        return list(self._index().problems)

    def rewrite_paths(self, old: str, new: str) -> int:
        """Replace ``old`` by ``new`` in every entry's path (a layout migration); returns how many changed."""
        changed = 0
        for entry in self.files():
            if old in entry.path:
                self._write_entry(replace(entry, path=entry.path.replace(old, new)))
                changed += 1
        return changed

    def files(
        self,
        dataset: str | None = None,
        schema: str | None = None,
        symbol: str | None = None,
    ) -> list[RawFile]:
        """Catalogued files, optionally filtered, sorted by path.

        The listing and the parsed entries are reused while the catalogue is unchanged
        (:mod:`rst.sources.raw_catalog`).
        """
        index = self._index()  # entries that do not parse are left out: see problems()
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

    def _index(self) -> raw_catalog.CatalogIndex:
        return raw_catalog.load_index(self.catalog_dir, self.lake, _parse_entry)

    def uncatalogued(self) -> list[str]:
        """Lake-relative paths of what lies in the raw zone without a catalogue entry, sorted.

        Files a person dropped or kept after deleting their entry, a retirement interrupted
        between its two moves, symlinks, FIFOs: no stage reads any of them. Symlinks are
        listed, never followed.
        """
        root = self.raw_root / f"source={SOURCE}"
        known = self._index().by_path
        found = []
        for directory, dirs, names in os.walk(root):  # does not descend into symlinked directories
            here = Path(directory)
            links = [d for d in dirs if (here / d).is_symlink()]
            for name in [*names, *links]:
                rel = (here / name).relative_to(self.lake).as_posix()
                if rel not in known:
                    found.append(rel)
        return sorted(found)

    def retire(self, path: str, reason: str = "") -> Retired:
        """Move the raw file at lake-relative ``path`` and its catalogue entry into ``_rejected/``.

        Either may be missing already (an entry whose file is gone, a file whose entry was
        deleted or whose retirement was interrupted). The entry moves first: from then on no
        stage reads the file; the file follows into
        ``_rejected/<UTC time>-<sha12>/<path>``, next to ``retired.json`` (path, reason,
        time, the entry) and the entry itself. Every step is a rename within the lake.

        Raises
        ------
        RawZoneError
            ``path`` is neither catalogued nor present under ``raw/``.
        """
        if not _safe_raw_path(path):
            raise RawZoneError(f"{path}: not a raw-zone path (expected raw/source=…/<file>)")
        lake = Lake(self.lake)
        entry = self._index().by_path.get(path)
        source = lake.guard(self.lake / path)  # a symlinked directory on the way cannot move a file from outside
        present = os.path.lexists(source)
        if entry is None and not present:
            raise RawZoneError(f"{path}: no such raw file and no catalogue entry for it in {self.lake}")
        sha = entry.sha256 if entry else _sha_or_zero(source)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        dest = lake.guard(lake.internal(REJECTED) / f"{stamp}-{sha[:12]}")
        dest.mkdir(parents=True)
        record = {"path": path, "reason": reason, "retired_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "catalogue_sha256": entry.sha256 if entry else None, "entry": json.loads(entry.to_json()) if entry else None,
                  "file_present": present}  # fmt: skip
        _write_synced(dest / "retired.json", (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
        if entry is not None:
            os.rename(self._entry_path(entry.sha256), dest / f"{entry.sha256}.json")
            _fsync_dir(self.catalog_dir)
            self._changed()
        if present:
            target = lake.guard(dest / path)
            target.parent.mkdir(parents=True)
            os.rename(source, target)
            _fsync_dir(source.parent)
        _fsync_dir(dest)
        return Retired(path, entry, dest, present)

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
        for p in sorted(root.glob(f"dataset=*/schema=*/{PARENT_KEY}=*/*")):
            if not p.is_file():
                continue
            rel = p.relative_to(self.lake).as_posix()
            if rel in known:
                continue
            parent = p.parent.name.removeprefix(f"{PARENT_KEY}=")
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


@dataclass
class _Batch:
    """What :meth:`RawZone.batch` defers: directories files were linked into, entries to write."""

    directories: set[Path] = field(default_factory=set)
    entries: dict[str, RawFile] = field(default_factory=dict)


@dataclass(frozen=True)
class Retired:
    """What :meth:`RawZone.retire` did: the file's path, its entry (if any), where both went."""

    path: str
    entry: RawFile | None
    destination: Path
    moved_file: bool


def _publish(lake: Path, entry: RawFile) -> None:
    """On a lake on object storage (``lake`` is its mirror), upload the file and its entry (see
    :meth:`rst.framework.objectlake.ObjectStorage.publish_raw`); nothing for a local lake."""
    from rst.framework.storage import object_storage_at

    storage = object_storage_at(lake)
    if storage is not None:
        storage.publish_raw(entry)


def _sha_or_zero(path: Path) -> str:
    """SHA256 of a regular file, else 64 zeros (a symlink or FIFO is never opened)."""
    try:
        if stat.S_ISREG(os.lstat(path).st_mode):
            return sha256_file(path)
    except OSError:
        pass
    return "0" * 64


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _parse_entry(path: Path) -> RawFile:
    """Read and check the catalogue entry at ``path``, whose name must be ``<its sha256>.json``."""
    with open(path, "rb") as f:
        data = f.read(_MAX_ENTRY_BYTES + 1)
    if len(data) > _MAX_ENTRY_BYTES:
        raise ValueError(f"larger than {_MAX_ENTRY_BYTES} bytes")
    entry = RawFile.from_json(data.decode("utf-8"))  # strict: json.loads would guess UTF-16/32 from bytes
    if path.name != f"{entry.sha256}.json":
        raise ValueError(f"named {path.name} but records sha256 {entry.sha256[:12]}…")
    return entry


_MAX_ENTRY_BYTES = 1 << 20
"""A catalogue entry is a few hundred bytes; a bigger one is refused unread (memory stays bounded)."""


@contextmanager
def _open_regular(path: Path) -> Iterator[tuple[BinaryIO, int]]:
    """``path`` opened for reading with its size, refused unless it is a regular file.

    ``stat`` (not ``open``) decides first, so a device is never opened; the open is
    non-blocking (a FIFO swapped in meanwhile cannot hang it) and ``fstat`` checks that the
    opened file is the one that was examined.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise RawZoneError(f"{path}: cannot import: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise RawZoneError(f"{path}: not a regular file ({_file_kind(st.st_mode)}); only DBN files can be imported")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise RawZoneError(f"{path}: cannot import: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(now.st_mode):
            raise RawZoneError(f"{path}: replaced while being opened; import it again")
        yield f, now.st_size


def _copy_exactly(fin: BinaryIO, fout: BinaryIO, size: int, shown: Path) -> None:
    """Copy exactly ``size`` bytes in chunks, fsynced; refuse a source that is shorter or longer."""
    left = size
    while left:
        chunk = fin.read(min(CHUNK_BYTES, left))
        if not chunk:
            raise RawZoneError(f"{shown}: shrank while being imported ({size - left} of {size} bytes); import it again")
        fout.write(chunk)
        left -= len(chunk)
    if fin.read(1):
        raise RawZoneError(f"{shown}: grew while being imported (more than the {size} bytes it had); import it again")
    fout.flush()
    os.fsync(fout.fileno())


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _checked(validator: Callable[[str, str], str], value: object, where: Path | str, what: str) -> str:
    """``validator(value)``, its refusal re-raised as a one-line :class:`RawZoneError` naming ``where``."""
    try:
        return validator(value, what)  # type: ignore[arg-type]  # a non-str is refused by the validator
    except UsageError as exc:
        raise RawZoneError(f"{where}: {exc}") from None


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

"""What every bronze stage shares: raw-file selection, partition windows, available partitions.

A bronze table is fed by the raw-zone files of one DBN schema for one parent.
A partition reads the files whose metadata window overlaps its own UTC window,
plus the parent's definition files from the year before (to tell outrights
from spreads and to resolve raw symbols), so that a new nightly file makes only
the partitions it can change stale.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import polars as pl

from rst.errors import RstError
from rst.framework.lake import Layer
from rst.framework.lock import PartitionLock
from rst.framework.manifest import read_manifest
from rst.framework.partition import Granularity, PartitionKey, keys_between, keys_for_dates
from rst.framework.paths import make_dirs
from rst.framework.sessions import CME, Session, session_bounds_utc, trading_date_expr
from rst.framework.stage import Input, RawInput, Role, Stage, StageContext
from rst.sources.dbn_slices import Aside, slice_path
from rst.sources.raw_zone import RawFile, RawZone, merge_intervals

NS_PER_DAY = 86_400 * 10**9
SLICE_SIBLINGS = 64
"""Partitions one decoding pass sets aside at most: a file feeding more is decompressed once per
this many of them, with the cost of deciding (a manifest read per candidate) bounded too."""
DEFINITION_LOOKBACK = dt.timedelta(days=400)
"""Definition files this far before a partition are read too: contracts are listed up to ~13 months ahead."""


def _utc_ns(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * NS_PER_DAY


def _utc_date(ns: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=ns // NS_PER_DAY)


class BronzeStage(Stage):
    """Base of the bronze stages: one DBN schema of one parent into one table.

    ``date_basis`` says how a record's partition date is derived from ``ts_event``:
    ``"utc"`` (the UTC calendar date: GLBX daily bars and definitions) or
    ``"session"`` (the exchange trading date). ``time_column`` is the timestamp that
    places a record, the one Databento's request windows filter on: ``ts_recv`` where
    the schema has it, else ``ts_event``.
    """

    layer = Layer.BRONZE
    dbn_schema: ClassVar[str]
    date_basis: ClassVar[str] = "session"
    time_column: ClassVar[str] = "ts_recv"
    needs_definitions: ClassVar[bool] = True
    session: ClassVar[Session] = CME

    # ---- windows -----------------------------------------------------------------
    def window_ns(self, key: PartitionKey) -> tuple[int, int]:
        """UTC ns [start, end) that can hold records of partition ``key``."""
        if self.date_basis == "utc":
            return _utc_ns(key.start), _utc_ns(key.end)
        first, _ = session_bounds_utc(key.start, self.session)
        _, last = session_bounds_utc(key.end - dt.timedelta(days=1), self.session)
        return int(first.timestamp()) * 10**9, int(last.timestamp()) * 10**9

    def date_expr(self, ts: pl.Expr) -> pl.Expr:
        """The partition date of each record, from its UTC timestamp ``ts``."""
        return ts.dt.date() if self.date_basis == "utc" else trading_date_expr(ts, self.session)

    # ---- inputs ------------------------------------------------------------------
    def raw_files(self, schema: str | None = None) -> list[RawFile]:
        """The parent's raw files of ``schema`` (default: this stage's), oldest window first."""
        files = RawZone(self.lake.root).files(schema=schema or self.dbn_schema, symbol=self.symbol)
        return sorted(files, key=lambda f: (f.start_ns, f.path))

    def file_window(self, f: RawFile) -> tuple[int, int]:
        """UTC ns [start, end) of a raw file's records: its request window (see :func:`file_window`)."""
        return file_window(self.lake.root, f, self.time_column)

    def record_coverage(self, ctx: StageContext) -> None:
        """Record in the manifest how much of the partition's window no raw data file covers.

        ``window_uncovered_s`` (seconds of the UTC window outside every input file's request
        window): 0 for a complete partition; a partition built from a file that covers only
        part of its trading date, or a year partition of the current year, says so.
        """
        lo, hi = self.window_ns(ctx.partition.key)
        paths = set(ctx.raw_paths())
        windows = [self.file_window(f) for f in self.raw_files() if f.abspath(self.lake.root) in paths]
        covered = sum(max(0, min(end, hi) - max(start, lo)) for start, end in merge_intervals(windows))
        ctx.count("window_uncovered_s", (hi - lo - covered) // 10**9)

    def inputs(self, key: PartitionKey) -> list[Input]:
        lo, hi = self.window_ns(key)
        data = [f for f in self.raw_files() if _overlaps(self.file_window(f), lo, hi)]
        if not data:
            return []
        inputs: list[Input] = [RawInput(f.abspath(self.lake.root), Role.DATA) for f in data]
        if self.needs_definitions:
            def_lo = lo - int(DEFINITION_LOOKBACK.total_seconds()) * 10**9
            inputs += [
                RawInput(f.abspath(self.lake.root), Role.DEFINITIONS)
                for f in self.raw_files("definition")
                if _overlaps(file_window(self.lake.root, f, "ts_recv"), def_lo, hi)
            ]
        return inputs

    def keys_for_dates(self, dates: list[dt.date]) -> list[PartitionKey]:  # type: ignore[override]
        if self.granularity is Granularity.DAY and self.date_basis == "session":
            dates = [d for d in dates if d.weekday() < 5]  # no CME trading date falls on a weekend
        return keys_for_dates(self.granularity, dates)

    def available_keys(self) -> list[PartitionKey]:
        """Partitions whose window some raw file covers (by metadata start/end)."""
        keys: set[PartitionKey] = set()
        for f in self.raw_files():
            keys.update(self._window_keys(*self.file_window(f)))
        return sorted(keys)

    def _window_keys(self, start_ns: int, end_ns: int) -> list[PartitionKey]:
        """The partitions whose window can hold records of UTC ns ``[start_ns, end_ns)``."""
        first = _utc_date(start_ns)
        last = _utc_date(end_ns - 1)
        if self.date_basis == "session":
            last += dt.timedelta(days=1)  # evening UTC belongs to the next trading date
        keys = keys_between(self.granularity, first, last)
        if self.granularity is Granularity.DAY and self.date_basis == "session":
            keys = [k for k in keys if k.start.weekday() < 5]  # no CME trading date falls on a weekend
        return keys

    @property
    def slices_dir(self) -> Path:
        """Where this stage's raw-file slices live (:mod:`rst.sources.dbn_slices`)."""
        return self.lake.internal("slices") / self.dbn_schema

    def aside(self, ctx: StageContext, path: Path, *, consume: bool = True) -> Aside:
        """How the decoding of raw data file ``path`` for this partition uses slices (:mod:`rst.sources.dbn_slices`).

        When the pass reads the file, it sets aside the windows of up to :data:`SLICE_SIBLINGS` of
        the file's other partitions (the following ones first, in date order), so that building
        them later reads only their records instead of decompressing the whole file again. Except
        a partition that will not read its slice: one already built from this file (up to date,
        most likely), one another process is building (locked), one whose slice is already
        there. The first two are asked again when the pass ends, before its slices are published.
        """
        own = ctx.partition.key
        directory = self.slices_dir
        by_window: dict[tuple[int, int], PartitionKey] = {}
        f = next((r for r in self.raw_files() if r.abspath(self.lake.root) == path), None)

        def windows() -> tuple[tuple[int, int], ...]:
            if f is None:
                return ()
            keys = self._window_keys(*self.file_window(f))
            later, earlier = [k for k in keys if k > own], [k for k in keys if k < own]
            held = held_locks()
            for key in later + earlier:
                if len(by_window) == SLICE_SIBLINGS:
                    break
                window = self.window_ns(key)
                if self._built_from(key, f) or self._locked(key, held):
                    continue
                if not slice_path(directory, path, self.time_column, *window).exists():
                    by_window[window] = key
            if by_window:
                try:
                    make_dirs(self.lake, directory)  # guarded: never through a symlink planted in the lake
                except (OSError, RstError):  # nowhere to set aside: the siblings will read the file
                    by_window.clear()
            return tuple(by_window)

        def wanted(window: tuple[int, int]) -> bool:  # asked again as the pass ends: the others may have moved on
            key = by_window[window]
            return f is not None and not self._locked(key, held_locks()) and not self._built_from(key, f)

        return Aside(directory, windows, consume, wanted)

    def _built_from(self, key: PartitionKey, f: RawFile) -> bool:
        """Whether partition ``key`` exists and was built from raw file ``f``."""
        manifest = read_manifest(self.partition(key).path(self.lake))
        return manifest is not None and any(i.path == f.path and i.sha256 == f.sha256 for i in manifest.inputs)

    def _locked(self, key: PartitionKey, held: set[tuple[int, int]]) -> bool:
        """Whether partition ``key``'s lock file is in ``held`` (:func:`held_locks`): it is being built right now."""
        try:
            st = PartitionLock(self.lake, self.partition(key)).path.stat()
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in held


def held_locks() -> set[tuple[int, int]]:
    """(device, inode) of every file some process holds a ``flock`` on, from ``/proc/locks`` (empty elsewhere).

    Asks without taking any lock, so it never makes another process's ``lock_timeout=0`` fail.
    """
    held: set[tuple[int, int]] = set()
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return held
    for line in lines:
        fields = line.split()
        if "FLOCK" in fields:
            i = fields.index("FLOCK")
            if len(fields) > i + 4:
                major, minor, inode = fields[i + 4].split(":")
                held.add((os.makedev(int(major, 16), int(minor, 16)), int(inode)))
    return held


def _overlaps(window: tuple[int, int], lo: int, hi: int) -> bool:
    return window[0] < hi and window[1] > lo


def file_window(lake_root: Path, f: RawFile, time_column: str) -> tuple[int, int]:
    """UTC ns [start, end) that holds a raw file's records.

    The metadata's request window when it has an end (Databento filters requests on
    ``ts_recv``, end exclusive). A file with an open end (``end_ns`` None: hand-made
    files, some samples whose start is not even a real time) is scanned once per process
    for the min/max of ``time_column`` (streamed, bounded memory; cached by path, size
    and mtime); an empty one covers one day from its start.
    """
    if f.end_ns is not None:
        return f.start_ns, f.end_ns
    path = f.abspath(lake_root)
    try:
        st = path.stat()
    except OSError:
        return f.start_ns, f.start_ns + NS_PER_DAY
    extent = _data_extent(str(path), st.st_size, st.st_mtime_ns, time_column)
    return extent if extent is not None else (f.start_ns, f.start_ns + NS_PER_DAY)


@lru_cache(maxsize=256)
def _data_extent(path: str, size: int, mtime_ns: int, time_column: str) -> tuple[int, int] | None:
    import pyarrow.compute as pc

    from rst.sources.dbn_file import iter_batches

    lo: int | None = None
    hi: int | None = None
    for batch in iter_batches(path, prefetch=0):
        name = time_column if time_column in batch.schema.names else "ts_event"
        bounds = pc.min_max(batch.column(name).cast("int64"))
        if bounds["min"].is_valid:
            b_lo, b_hi = bounds["min"].as_py(), bounds["max"].as_py()
            lo = b_lo if lo is None else min(lo, b_lo)
            hi = b_hi if hi is None else max(hi, b_hi)
    return None if lo is None or hi is None else (lo, hi + 1)

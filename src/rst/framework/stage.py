"""The ``Stage`` base class: every table of every layer is built through :meth:`Stage.run`.

A subclass declares *what* (layer, table, granularity, contract, version,
inputs) and implements :meth:`Stage.transform`; the base class owns *how* a
partition is produced, identically for every stage:

lock → sweep stale staging → resolve inputs → up-to-date check → stage outside
the table → ``transform()`` batch by batch → contract check → Parquet parts →
manifest → ``_SUCCESS`` → fsync → atomic swap (the quarantine partition, if
any, is staged alongside and swapped just before the main one). The lock, the reads of a
partition's current version and the commit go through the lake's storage backend
(:mod:`rst.framework.storage`: a local filesystem, or object storage with leases and
pointers), so a stage cannot tell the two apart.

So every partition is idempotent (skipped while its inputs, stage version,
parameters and contract are unchanged), atomic (readers see the old or the new
partition, never a mix), contract-checked and traceable (``_MANIFEST.json``).
A quarantine partition belongs to its main partition: the up-to-date check also
requires it to match the main manifest, so a crash between the two swaps is
repaired by the next run.
Any exception escaping ``transform()`` becomes a :class:`StageError` naming
layer, table and partition, chained from the cause; the previous partition, if
any, is left untouched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, final

import pyarrow as pa

from rst.errors import InputMissing, PartitionLocked, RstError, StageError
from rst.framework.commit import fsync_tree, new_staging_dir, sweep_staging
from rst.framework.contract import Contract, load_contract
from rst.framework.hashing import sha256_file
from rst.framework.lake import Lake, Layer
from rst.framework.listing import claimed_keys, table_entries
from rst.framework.manifest import (
    SUCCESS,
    InputFile,
    Manifest,
    OutputFile,
    inspect_manifest,
    read_manifest,
    write_manifest_and_success,
)
from rst.framework.partition import Granularity, Partition, PartitionKey, keys_for_dates
from rst.framework.parts import _write_parts
from rst.framework.paths import remove_tree, write_atomic
from rst.framework.spill import SpillBuffer

RACY_NS = 100_000_000  # an input mtime this close to (or after) the moment we stat it is not trusted


class Role(StrEnum):
    """What an input is to the stage reading it; a stage reads its inputs by role (:class:`StageContext`)."""

    DATA = "data"
    """Raw files of the table's own DBN schema."""
    DEFINITIONS = "definitions"
    """Instrument definitions: raw definition files (bronze) or bronze definition partitions."""
    RECORDS = "records"
    """The upstream partitions a stage refines (bronze bars or records for silver, silver for gold windows)."""
    DAILY_BARS = "daily_bars"
    """Bronze daily bars an intraday front-month table ranks contracts by."""
    BARS = "bars"
    """Silver daily bars a continuous series is built from."""
    STATISTICS = "statistics"
    """Silver statistics (settlement, open interest) a continuous series may roll on."""


@dataclass(frozen=True)
class RawInput:
    """A raw-zone file a partition reads (absolute path), in a :class:`Role`."""

    path: Path
    role: Role = Role.DATA


@dataclass(frozen=True)
class PartitionInput:
    """An upstream partition a partition reads, in a :class:`Role`; it must be complete."""

    partition: Partition
    role: Role = Role.RECORDS


Input = RawInput | PartitionInput


class Outcome(StrEnum):
    """What :meth:`Stage.run` did with one partition."""

    BUILT = "built"
    SKIPPED = "skipped"
    NO_INPUT = "no-input"
    FAILED = "failed"


class PartitionState(StrEnum):
    """What ``rst status`` says of one partition."""

    DONE = "done"
    MISSING = "missing"
    STALE = "stale"
    FAILED = "failed"
    CORRUPT = "corrupt"
    """Claims to be complete (``_SUCCESS``) but is not what its manifest lists: a file unlisted,
    missing or of another size, an invalid manifest, or bytes ``rst verify`` found changed."""


@dataclass
class PartitionResult:
    """The outcome of one partition run, as the runner reports it."""

    partition: Partition
    outcome: Outcome
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    error: str | None = None
    traceback: str | None = None
    """The formatted traceback of a FAILED result (shown with ``--verbose``)."""
    transient: bool = False
    """A FAILED result whose cause may go away by itself (a lock held elsewhere, a dropped
    connection): the runner retries it with backoff (:mod:`rst.framework.runner`)."""


@dataclass
class StageContext:
    """What ``transform()`` gets: the partition, resolved inputs, and counters it may bump."""

    lake: Lake
    partition: Partition
    params: Mapping[str, Any]
    inputs: list[Input]
    rows_in: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    _quarantine: SpillBuffer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # past SPILL_BYTES the set-aside rows go to a staging dir of the partition (swept if we crash)
        self._quarantine = SpillBuffer(lambda: new_staging_dir(self.lake, self.partition))

    def count(self, name: str, n: int) -> None:
        """Add ``n`` to a named counter recorded in the manifest (e.g. ``spreads_filtered``)."""
        self.counts[name] = self.counts.get(name, 0) + int(n)

    def quarantine(self, rows: pa.Table) -> None:
        """Set rows aside in the quarantine table; ``rows`` must carry a ``reason`` column.

        Memory stays bounded: past :data:`~rst.framework.spill.SPILL_BYTES` the rows are spilled to disk.
        """
        if rows.num_rows:
            self._quarantine.append(rows)

    @property
    def quarantined_rows(self) -> int:
        return self._quarantine.rows

    def raw_paths(self, role: Role | None = None) -> list[Path]:
        """The raw files among the inputs (of ``role``, or all), in declaration order."""
        return [i.path for i in self.inputs if isinstance(i, RawInput) and role in (None, i.role)]

    def partitions(self, role: Role) -> list[Partition]:
        """The upstream partitions of ``role``, in declaration order."""
        return [i.partition for i in self.inputs if isinstance(i, PartitionInput) and i.role == role]

    def upstream_dirs(self) -> list[Path]:
        """The directories of every upstream partition, in declaration order."""
        return [i.partition.path(self.lake) for i in self.inputs if isinstance(i, PartitionInput)]

    def files(self, role: Role) -> list[Path]:
        """The Parquet parts of the upstream partitions of ``role``: exactly what their manifests list."""
        from rst.read import partition_files

        return [f for p in self.partitions(role) for f in partition_files(p.path(self.lake), self.lake)]


class Stage(ABC):
    """Base of every stage: one output table, one partition per run.

    Subclasses set ``layer``, ``table``, ``granularity`` (and ``version``, bumped
    whenever the output for the same inputs would change), optionally
    ``quarantine_table``, and implement :meth:`inputs` and :meth:`transform`.
    """

    layer: ClassVar[Layer]
    table: ClassVar[str]
    granularity: ClassVar[Granularity] = Granularity.DAY
    version: ClassVar[str] = "1"
    quarantine_table: ClassVar[str | None] = None

    def __init__(self, lake: Lake, symbol: str, params: Mapping[str, Any] | None = None) -> None:
        self.lake = lake
        self.symbol = symbol
        self.params: dict[str, Any] = dict(params or {})

    # ---- what a subclass declares -------------------------------------------------
    @abstractmethod
    def inputs(self, key: PartitionKey) -> list[Input]:
        """The inputs of one partition; empty means there is nothing to build."""

    @abstractmethod
    def transform(self, ctx: StageContext) -> Iterable[pa.Table | pa.RecordBatch]:
        """Yield the partition's rows in batches (bounded memory); pure in inputs and params."""

    @property
    def contract(self) -> Contract:
        return load_contract(self.layer.value, self.table)

    def waits_for(self) -> tuple[tuple[Layer, str], ...]:
        """Tables (of this parent) whose every partition in a run must settle before this stage's.

        For what a stage reads besides its declared inputs: silver and gold take the parent's
        calendar from all its bronze definitions (:func:`rst.parents.parent_calendar`).
        """
        return ()

    def complete(self, partition: Partition) -> bool:
        """Whether ``partition`` is complete, or will be by the time this stage's task runs.

        While a run is planned (:func:`rst.framework.graph.planning`), a partition the run
        is about to build counts as complete, so :meth:`inputs` names it and the task graph
        orders the reader after it; when the task runs, only what is on disk counts.
        """
        from rst.framework.graph import is_planned

        return is_planned(partition) or read_manifest(partition.path(self.lake)) is not None

    def complete_keys(self, layer: Layer, table: str) -> list[PartitionKey]:
        """Keys of the complete partitions of this parent's ``table`` in ``layer`` (and, while planning, the planned ones)."""
        from rst.framework.graph import planned_keys

        on_disk, _ = table_entries(self.lake.table_dir(layer, self.symbol, table))
        found = {k for k, _ in on_disk if self.complete(Partition(layer, self.symbol, table, k))}
        return sorted(found | set(planned_keys(layer, self.symbol, table)))

    def keys_for_dates(self, dates: Iterable[dt.date]) -> list[PartitionKey]:
        """The partitions holding ``dates`` (override to drop dates that can hold no data)."""
        return keys_for_dates(self.granularity, dates)

    def available_keys(self) -> list[PartitionKey]:
        """Every partition the current inputs allow (what a run without dates builds).

        The default is the partitions that already exist; stages reading raw files or
        upstream tables override it.
        """
        return self.existing_keys()

    def existing_keys(self) -> list[PartitionKey]:
        """Keys of the partitions of this table that hold a ``_SUCCESS``, sorted.

        Complete ones and corrupt ones alike (so a corrupt partition is still reported and
        rebuilt); stray entries (``year=2024.bak``, a file named like a partition) are skipped.
        """
        return claimed_keys(self.lake.table_dir(self.layer, self.symbol, self.table), self.granularity)

    # ---- what the base class guarantees -------------------------------------------
    def partition(self, key: PartitionKey) -> Partition:
        return Partition(self.layer, self.symbol, self.table, key)

    @property
    def name(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}"

    @final
    def run(self, key: PartitionKey, *, force: bool = False, lock_timeout: float | None = None) -> PartitionResult:
        """Build one partition unless it is up to date; see the module docstring.

        Raises
        ------
        PartitionLocked
            When ``lock_timeout`` expires while another process writes the partition.
        StageError
            When anything else fails; the previous partition is left intact.
        """
        partition = self.partition(key)
        started = time.monotonic()
        storage = self.lake.storage
        lock = storage.lock(partition, timeout=lock_timeout)
        try:
            lock.acquire()
        except PartitionLocked:
            raise
        except Exception as exc:
            raise StageError(self.layer.value, self.table, key.dirname, exc) from exc
        try:
            # the failure record is written and cleared under the lock, so a concurrent
            # writer's outcome can never be overwritten by a stale one
            sweep_staging(self.lake, partition)
            if self.quarantine_table:
                sweep_staging(self.lake, self._quarantine_partition(key))
            storage.sync_upstream(self.layer, self.symbol)
            inputs = self.inputs(key)
            if not inputs:
                return PartitionResult(partition, Outcome.NO_INPUT)
            previous = storage.current_manifest(partition)
            files = self._input_files(inputs, previous)
            if not force and previous is not None and self._is_current(key, previous, files):
                self._clear_failure(partition)
                return PartitionResult(partition, Outcome.SKIPPED, rows_out=previous.rows_out)
            manifest = self._build(partition, inputs, files)
            self._clear_failure(partition)
        except Exception as exc:
            error = StageError(self.layer.value, self.table, key.dirname, _with_retire_hint(self.lake, exc))
            self._record_failure(partition, error)
            raise error from exc
        finally:
            lock.release()
        return PartitionResult(
            partition,
            Outcome.BUILT,
            rows_in=manifest.rows_in,
            rows_out=manifest.rows_out,
            rows_quarantined=manifest.rows_quarantined,
            seconds=time.monotonic() - started,
        )

    def skip_result(self, key: PartitionKey, inputs: list[Input] | None = None) -> PartitionResult | None:
        """A SKIPPED result when the partition is visibly up to date, else None.

        Takes no lock, so a runner can settle up-to-date partitions before dispatching work;
        :meth:`run` makes the same check again under the lock. None also when a failure
        record exists (only :meth:`run` clears it) or there are no inputs. ``inputs``: this
        partition's inputs when the caller has just resolved them (the task graph has).
        """
        partition = self.partition(key)
        if self._failure_path(partition).exists():
            return None
        previous = self.lake.storage.current_manifest(partition)
        if previous is None:
            return None
        if inputs is None:
            inputs = self.inputs(key)
        if not inputs or not self._is_current(key, previous, self._input_files(inputs, previous)):
            return None
        return PartitionResult(partition, Outcome.SKIPPED, rows_out=previous.rows_out)

    def _is_current(self, key: PartitionKey, previous: Manifest | None, files: list[InputFile]) -> bool:
        return (
            previous is not None
            and previous.lineage_key() == self._lineage_key(files)
            and not self._quarantine_stale(key, previous)
            and not self._partition_problem(key, previous)
        )

    def _partition_problem(self, key: PartitionKey, manifest: Manifest) -> str:
        """Why the partition (or its quarantine twin) is not exactly what ``manifest`` lists ("" when it is).

        Uncached: one directory listing and one stat per part (see :mod:`rst.framework.integrity`),
        or one object listing on object storage.
        """
        storage = self.lake.storage
        problem = storage.problem(self.partition(key), manifest)
        if problem or not self.quarantine_table or not manifest.rows_quarantined:
            return problem
        q = self._quarantine_partition(key)
        q_manifest = storage.current_manifest(q)
        q_problem = storage.problem(q, q_manifest) if q_manifest is not None else ""
        return f"quarantine partition: {q_problem}" if q_problem else ""

    def state(self, key: PartitionKey) -> tuple[PartitionState, str]:
        """The partition's state and a one-line reason, computed from the lake alone."""
        partition = self.partition(key)
        failure = self._failure_path(partition)
        if failure.exists():
            try:
                return PartitionState.FAILED, str(json.loads(failure.read_text())["error"])
            except (OSError, ValueError, KeyError, TypeError):
                return PartitionState.FAILED, f"unreadable failure record {failure}"
        directory = partition.path(self.lake)
        manifest = read_manifest(directory)
        if manifest is None:
            if not os.path.lexists(directory / SUCCESS):
                return PartitionState.MISSING, "no complete partition"
            return PartitionState.CORRUPT, inspect_manifest(directory)[1]
        problem = self._partition_problem(key, manifest)
        if problem:
            return PartitionState.CORRUPT, problem
        try:
            inputs = self.inputs(key)
            files = self._input_files(inputs, manifest)
        except RstError as exc:
            return PartitionState.STALE, str(exc)
        reason = _stale_reason(manifest, self._lineage_key(files)) or self._quarantine_stale(key, manifest)
        return (PartitionState.STALE, reason) if reason else (PartitionState.DONE, "")

    def invalidate(self, key: PartitionKey) -> bool:
        """Remove a partition (readers never see it half-deleted) and its failure record; the next run rebuilds it.

        Returns True when a partition directory was removed.
        """
        partition = self.partition(key)
        storage = self.lake.storage
        lock = storage.lock(partition)
        lock.acquire()
        try:
            removed = storage.remove(partition)
            if self.quarantine_table:
                storage.remove(self._quarantine_partition(key))
            self._clear_failure(partition)
        finally:
            lock.release()
        return removed

    # ---- internals -----------------------------------------------------------------
    def _lineage_key(self, files: list[InputFile]) -> tuple[Any, ...]:
        return (
            self.version,
            json.dumps(self.params, sort_keys=True),
            self.contract.fingerprint,
            tuple(sorted((f.path, f.sha256) for f in files)),
        )

    def _input_files(self, inputs: list[Input], previous: Manifest | None) -> list[InputFile]:
        known = {i.path: i for i in previous.inputs} if previous else {}
        files: list[InputFile] = []
        for item in inputs:
            if isinstance(item, RawInput):
                files.append(_raw_input_file(self.lake, item.path, known))
            else:
                upstream_dir = item.partition.path(self.lake)
                upstream = self.lake.storage.input_manifest(item.partition)
                if upstream is None:
                    raise InputMissing(upstream_dir, f"run {item.partition.layer.value} for it first")
                base = self.lake.relative(upstream_dir)
                files.extend(InputFile(f"{base}/{o.path}", o.size, o.sha256) for o in upstream.outputs)
        return files

    def _build(self, partition: Partition, inputs: list[Input], files: list[InputFile]) -> Manifest:
        started_at = _now()
        t0 = time.monotonic()
        storage = self.lake.storage
        storage.fetch_inputs(inputs)
        ctx = StageContext(self.lake, partition, self.params, inputs)
        contract = self.contract
        staging = new_staging_dir(self.lake, partition)
        q_staging: Path | None = None
        try:
            outputs = _write_parts(staging, contract, partition.label, self.transform(ctx))
            q_staging = self._stage_quarantine(partition, ctx, files)
            manifest = self._manifest(
                partition, contract, ctx, files, outputs, ctx.quarantined_rows, dict(sorted(ctx.counts.items())),
                started_at, t0,
            )  # fmt: skip
            write_manifest_and_success(staging, manifest)
            fsync_tree(staging)
            # Both partitions are complete on disk; swap the quarantine first, the main partition
            # last. A crash between the two is repaired by the next run (``_quarantine_stale``).
            if self.quarantine_table:
                q = self._quarantine_partition(partition.key)
                if q_staging is None:
                    storage.remove(q)
                else:
                    storage.commit(q, q_staging)
            storage.commit(partition, staging)
        finally:
            for leftover in (staging, q_staging):
                if leftover is not None and leftover.exists():
                    shutil.rmtree(leftover, ignore_errors=True)
        return manifest

    def _manifest(
        self,
        partition: Partition,
        contract: Contract,
        ctx: StageContext,
        files: list[InputFile],
        outputs: list[OutputFile],
        quarantined: int,
        counts: dict[str, int],
        started_at: str,
        t0: float,
    ) -> Manifest:
        """The lineage document of ``partition`` (the main table's or its quarantine's)."""
        return Manifest(
            layer=self.layer.value,
            table=partition.table,
            symbol=self.symbol,
            partition=partition.key.dirname,
            stage=self.name,
            stage_version=self.version,
            params=self.params,
            inputs=files,
            outputs=outputs,
            schema_fingerprint=contract.fingerprint,
            rows_in=ctx.rows_in,
            rows_out=sum(o.rows for o in outputs),
            rows_quarantined=quarantined,
            counts=counts,
            started_at=started_at,
            finished_at=_now(),
            seconds=round(time.monotonic() - t0, 6),
        )

    def _quarantine_partition(self, key: PartitionKey) -> Partition:
        assert self.quarantine_table is not None
        return Partition(self.layer, self.symbol, self.quarantine_table, key)

    def _stage_quarantine(self, partition: Partition, ctx: StageContext, files: list[InputFile]) -> Path | None:
        """Write the quarantine partition into a staging dir (complete, fsynced); None when nothing was set aside.

        The set-aside rows are streamed from the context's spill buffer, which is removed here.
        """
        try:
            if not self.quarantine_table or not ctx.quarantined_rows:
                return None
            q = self._quarantine_partition(partition.key)
            contract = load_contract(self.layer.value, self.quarantine_table)
            staging = new_staging_dir(self.lake, q)
            try:
                started_at, t0 = _now(), time.monotonic()
                outputs = _write_parts(staging, contract, q.label, ctx._quarantine.tables())
                rows = sum(o.rows for o in outputs)
                manifest = self._manifest(q, contract, ctx, files, outputs, rows, {}, started_at, t0)
                write_manifest_and_success(staging, manifest)
                fsync_tree(staging)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            return staging
        finally:
            ctx._quarantine.close()

    def _quarantine_stale(self, key: PartitionKey, manifest: Manifest) -> str:
        """Why the quarantine partition does not belong to the main partition's ``manifest`` ("" when it does)."""
        if not self.quarantine_table:
            return ""
        storage = self.lake.storage
        target = self._quarantine_partition(key)
        if manifest.rows_quarantined == 0:
            return "quarantine partition left over" if storage.exists(target) else ""
        q = storage.current_manifest(target)
        if q is None:
            return "quarantine partition missing"
        fingerprint = load_contract(self.layer.value, self.quarantine_table).fingerprint
        if (
            q.stage_version != manifest.stage_version
            or json.dumps(q.params, sort_keys=True) != json.dumps(manifest.params, sort_keys=True)
            or {(i.path, i.sha256) for i in q.inputs} != {(i.path, i.sha256) for i in manifest.inputs}
            or q.rows_out != manifest.rows_quarantined
            or q.schema_fingerprint != fingerprint
        ):
            return "quarantine partition out of date"
        return ""

    def _failure_path(self, partition: Partition) -> Path:
        slug = partition.slug
        return self.lake.internal("failures") / slug.parent / f"{slug.name}.json"

    def _record_failure(self, partition: Partition, error: StageError) -> None:
        """Best effort (the StageError matters more): write the record whole or not at all."""
        record = {"partition": partition.label, "error": str(error), "at": _now()}
        try:
            write_atomic(self.lake, self._failure_path(partition), (json.dumps(record) + "\n").encode())
        except (OSError, RstError):
            pass

    def _clear_failure(self, partition: Partition) -> None:
        remove_tree(self.lake, self._failure_path(partition))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _raw_input_file(lake: Lake, path: Path, known: dict[str, InputFile]) -> InputFile:
    """Describe a raw input, refusing a catalogued file whose bytes are not the catalogue's.

    Cheap path: when size, mtime and inode are those the last manifest recorded (and that
    record's SHA256 is the catalogue's), the file is not read. Otherwise it is hashed and
    compared with the SHA256 the raw catalogue recorded at import, not merely with the last
    manifest: a file changed in place fails the partition instead of being built from.
    Files outside the catalogue (test stages' own raw files) are only described.

    The cheap path is trusted only for an mtime safely older than the moment we looked
    (``RACY_NS``): a rewrite within the same timestamp tick (coarse kernel clocks, FAT, some
    network filesystems) would otherwise keep the same mtime and go unseen. Such a "racy" file
    would have to be recorded with ``mtime_ns = 0`` and re-hashed at every check, as git does;
    so a file written less than ``RACY_NS`` ago (typically: imported just before the run) is
    hashed only once that window has passed (one wait of at most ``RACY_NS``), then trusted if
    its size, mtime and inode did not move while it was hashed. A file rewritten in place with
    its size kept and its mtime forged back is not seen by the cheap path (``rst verify``
    hashes everything); one replaced by a rename is (new inode). A lake copied elsewhere gets
    new inodes: its raw inputs are hashed again until their partitions are rebuilt.

    Raises
    ------
    InputMissing
        The file is gone.
    RawFileChanged
        A catalogued file's SHA256 differs from its catalogue entry.
    """
    from rst.sources.raw_zone import RawFileChanged, RawZone

    now = time.time_ns()
    rel = lake.relative(path)
    entry = RawZone(lake.root).entry(rel)
    try:
        st = path.stat()
    except FileNotFoundError:
        if lake.remote is not None and entry is not None:  # not fetched yet: the catalogue vouches (verified when fetched)
            return InputFile(rel, entry.size, entry.sha256)
        raise InputMissing(path, f"raw file listed in the catalogue is gone; `rst retire {rel}` drops its entry") from None
    expected = entry.sha256 if entry is not None else None
    prior = known.get(rel)
    if (
        prior is not None
        and prior.mtime_ns
        and (prior.size, prior.mtime_ns) == (st.st_size, st.st_mtime_ns)
        and prior.inode in (0, st.st_ino)  # 0: recorded before inodes were
        and expected in (None, prior.sha256)
    ):
        return prior
    if now - RACY_NS <= st.st_mtime_ns <= now:  # racy, not from the future: wait the window out
        time.sleep((st.st_mtime_ns + RACY_NS - now) / 1e9 + 0.001)
        now = time.time_ns()
        st = path.stat()
    digest = sha256_file(path)
    if expected is not None and digest != expected:
        raise RawFileChanged(rel, expected, digest)
    after = path.stat()
    trusted = st.st_mtime_ns < now - RACY_NS and _file_stamp(after) == _file_stamp(st)
    return InputFile(rel, st.st_size, digest, st.st_mtime_ns if trusted else 0, st.st_ino)


def _file_stamp(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def _with_retire_hint(lake: Lake, exc: Exception) -> Exception:
    """``exc``, or for an undecodable catalogued raw file the same error naming ``rst retire``."""
    from rst.errors import DbnFormatError
    from rst.sources.raw_zone import RawZone

    if not isinstance(exc, DbnFormatError) or not exc.path.is_relative_to(lake.root):
        return exc
    rel = lake.relative(exc.path)
    if RawZone(lake.root).entry(rel) is None:
        return exc
    hinted = DbnFormatError(exc.path, f"{exc.problem}; retire it with `rst retire {rel}`")
    hinted.__cause__ = exc
    return hinted


def _stale_reason(manifest: Manifest, current: tuple[Any, ...]) -> str:
    version, params, fingerprint, inputs = current
    if manifest.stage_version != version:
        return f"stage version {manifest.stage_version} -> {version}"
    if json.dumps(manifest.params, sort_keys=True) != params:
        now = json.loads(params)
        keys = sorted(k for k in manifest.params.keys() | now.keys() if manifest.params.get(k) != now.get(k))
        return f"parameters changed: {', '.join(keys)}"
    if manifest.schema_fingerprint != fingerprint:
        return "contract changed"
    return _inputs_reason({(i.path, i.sha256) for i in manifest.inputs}, set(inputs))


def _inputs_reason(old: set[tuple[str, str]], new: set[tuple[str, str]]) -> str:
    """Which inputs changed, by raw file or upstream partition (a rebuilt partition renames all its parts)."""
    if old == new:
        return ""

    def unit(path: str) -> str:
        return path if path.startswith("raw/") else path.rsplit("/", 1)[0]

    before: dict[str, set[tuple[str, str]]] = {}
    after: dict[str, set[tuple[str, str]]] = {}
    for items, by in ((old, before), (new, after)):
        for item in items:
            by.setdefault(unit(item[0]), set()).add(item)
    parts = [f"{u} changed" for u in sorted(before.keys() & after.keys()) if before[u] != after[u]]
    parts += [f"{u} is new" for u in sorted(after.keys() - before.keys())]
    parts += [f"{u} is gone" for u in sorted(before.keys() - after.keys())]
    return "input " + "; ".join(parts[:3]) + (f" (+{len(parts) - 3} more)" if len(parts) > 3 else "")

"""The ``Stage`` base class: every table of every layer is built through :meth:`Stage.run`.

A subclass declares *what* (layer, table, granularity, contract, version,
inputs) and implements :meth:`Stage.transform`; the base class owns *how* a
partition is produced, identically for every stage:

lock → sweep stale staging → resolve inputs → up-to-date check → stage outside
the table → ``transform()`` batch by batch → contract check → Parquet parts →
manifest → ``_SUCCESS`` → fsync → atomic swap (the quarantine partition, if
any, is staged alongside and swapped just before the main one).

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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, final

import polars as pl
import pyarrow as pa

from rst.errors import InputMissing, PartitionLocked, RstError, StageError
from rst.framework.commit import fsync_tree, new_staging_dir, remove_partition, swap_in, sweep_staging
from rst.framework.contract import Contract, load_contract
from rst.framework.hashing import sha256_bytes, sha256_file
from rst.framework.lake import Lake, Layer
from rst.framework.lock import PartitionLock
from rst.framework.manifest import InputFile, Manifest, OutputFile, read_manifest, write_manifest_and_success
from rst.framework.partition import Granularity, Partition, PartitionKey, keys_for_dates

ROWS_PER_FILE = 8_000_000
PART_BYTES = 256 << 20
"""Arrow bytes buffered per part file: bounds a stage's write memory whatever the partition size."""
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "statistics": True}
RACY_NS = 100_000_000  # an input mtime this close to (or after) the moment we stat it is not trusted


@dataclass(frozen=True)
class RawInput:
    """A raw-zone file a partition reads (absolute path)."""

    path: Path


@dataclass(frozen=True)
class PartitionInput:
    """An upstream partition a partition reads; it must be complete."""

    partition: Partition


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


@dataclass
class StageContext:
    """What ``transform()`` gets: the partition, resolved inputs, and counters it may bump."""

    lake: Lake
    partition: Partition
    params: Mapping[str, Any]
    inputs: list[Input]
    rows_in: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    _quarantine: list[pa.Table] = field(default_factory=list)

    def count(self, name: str, n: int) -> None:
        """Add ``n`` to a named counter recorded in the manifest (e.g. ``spreads_filtered``)."""
        self.counts[name] = self.counts.get(name, 0) + int(n)

    def quarantine(self, rows: pa.Table) -> None:
        """Set rows aside in the quarantine table; ``rows`` must carry a ``reason`` column."""
        if rows.num_rows:
            self._quarantine.append(rows)

    @property
    def quarantined_rows(self) -> int:
        return sum(t.num_rows for t in self._quarantine)

    def raw_paths(self) -> list[Path]:
        return [i.path for i in self.inputs if isinstance(i, RawInput)]

    def upstream_dirs(self) -> list[Path]:
        return [i.partition.path(self.lake) for i in self.inputs if isinstance(i, PartitionInput)]


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
        """Keys of the complete partitions of this table, sorted."""
        root = self.lake.table_dir(self.layer, self.symbol, self.table)
        if not root.is_dir():
            return []
        keys = []
        for child in root.iterdir():
            if child.name.startswith(f"{self.granularity.value}=") and read_manifest(child) is not None:
                keys.append(PartitionKey.parse(child.name))
        return sorted(keys)

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
        lock = PartitionLock(self.lake, partition, timeout=lock_timeout)
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
            inputs = self.inputs(key)
            if not inputs:
                return PartitionResult(partition, Outcome.NO_INPUT)
            previous = read_manifest(partition.path(self.lake))
            files = self._input_files(inputs, previous)
            if not force and previous is not None and self._is_current(key, previous, files):
                self._clear_failure(partition)
                return PartitionResult(partition, Outcome.SKIPPED, rows_out=previous.rows_out)
            manifest = self._build(partition, inputs, files)
            self._clear_failure(partition)
        except Exception as exc:
            error = StageError(self.layer.value, self.table, key.dirname, exc)
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

    def skip_result(self, key: PartitionKey) -> PartitionResult | None:
        """A SKIPPED result when the partition is visibly up to date, else None.

        Takes no lock, so a runner can settle up-to-date partitions before dispatching work;
        :meth:`run` makes the same check again under the lock. None also when a failure
        record exists (only :meth:`run` clears it) or there are no inputs.
        """
        partition = self.partition(key)
        if self._failure_path(partition).exists():
            return None
        previous = read_manifest(partition.path(self.lake))
        if previous is None:
            return None
        inputs = self.inputs(key)
        if not inputs or not self._is_current(key, previous, self._input_files(inputs, previous)):
            return None
        return PartitionResult(partition, Outcome.SKIPPED, rows_out=previous.rows_out)

    def _is_current(self, key: PartitionKey, previous: Manifest | None, files: list[InputFile]) -> bool:
        return (
            previous is not None
            and previous.lineage_key() == self._lineage_key(files)
            and not self._quarantine_stale(key, previous)
        )

    def state(self, key: PartitionKey) -> tuple[PartitionState, str]:
        """The partition's state and a one-line reason, computed from the lake alone."""
        partition = self.partition(key)
        failure = self._failure_path(partition)
        if failure.exists():
            try:
                return PartitionState.FAILED, str(json.loads(failure.read_text())["error"])
            except (OSError, ValueError, KeyError, TypeError):
                return PartitionState.FAILED, f"unreadable failure record {failure}"
        manifest = read_manifest(partition.path(self.lake))
        if manifest is None:
            return PartitionState.MISSING, "no complete partition"
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
        with PartitionLock(self.lake, partition):
            removed = remove_partition(self.lake, partition.path(self.lake))
            if self.quarantine_table:
                remove_partition(self.lake, self._quarantine_partition(key).path(self.lake))
            self._clear_failure(partition)
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
                upstream = read_manifest(upstream_dir)
                if upstream is None:
                    raise InputMissing(upstream_dir, f"run {item.partition.layer.value} for it first")
                base = self.lake.relative(upstream_dir)
                files.extend(InputFile(f"{base}/{o.path}", o.size, o.sha256) for o in upstream.outputs)
        return files

    def _build(self, partition: Partition, inputs: list[Input], files: list[InputFile]) -> Manifest:
        started_at = _now()
        t0 = time.monotonic()
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
                q_target = self._quarantine_partition(partition.key).path(self.lake)
                if q_staging is None:
                    remove_partition(self.lake, q_target)
                else:
                    swap_in(self.lake, q_staging, q_target)
            swap_in(self.lake, staging, partition.path(self.lake))
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
        """Write the quarantine partition into a staging dir (complete, fsynced); None when nothing was set aside."""
        if not self.quarantine_table or not ctx._quarantine:
            return None
        q = self._quarantine_partition(partition.key)
        contract = load_contract(self.layer.value, self.quarantine_table)
        staging = new_staging_dir(self.lake, q)
        try:
            started_at, t0 = _now(), time.monotonic()
            outputs = _write_parts(staging, contract, q.label, iter(ctx._quarantine))
            rows = sum(o.rows for o in outputs)
            manifest = self._manifest(q, contract, ctx, files, outputs, rows, {}, started_at, t0)
            write_manifest_and_success(staging, manifest)
            fsync_tree(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return staging

    def _quarantine_stale(self, key: PartitionKey, manifest: Manifest) -> str:
        """Why the quarantine partition does not belong to the main partition's ``manifest`` ("" when it does)."""
        if not self.quarantine_table:
            return ""
        target = self._quarantine_partition(key).path(self.lake)
        if manifest.rows_quarantined == 0:
            return "quarantine partition left over" if target.exists() else ""
        q = read_manifest(target)
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
        path = self._failure_path(partition)
        record = {"partition": partition.label, "error": str(error), "at": _now()}
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(record) + "\n")
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def _clear_failure(self, partition: Partition) -> None:
        self._failure_path(partition).unlink(missing_ok=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _raw_input_file(lake: Lake, path: Path, known: dict[str, InputFile]) -> InputFile:
    """Describe a raw input; re-hash only when size or mtime differ from the last manifest.

    The (size, mtime) shortcut is trusted only for an mtime safely older than the moment we
    looked (``RACY_NS``): a rewrite within the same timestamp tick (coarse kernel clocks, FAT,
    some network filesystems) would otherwise keep the same mtime and go unseen. Such a
    "racy" file would have to be recorded with ``mtime_ns = 0`` and re-hashed at every check, as
    git does; so a file written less than ``RACY_NS`` ago (typically: imported just before the
    run) is hashed only once that window has passed (one wait of at most ``RACY_NS``), then
    trusted if its size and mtime did not move while it was hashed.
    """
    now = time.time_ns()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputMissing(path, "raw file listed in the catalogue is gone") from None
    rel = lake.relative(path)
    prior = known.get(rel)
    if prior is not None and prior.mtime_ns and prior.size == st.st_size and prior.mtime_ns == st.st_mtime_ns:
        return prior
    if now - RACY_NS <= st.st_mtime_ns <= now:  # racy, not from the future: wait the window out
        time.sleep((st.st_mtime_ns + RACY_NS - now) / 1e9 + 0.001)
        now = time.time_ns()
        st = path.stat()
    digest = sha256_file(path)
    after = path.stat()
    trusted = st.st_mtime_ns < now - RACY_NS and (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    return InputFile(rel, st.st_size, digest, st.st_mtime_ns if trusted else 0)


def _stale_reason(manifest: Manifest, current: tuple[Any, ...]) -> str:
    version, params, fingerprint, inputs = current
    if manifest.stage_version != version:
        return f"stage version {manifest.stage_version} -> {version}"
    if json.dumps(manifest.params, sort_keys=True) != params:
        return "parameters changed"
    if manifest.schema_fingerprint != fingerprint:
        return "contract changed"
    old = {(i.path, i.sha256) for i in manifest.inputs}
    new = set(inputs)
    if old != new:
        changed = sorted({p for p, _ in old ^ new})
        return f"inputs changed: {', '.join(changed[:3])}" + (" …" if len(changed) > 3 else "")
    return ""


def _write_parts(
    staging: Path, contract: Contract, label: str, batches: Iterable[pa.Table | pa.RecordBatch]
) -> list[OutputFile]:
    """Write conforming batches as ``part-NNNNN.parquet`` files.

    Batches are buffered until a part holds ``ROWS_PER_FILE`` rows or ``PART_BYTES`` of Arrow
    memory, so peak memory is bounded by the part size, not the partition size. Each part is
    written by polars (multi-threaded zstd; measured 1.4x faster and 28% smaller than pyarrow's
    single-threaded writer on MBP-10). Its types are the contract's, except that polars stores
    strings as ``large_string`` and dictionaries with uint32 indices.
    """
    outputs: list[OutputFile] = []
    buffer: list[pa.Table] = []
    rows = nbytes = 0

    def flush(limit: int | None = None) -> None:
        nonlocal buffer, rows, nbytes
        table = pa.concat_tables(buffer)
        head, rest = (table, None) if limit is None else (table.slice(0, limit), table.slice(limit))
        path = staging / f"part-{len(outputs):05d}.parquet"
        _write_parquet(head, path)
        outputs.append(OutputFile(path.name, head.num_rows, path.stat().st_size, sha256_file(path)))
        buffer = [rest] if rest is not None and rest.num_rows else []
        rows = sum(t.num_rows for t in buffer)
        nbytes = sum(t.nbytes for t in buffer)

    for batch in _iter_conformed(contract, label, batches):
        if batch.num_rows == 0:
            continue
        buffer.append(batch)
        rows += batch.num_rows
        nbytes += batch.nbytes
        while rows >= ROWS_PER_FILE:
            flush(ROWS_PER_FILE)
        if nbytes >= PART_BYTES:
            flush()
    if buffer:
        flush()
    if not outputs:  # an empty partition is still a partition: one file with the schema
        path = staging / "part-00000.parquet"
        _write_parquet(contract.arrow_schema.empty_table(), path)
        outputs.append(OutputFile(path.name, 0, path.stat().st_size, sha256_file(path)))
    return _name_by_content(staging, outputs)


def _write_parquet(table: pa.Table, path: Path) -> None:
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    frame.write_parquet(path, **PARQUET_OPTIONS)


def _name_by_content(staging: Path, outputs: list[OutputFile]) -> list[OutputFile]:
    """Rename the parts ``part-NNNNN-<content id>.parquet``.

    Hive readers list a partition's files first and open them later by path, sometimes twice
    (metadata at planning, pages at execution). Were the part names the same in every version, a
    reader straddling a swap could combine the old footer with new pages, or ``part-00000`` of
    one version with ``part-00001`` of the other: a silent mix. With names that change with the
    content, such a reader fails loudly to find the old file instead (and may retry). The id
    derives from the content, so a rerun on the same inputs writes the same names.
    """
    content_id = sha256_bytes("".join(o.sha256 for o in outputs).encode())[:12]
    renamed = []
    for o in outputs:
        name = o.path.replace(".parquet", f"-{content_id}.parquet")
        os.rename(staging / o.path, staging / name)
        renamed.append(replace(o, path=name))
    return renamed


def _iter_conformed(
    contract: Contract, label: str, batches: Iterable[pa.Table | pa.RecordBatch]
) -> Iterator[pa.Table]:
    for batch in batches:
        yield contract.conform(batch, label)

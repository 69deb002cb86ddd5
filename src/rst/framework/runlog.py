"""The run log: one JSON line per ``rst run`` / ``rst demo`` / ``rst update`` in ``<lake>/_runs/runs.jsonl``.

Each line is a :class:`RunRecord` (``schema_version`` 1): when and how the run was
started, what it was asked to do, and what happened to its partitions. The file is
append-only and written by this module alone.

Guarantees: a record is appended with a single ``write()`` on a descriptor opened
with ``O_APPEND``, so on a local POSIX filesystem concurrent runners never interleave
or overwrite each other's lines, and a crash leaves at most one torn last line, which
:func:`read_runs` skips. Not guaranteed on NFS or object storage (``O_APPEND`` is
emulated there).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rst.framework.lake import Lake
from rst.framework.stage import Outcome, PartitionResult

SCHEMA_VERSION = 1
RUNS_FILE = "runs.jsonl"
MAX_ERRORS = 50
"""At most this many partition errors are kept per record (``errors_total`` has the count)."""
MAX_ERROR_CHARS = 500


class RunStatus(StrEnum):
    """How a run ended."""

    OK = "ok"
    FAILED = "failed"
    """At least one partition (or a planning step) failed; the others ran."""
    INTERRUPTED = "interrupted"
    """Stopped by Ctrl-C / SIGTERM; the counts are what had finished."""


@dataclass
class RunRecord:
    """One line of ``runs.jsonl``.

    Times are ISO-8601 UTC; ``seconds`` is wall-clock. ``partitions`` counts results
    by outcome (``built``, ``skipped``, ``no-input``, ``failed``); ``rows_out`` and
    ``rows_quarantined`` sum the partitions built by this run. ``params`` are the
    command's normalised options (layers, symbols, dates, tables, workers, force).
    """

    run_id: str
    command: str
    argv: list[str]
    started_at: str
    finished_at: str
    seconds: float
    status: RunStatus
    params: dict[str, Any] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
    rows_out: int = 0
    rows_quarantined: int = 0
    errors: list[str] = field(default_factory=list)
    errors_total: int = 0
    host: str = ""
    pid: int = 0
    schema_version: int = SCHEMA_VERSION

    def count(self, outcome: Outcome) -> int:
        return self.partitions.get(outcome.value, 0)

    def to_json(self) -> str:
        doc = asdict(self)
        doc["status"] = self.status.value
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, line: str) -> RunRecord:
        doc = json.loads(line)
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"unknown run-log schema_version {doc.get('schema_version')!r}")
        doc["status"] = RunStatus(doc["status"])
        return cls(**doc)


def runs_path(lake: Lake) -> Path:
    return lake.internal("runs") / RUNS_FILE


def new_record(
    command: str,
    argv: Sequence[str],
    params: Mapping[str, Any],
    results: Iterable[PartitionResult],
    *,
    started_at: dt.datetime,
    status: RunStatus | None = None,
    errors: Iterable[str] = (),
) -> RunRecord:
    """Build the record of a finished run from its partition results.

    ``status`` defaults to FAILED when any partition failed or ``errors`` is not empty, else OK.
    ``errors`` are extra one-line problems (planning, downloads) listed before partition errors.
    """
    results = list(results)
    finished = dt.datetime.now(dt.UTC)
    counts = Counter(r.outcome.value for r in results)
    problems = list(errors) + [f"{r.partition.label}: {r.error}" for r in results if r.outcome is Outcome.FAILED]
    if status is None:
        status = RunStatus.FAILED if problems else RunStatus.OK
    built = [r for r in results if r.outcome is Outcome.BUILT]
    return RunRecord(
        run_id=uuid.uuid4().hex[:12],
        command=command,
        argv=list(argv),
        started_at=started_at.isoformat(timespec="milliseconds"),
        finished_at=finished.isoformat(timespec="milliseconds"),
        seconds=round((finished - started_at).total_seconds(), 3),
        status=status,
        params=_jsonable(dict(params)),
        partitions={o.value: counts.get(o.value, 0) for o in Outcome},
        rows_out=sum(r.rows_out for r in built),
        rows_quarantined=sum(r.rows_quarantined for r in built),
        errors=[p[:MAX_ERROR_CHARS] for p in problems[:MAX_ERRORS]],
        errors_total=len(problems),
        host=socket.gethostname(),
        pid=os.getpid(),
    )


def append_run(lake: Lake, record: RunRecord) -> Path:
    """Append ``record`` as one line (one ``write()``, ``O_APPEND``); return the log's path."""
    path = runs_path(lake)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (record.to_json() + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        if written != len(data):  # never on a local filesystem; say so rather than leave a torn line unnoticed
            raise OSError(f"{path}: short append ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_runs(lake: Lake, last: int | None = None) -> list[RunRecord]:
    """The logged runs, oldest first (the ``last`` N when given); unreadable lines are skipped."""
    path = runs_path(lake)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        if not line.strip():
            continue
        try:
            records.append(RunRecord.from_json(line))
        except (ValueError, TypeError, KeyError):
            continue  # a torn last line after a crash, or a future schema
    return records[-last:] if last else records


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)

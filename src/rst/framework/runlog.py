"""The run log: one JSON line per ``rst run`` / ``rst demo`` / ``rst update`` in ``<lake>/_runs/runs.jsonl``.

Each line is a :class:`RunRecord` (``schema_version`` 1): when and how the run was
started, what it was asked to do, and what happened to its partitions. The file is
append-only and written by this module alone.

Guarantees: a record is appended with a single ``write()`` on a descriptor opened
with ``O_APPEND``, under a ``flock`` of the file, so on a local POSIX filesystem
concurrent runners never interleave or overwrite each other's lines. A crash (kill, full disk) leaves at most one torn
last line; the next append starts with a newline when the file does not end with one,
so a torn line never swallows the next record. :func:`read_run_log` returns the
records and, as :class:`RunLogProblem`, every line it could not read (torn, not
UTF-8, not JSON, not a record); ``rst runs``, ``status`` and ``verify`` report them
(:func:`run_log_problems`). Not guaranteed on NFS or object storage (``O_APPEND`` is
emulated there).
"""

from __future__ import annotations

import datetime as dt
import fcntl
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
from rst.redaction import redact

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
    """The run log file, ``<lake>/_runs/runs.jsonl`` (see the module docstring)."""
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
    """Append ``record`` as one line (one ``write()``, ``O_APPEND``); return the log's path.

    If the log does not end with a newline (a torn last line), the record is preceded by
    one, so it starts a line of its own. Appenders serialise on a ``flock`` of the log, so
    that check never sees another appender's write half done.
    """
    path = runs_path(lake)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (redact(record.to_json()) + "\n").encode()  # argv and error lines never carry a secret
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the last-byte check and the write, as one step among appenders
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a torn last line stays torn (and reported), the record stays whole
        written = os.write(fd, data)
        if written != len(data):  # never on a local filesystem; say so rather than leave a torn line unnoticed
            raise OSError(f"{path}: short append ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


@dataclass(frozen=True)
class RunLogProblem:
    """A line of the run log that is not a readable record; ``str()`` is one line naming file and line."""

    path: Path
    line: int
    """1-based line number."""
    problem: str

    def __str__(self) -> str:
        return f"{self.path} line {self.line}: {self.problem}"


def _parse_line(raw: bytes) -> RunRecord | str:
    """The record on one line of the log, or what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 (byte {exc.start}); the line was damaged or written by another program"
    try:
        return RunRecord.from_json(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno}); a record torn by a crash or a full disk"
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return f"not a run record ({type(exc).__name__}: {exc})"


def read_run_log(lake: Lake) -> tuple[list[RunRecord], list[RunLogProblem]]:
    """Every readable record, oldest first, and every line that is not one (blank lines are neither).

    A last line without its newline that is not a record is reported as torn (a run was
    killed or the disk filled while it was written).
    """
    path = runs_path(lake)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], []
    lines = data.split(b"\n")
    torn_tail = lines.pop()  # b"" when the file ends with a newline
    records: list[RunRecord] = []
    problems: list[RunLogProblem] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        parsed = _parse_line(raw)
        if isinstance(parsed, RunRecord):
            records.append(parsed)
        else:
            problems.append(RunLogProblem(path, number, parsed))
    if torn_tail.strip():
        tail = _parse_line(torn_tail)
        if isinstance(tail, RunRecord):  # whole but for its newline (edited by hand): keep it
            records.append(tail)
        else:
            problems.append(RunLogProblem(
                path, len(lines) + 1, f"torn last line ({len(torn_tail)} bytes, no newline): "
                "a run was killed or the disk filled while its record was written",
            ))  # fmt: skip
    return records, problems


def read_runs(lake: Lake, last: int | None = None) -> list[RunRecord]:
    """The logged runs, oldest first (the ``last`` N when given); unreadable lines are left out
    (:func:`run_log_problems` lists them)."""
    records, _ = read_run_log(lake)
    return records[-last:] if last else records


def run_log_problems(lake: Lake) -> list[RunLogProblem]:
    """Every line of the run log that is not a readable record (for ``status``, ``verify``, ``runs``)."""
    return read_run_log(lake)[1]


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

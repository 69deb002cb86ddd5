"""Long work off the page's thread: one background job per lake and kind, with progress.

A job runs in a daemon thread of the app server; the page polls it. The registry is
per server process, so a second click (in this tab or another) while a job of the same
kind runs on the same lake starts nothing. Partition locks (taken by every stage run)
keep an app job and a CLI run on the same lake from writing the same partition.
The job's function never touches Streamlit: it reports through :meth:`Job.report`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rst.app.common import one_line

if TYPE_CHECKING:
    from rst.framework.lake import Lake
    from rst.framework.stage import PartitionResult


@dataclass
class Job:
    """One background run: progress (``done`` of ``total``), a status line, then ``result`` or ``error``."""

    kind: str
    label: str
    done: int = 0
    total: int = 0
    line: str = ""
    result: Any = None
    error: str = ""
    finished: bool = False
    started: float = field(default_factory=time.monotonic)

    def report(self, done: int | None = None, total: int | None = None, line: str | None = None) -> None:
        """Update progress (called from the job's thread)."""
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if line is not None:
            self.line = line

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


_JOBS: dict[tuple[str, str], Job] = {}
_LOCK = threading.Lock()


def current(lake_root: str, kind: str) -> Job | None:
    """The latest job of ``kind`` on the lake (running or finished), if any."""
    with _LOCK:
        return _JOBS.get((lake_root, kind))


def start(lake_root: str, kind: str, label: str, work: Callable[[Job], Any]) -> tuple[Job, bool]:
    """Start ``work(job)`` in a thread unless a job of ``kind`` runs on the lake; returns (job, started)."""
    with _LOCK:
        running = _JOBS.get((lake_root, kind))
        if running is not None and not running.finished:
            return running, False
        job = Job(kind, label)
        _JOBS[(lake_root, kind)] = job

    def target() -> None:
        try:
            job.result = work(job)
        except Exception as exc:  # noqa: BLE001 - the page shows it as one line
            job.error = one_line(exc)
        finally:
            job.finished = True

    threading.Thread(target=target, name=f"rst-app-{kind}", daemon=True).start()
    return job, True


def wait(job: Job, timeout_s: float = 60.0) -> Job:
    """Block until ``job`` finishes (tests and scripts; the page polls instead)."""
    deadline = time.monotonic() + timeout_s
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    return job


def record_run(lake: Lake, what: str, params: dict[str, Any], results: list[PartitionResult], started: dt.datetime) -> None:
    """Append the app's pipeline run to the lake's run log (``rst runs`` and Lake health show it)."""
    from rst.framework.runlog import append_run, new_record

    append_run(lake, new_record(f"app {what}", ["rst", "app"], params, results, started_at=started))

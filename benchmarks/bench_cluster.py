"""Per-partition overhead of the Dask executor against the process pool, on a 250-partition bronze backfill.

The backfill of :mod:`benchmarks.bench_workers` (synthetic GLBX data generated and imported
once, each mode building the same partitions from scratch in its own copy of the lake), run
through the real runner (``run_tasks``) three ways, in one run:

- **inline**: one process, no executor (the floor: no dispatch at all);
- **process pool**: ``rst run --workers 2`` (the runner's forkserver pool, :func:`make_executor`);
- **Dask**: ``rst run --executor dask --workers 2`` (a ``LocalCluster`` of 2 one-thread worker
  processes on loopback, with rst's exactly-once settings).

Each executor's start (pool or cluster up, workers spawned and warmed up) is paid once per run
and shown apart from the backfill.

Per-partition overhead = (wall seconds x worker slots - the partitions' own seconds, measured
inside the workers) / partitions: what dispatch, pickling, result transfer and idle slots cost
each partition. Prints a markdown table.

usage: .venv/bin/python -m benchmarks.bench_cluster [--partitions 250] [--keep DIR]
(also ``python -m benchmarks --only cluster``)
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.bench_workers import prepare
from rst.framework.lake import Lake, Layer
from rst.framework.runner import make_executor, run_tasks
from rst.framework.stage import Outcome
from rst.stages.registry import plan

WORKERS = 2
HEADER = ["run", "worker slots", "partitions", "start s", "backfill s", "partitions/s",
          "in-partition s", "overhead ms/partition", "vs process pool"]  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One mode's backfill: wall ``seconds`` (start excluded), ``busy`` = the partitions' own seconds."""

    run: str
    slots: int
    partitions: int
    start: float
    seconds: float
    busy: float

    @property
    def overhead_ms(self) -> float:
        return (self.seconds * self.slots - self.busy) / self.partitions * 1000


def backfill(template: Lake, copy: Path, parents: list[str], table: str, partitions: int,
             workers: int = 1, executor: Executor | None = None) -> tuple[int, float, float]:  # fmt: skip
    """Build the first ``partitions`` of ``table`` in a fresh copy of the lake: (count, wall s, in-partition s)."""
    shutil.copytree(template.root, copy)
    lake = Lake(copy)
    tasks = sorted(plan(lake, [Layer.BRONZE], parents, None, tables=[table]), key=lambda t: (t.stage.symbol, t.key))
    tasks = tasks[:partitions]
    t0 = time.perf_counter()
    results = run_tasks(tasks, workers=workers, executor=executor)
    seconds = time.perf_counter() - t0
    counts = Counter(r.outcome for r in results)
    if counts[Outcome.FAILED] or counts[Outcome.BUILT] != len(tasks):
        raise SystemExit(f"{copy.name}: unexpected outcomes {dict(counts)}")
    return len(tasks), seconds, sum(r.seconds for r in results)


def measure(root: Path, partitions: int) -> tuple[str, list[Row]]:
    """Generate and import once, then backfill inline, on the process pool and on a Dask local cluster."""
    from rst.cluster.dask_executor import dask_executor

    template, parents, table = prepare(root, partitions)
    rows = []
    n, seconds, busy = backfill(template, root / "lake-inline", parents, table, partitions)
    rows.append(Row("inline (floor)", 1, n, 0.0, seconds, busy))
    t0 = time.perf_counter()
    pool = make_executor(WORKERS)
    assert pool is not None
    with pool:
        list(pool.map(abs, range(4 * WORKERS)))  # its worker processes started, as the runner's own pool would
        start = time.perf_counter() - t0
        n, seconds, busy = backfill(template, root / "lake-pool", parents, table, partitions, executor=pool)
    rows.append(Row(f"process pool (--workers {WORKERS})", WORKERS, n, start, seconds, busy))
    t0 = time.perf_counter()
    with dask_executor(None, WORKERS) as executor:
        start = time.perf_counter() - t0
        n, seconds, busy = backfill(template, root / "lake-dask", parents, table, partitions, executor=executor)
    rows.append(Row(f"Dask LocalCluster (--executor dask --workers {WORKERS})", WORKERS, n, start, seconds, busy))
    return f"bronze {table} of {', '.join(parents)}", rows


def cells(row: Row, pool: Row) -> list[str]:
    return [row.run, str(row.slots), str(row.partitions), f"{row.start:.2f}", f"{row.seconds:.2f}",
            f"{row.partitions / row.seconds:.1f}", f"{row.busy:.2f}", f"{row.overhead_ms:.1f}",
            f"{row.seconds / pool.seconds:.2f}x time"]  # fmt: skip


def bench_cluster(work: Path, partitions: int) -> list[Any]:
    """The table for ``python -m benchmarks`` (``benchmarks.run.Table``)."""
    from benchmarks.run import Table

    what, rows = measure(work / "cluster", partitions)
    tab = Table(f"Backfill on the process pool vs a Dask local cluster: {what}", HEADER)
    tab.rows = [cells(r, rows[1]) for r in rows]
    tab.notes = [
        "overhead ms/partition = (backfill s x worker slots - in-partition s) / partitions: dispatch, pickling, "
        "result transfer and idle slots, per partition",
        "start s: the executor's start (pool or cluster up, workers spawned and warmed up), paid once per run",
    ]
    return [tab]


if __name__ == "__main__":
    from benchmarks.run import standalone

    standalone(__doc__.splitlines()[0], bench_cluster, "rst-bench-cluster-")

"""Backfill throughput with 1 vs 2 worker processes (``rst run --workers N``) on a 250-partition backfill.

Synthetic GLBX data is generated and imported once; each worker count then builds the same
partitions from scratch in its own copy of the lake, through the real runner
(``run_tasks`` over the process-pool executor). Prints a markdown table.

Partitions: with minute bars available in the synthetic generator, 250 trading days of
``ohlcv_1m`` (one ``dt=`` partition each) for one parent; otherwise monthly ``ohlcv_1h``
partitions for two parents over ~10 years (125 months each).

usage: uv run python benchmarks/bench_workers.py [--partitions 250] [--workers 1,2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import supported_schemas, write_dataset
from rst.stages.registry import plan


def dataset(partitions: int) -> tuple[list[str], list[str], str, dt.date, dt.date]:
    """(parents, schemas, table, start, end) giving at least ``partitions`` bronze partitions."""
    schemas = {str(s) for s in supported_schemas()}
    start = dt.date(2014, 1, 1)
    if "ohlcv-1m" in schemas:
        days = int(partitions * 7 / 5) + 14  # calendar days holding that many trading days
        return ["ES"], ["definition", "ohlcv-1m"], "ohlcv_1m", start, start + dt.timedelta(days=days)
    months = (partitions + 1) // 2
    end = dt.date(start.year + months // 12, start.month + months % 12, 1)
    return ["ES", "NQ"], ["definition", "ohlcv-1h"], "ohlcv_1h", start, end


def prepare(root: Path, partitions: int) -> tuple[Lake, list[str], str]:
    parents, schemas, table, start, end = dataset(partitions)
    lake = Lake(root / "template")
    files = write_dataset(root / "incoming", parents, schemas, start, end, split="month", seed=3)
    zone = RawZone(lake.root)
    for f in files:
        zone.import_file(f)
    time.sleep(0.2)  # past the racy-mtime window, so no run waits for it
    return lake, parents, table


def backfill(template: Lake, copy: Path, parents: list[str], table: str, partitions: int, workers: int) -> tuple[int, float]:
    shutil.copytree(template.root, copy)
    lake = Lake(copy)
    wave = plan(lake, [Layer.BRONZE], parents, None, tables=[table])
    tasks = sorted(wave, key=lambda t: (t.stage.symbol, t.key))[:partitions]
    t0 = time.perf_counter()
    results = run_tasks(tasks, workers=workers)
    seconds = time.perf_counter() - t0
    counts = Counter(r.outcome for r in results)
    if counts[Outcome.FAILED] or counts[Outcome.BUILT] != len(tasks):
        raise SystemExit(f"workers={workers}: unexpected outcomes {dict(counts)}")
    return len(tasks), seconds


def measure(root: Path, partitions: int, worker_counts: list[int]) -> tuple[str, list[tuple[int, int, float]]]:
    """Generate and import once, then backfill with each worker count: (what, [(workers, partitions, s)])."""
    template, parents, table = prepare(root, partitions)
    rows = []
    for n in worker_counts:
        count, seconds = backfill(template, root / f"lake-w{n}", parents, table, partitions, n)
        rows.append((n, count, seconds))
    return f"bronze {table} of {', '.join(parents)}", rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--partitions", type=int, default=250)
    ap.add_argument("--workers", default="1,2", help="comma list of worker counts")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="rst-bench-workers-"))
    try:
        what, rows = measure(root, args.partitions, [int(w) for w in args.workers.split(",")])
        base = rows[0][2]
        print(f"{what} (cpus: {os.cpu_count()})\n")
        print("| workers | partitions | seconds | partitions/s | speed-up |")
        print("|--:|--:|--:|--:|--:|")
        for n, count, seconds in rows:
            print(f"| {n} | {count} | {seconds:.2f} | {count / seconds:.1f} | {base / seconds:.2f}x |")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

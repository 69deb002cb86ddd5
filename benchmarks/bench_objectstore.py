"""Per-partition overhead of an ``s3://`` lake against a local one, on the same bronze backfill.

The backfill of :mod:`benchmarks.bench_workers` (synthetic GLBX data generated once), imported
into a local lake and into a lake on a moto S3 server (``python -m moto.server`` in its own
process on 127.0.0.1, so the server does not share this process's GIL), then built inline (one
process, no executor) through the real runner, in one run:

- **build**: every partition built from scratch (lease, pointer read, build into a local
  staging directory, parts + manifest uploaded under an attempt prefix, conditional pointer write,
  attempt GC listing, lease release; the local lake does its ``flock`` + ``renameat2`` commit);
- **up-to-date rerun**: the same plan again, every partition skipped (one pointer and one manifest
  read per partition on S3, a ``stat`` on the local lake);
- **up-to-date rerun, empty mirror**: the rerun on another host (a new mirror: manifests fetched,
  raw files never downloaded).

Overhead ms/partition = (S3 wall - local wall) / partitions. ``requests/partition`` counts the S3
API calls. moto on loopback answers in well under a millisecond of network time but spends CPU in
Python: the absolute S3 figures are an upper bound of what a real S3 endpoint's round trips
(~10-30 ms each, overlapped by nothing here) would add only where the requests are few.

usage: .venv/bin/python -m benchmarks.bench_objectstore [--partitions 250] [--keep DIR]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.bench_workers import dataset
from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dataset
from rst.stages.registry import plan

HEADER = ["lake", "pass", "partitions", "wall s", "partitions/s", "ms/partition", "overhead ms/partition",
          "requests/partition"]  # fmt: skip


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server in its own process on a free loopback port; yields its endpoint URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("moto server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


class Requests:
    """Counts the S3 API calls this process makes (botocore's ``before-call`` event)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **_: Any) -> None:
        self.count += 1


def build(lake: Lake, parents: list[str], table: str, partitions: int, expect: Outcome) -> tuple[int, float]:
    """Plan and run the first ``partitions`` of ``table``; (partitions, wall s). Every outcome must be ``expect``."""
    tasks = sorted(plan(lake, [Layer.BRONZE], parents, None, tables=[table]), key=lambda t: (t.stage.symbol, t.key))
    tasks = tasks[:partitions]
    t0 = time.perf_counter()
    results = run_tasks(tasks, workers=1)
    seconds = time.perf_counter() - t0
    counts = Counter(r.outcome for r in results)
    if counts[expect] != len(tasks):
        raise SystemExit(f"{lake.name}: unexpected outcomes {dict(counts)}")
    return len(tasks), seconds


def measure(root: Path, partitions: int) -> tuple[str, list[list[str]]]:
    parents, schemas, table, start, end = dataset(partitions)
    files = write_dataset(root / "incoming", parents, schemas, start, end, split="month", seed=3)
    rows: list[list[str]] = []
    with moto_server() as endpoint:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                          AWS_DEFAULT_REGION="us-east-1", RST_CACHE_DIR=str(root / "mirror"))  # fmt: skip
        from rst.framework.objectstore import client

        bucket = f"rst-bench-{uuid.uuid4().hex[:8]}"
        client().create_bucket(Bucket=bucket)
        requests = Requests()
        client().meta.events.register("before-call.s3", requests)
        local, _ = Lake.create(root / "local")
        remote, _ = Lake.create(f"s3://{bucket}/lake")
        for lake in (local, remote):
            zone = RawZone(lake.root)
            for f in files:
                zone.import_file(f)
        time.sleep(0.2)  # past the racy-mtime window, so no run waits for it
        passes: list[tuple[str, Outcome, str | None]] = [("build", Outcome.BUILT, None),
                                                          ("up-to-date rerun", Outcome.SKIPPED, None),
                                                          ("up-to-date rerun, empty mirror", Outcome.SKIPPED, "other")]  # fmt: skip
        for name, expect, other_host in passes:
            n, local_s = build(local, parents, table, partitions, expect)
            if other_host:
                os.environ["RST_CACHE_DIR"] = str(root / other_host)
                remote = Lake.open(remote.remote)
            before = requests.count
            n, remote_s = build(remote, parents, table, partitions, expect)
            calls = (requests.count - before) / n
            for label, seconds, extra, per in (
                ("local", local_s, "", ""),
                ("s3 (moto)", remote_s, f"{(remote_s - local_s) / n * 1000:.1f}", f"{calls:.1f}"),
            ):
                rows.append([label, name, str(n), f"{seconds:.2f}", f"{n / seconds:.1f}", f"{seconds / n * 1000:.1f}", extra, per])  # fmt: skip
    return f"bronze {table} of {', '.join(parents)}", rows


def bench_objectstore(work: Path, partitions: int) -> list[Any]:
    """The table for ``python -m benchmarks`` (``benchmarks.run.Table``)."""
    from benchmarks.run import Table

    what, rows = measure(work / "objectstore", partitions)
    tab = Table(f"Backfill on an s3:// lake (moto, loopback) vs a local lake: {what}", HEADER)
    tab.rows = rows
    tab.notes = [
        "inline runs (one process): overhead ms/partition = (s3 wall - local wall) / partitions, in the same pass",
        "requests/partition: S3 API calls made by rst per partition (lease, pointer, uploads, GC listing)",
    ]
    return [tab]


if __name__ == "__main__":
    from benchmarks.run import standalone

    standalone(__doc__.splitlines()[0], bench_objectstore, "rst-bench-objectstore-")

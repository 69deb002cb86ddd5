"""``rst run --executor dask`` on a real Dask ``LocalCluster`` (2 worker processes, loopback), shared by this module.

The demo pipeline run on the cluster equals a process-pool run; a worker killed while it runs a
partition fails that partition only, and the rerun builds exactly that one: each partition is
built once in total, and Dask processes each task at most once.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rst.cli.main import cli
from rst.cluster.dask_executor import DaskExecutor, dask_executor
from rst.demo import run_demo
from rst.framework.lake import Lake, Layer
from rst.framework.lock import PartitionLock
from rst.framework.manifest import read_manifest
from rst.framework.partition import Partition
from rst.framework.stage import Outcome, PartitionResult
from rst.ops.pipeline import run_pipeline
from rst.stages.registry import stages_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskExecutor]:
    """The executor ``rst run --executor dask --workers 2`` uses, on its own local cluster."""
    with dask_executor(None, workers=2) as executor:
        yield executor


def prepared_lake(root: Path, start: dt.date, end: dt.date) -> Lake:
    """A lake holding the demo's raw ES files and its saved series, nothing built."""
    lake, _ = Lake.create(root)
    run_demo(lake, parents=("ES",), start=start, end=end, layers=())
    time.sleep(0.05)  # past the racy-mtime window of the imported files
    return lake


def partition_dirs(lake: Lake) -> dict[str, Path]:
    """Every built partition directory (the ones holding a manifest), by path relative to the lake."""
    return {lake.relative(m.parent): m.parent for layer in Layer for m in lake.layer_dir(layer).rglob("_MANIFEST.json")}


def comparable(directory: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(manifest without times and input file identities, part file bytes) of a partition."""
    manifest = read_manifest(directory)
    assert manifest is not None, directory
    doc = asdict(manifest)
    for name in ("started_at", "finished_at", "seconds"):
        doc.pop(name)
    for item in doc["inputs"]:
        item.pop("mtime_ns"), item.pop("inode")
    return doc, {p.name: p.read_bytes() for p in sorted(directory.glob("*.parquet"))}


def scheduler_processings(executor: DaskExecutor) -> Counter[str]:
    """How often the scheduler sent each task key to a worker (its transition log)."""

    def processing(dask_scheduler: Any) -> list[str]:
        return [str(t.key) for t in dask_scheduler.transition_log if t.finish == "processing"]

    return Counter(executor.client.run_on_scheduler(processing))


def test_demo_on_dask_equals_process_pool(cluster: DaskExecutor, tmp_path: Path) -> None:
    template = prepared_lake(tmp_path / "template", dt.date(2024, 1, 1), dt.date(2024, 3, 1))
    pool_lake, dask_lake = (Lake(shutil.copytree(template.root, tmp_path / n, symlinks=True)) for n in ("pool", "dask"))
    pool = run_pipeline(pool_lake, ["ES"], workers=2)
    assert {r.outcome for r in pool} == {Outcome.BUILT}
    assert {r.partition.layer for r in pool} == set(Layer)

    scheduler = cluster.client.scheduler.address
    args = ["run", "--lake", str(dask_lake.root), "--executor", "dask", "--scheduler", scheduler, "-q"]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, (out.output, out.exception)

    built = partition_dirs(dask_lake)
    assert sorted(built) == sorted(partition_dirs(pool_lake))
    assert len(built) == len(pool)
    for relative, directory in built.items():
        assert comparable(directory) == comparable(pool_lake.root / relative), relative
    assert scheduler_tasks(cluster) == 0  # the run's client released everything it submitted


def scheduler_tasks(executor: DaskExecutor) -> int:
    """How many tasks the scheduler still tracks (a finished one it tracks can be recomputed)."""
    return int(executor.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)))


def test_finished_tasks_leave_the_cluster_while_their_futures_live(cluster: DaskExecutor) -> None:
    futures = [cluster.submit(pow, 2, n) for n in range(8)]
    assert [f.result(timeout=60) for f in futures] == [2**n for n in range(8)]
    deadline = time.monotonic() + 10
    while scheduler_tasks(cluster) and time.monotonic() < deadline:  # released from the client's event loop
        time.sleep(0.02)
    assert scheduler_tasks(cluster) == 0  # although ``futures`` still holds every result


def waiting_worker(executor: DaskExecutor, lock: Path) -> int | None:
    """The pid of the worker process that has ``lock`` open (blocked on it: the test holds it), if any."""
    for pid in executor.client.run(os.getpid).values():
        fds = Path(f"/proc/{pid}/fd")
        for fd in fds.iterdir() if fds.is_dir() else ():
            try:
                if os.readlink(fd) == str(lock):
                    return int(pid)
            except OSError:
                continue
    return None


def test_killed_worker_fails_its_partition_and_the_rerun_builds_only_it(cluster: DaskExecutor, tmp_path: Path) -> None:
    lake = prepared_lake(tmp_path / "lake", dt.date(2023, 1, 1), dt.date(2024, 1, 1))
    (hourly,) = [s for s in stages_for(lake, Layer.BRONZE, "ES") if s.table == "ohlcv_1h"]
    keys = hourly.available_keys()
    assert len(keys) >= 8
    victim, held = hourly.partition(keys[3]), hourly.partition(keys[6])
    # the test holds both partitions' locks: the workers running them block, deterministically, mid-run
    locks = {p: PartitionLock(lake, p) for p in (victim, held)}
    for lock in locks.values():
        lock.acquire()
    results: list[PartitionResult] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            run_pipeline(lake, ["ES"], layers=[Layer.BRONZE], executor=cluster, on_result=results.append)
        except BaseException as exc:  # re-raised by the test thread
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 90
        while (pid := waiting_worker(cluster, locks[victim].path)) is None or waiting_worker(
            cluster, locks[held].path
        ) is None:
            assert time.monotonic() < deadline and thread.is_alive(), "no worker reached the held partitions"
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)  # the victim's worker dies while the other worker is blocked on ``held``
    finally:
        for lock in locks.values():
            lock.release()
        thread.join(120)
    assert not thread.is_alive() and not failure, failure

    by_partition: dict[Partition, list[PartitionResult]] = {}
    for r in results:
        by_partition.setdefault(r.partition, []).append(r)
    assert all(len(rs) == 1 for rs in by_partition.values())  # one result per partition
    (lost,) = by_partition[victim]
    assert lost.outcome is Outcome.FAILED and "died" in (lost.error or ""), lost.error
    assert {p for p, (r,) in by_partition.items() if r.outcome is not Outcome.BUILT} == {victim}
    assert by_partition[held][0].outcome is Outcome.BUILT  # released after the kill: the run went on
    first = {rel: d.joinpath("_MANIFEST.json").read_bytes() for rel, d in partition_dirs(lake).items()}
    assert len(first) == len(by_partition) - 1  # the killed attempt committed nothing

    again = run_pipeline(lake, ["ES"], layers=[Layer.BRONZE], executor=cluster)
    assert [r.partition for r in again if r.outcome is Outcome.BUILT] == [victim]
    assert {r.outcome for r in again if r.partition != victim} == {Outcome.SKIPPED}
    second = {rel: d.joinpath("_MANIFEST.json").read_bytes() for rel, d in partition_dirs(lake).items()}
    assert {rel: second[rel] for rel in first} == first  # built once in total: no partition rebuilt
    assert len(second) == len(first) + 1
    # at the Dask level too: no task was ever sent to a worker twice (no rerun of a dead worker's task)
    assert max(scheduler_processings(cluster).values()) == 1

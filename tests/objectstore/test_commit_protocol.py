"""The commit protocol of an ``s3://`` lake against a real S3 server: pointer, lease, crash, readers, GC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from toystage import SYMBOL, ToyStage, expected_rows, write_raw

import rst.framework.parts as parts_mod
from rst.errors import InputMissing, PartitionLocked
from rst.framework.lake import Lake, Layer
from rst.framework.lease import Lease
from rst.framework.objectlake import ObjectStorage
from rst.framework.objectstore import PreconditionFailed
from rst.framework.partition import Granularity, PartitionKey
from rst.framework.pointer import ATTEMPTS, publish, read_pointer
from rst.framework.stage import Outcome
from rst.read import current_files, read_table

KEY = PartitionKey(Granularity.DAY, "2024-03-01")
WORKER = Path(__file__).parent / "s3_worker.py"


def storage_of(lake: Lake) -> ObjectStorage:
    storage = lake.storage
    assert isinstance(storage, ObjectStorage)
    return storage


def partition_rel(lake: Lake) -> str:
    return lake.relative(ToyStage(lake, SYMBOL).partition(KEY).path(lake))


def attempts(lake: Lake) -> set[str]:
    prefix = f"{partition_rel(lake)}/{ATTEMPTS}/"
    return {o.rel[len(prefix) :].split("/", 1)[0] for o in storage_of(lake).bucket.list(prefix)}


def rows(lake: Lake) -> set[tuple[int, int]]:
    df = read_table(Layer.BRONZE, SYMBOL, "toy", lake=lake)
    return set(zip(df["ts_event"].dt.epoch("ns").to_list(), df["price"].to_list(), strict=True))


@pytest.fixture
def toy_lake(s3_lake: Lake, toy_schemas: Path) -> Lake:
    """An ``s3://`` lake whose mirror holds the toy stage's raw inputs (40 non-negative values)."""
    write_raw(s3_lake, KEY, "a.txt", list(range(1, 41)))
    return s3_lake


def test_a_build_is_published_through_its_pointer(toy_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert ToyStage(toy_lake, SYMBOL, {"mult": 3}).run(KEY).outcome is Outcome.BUILT
    pointer, etag = read_pointer(storage_of(toy_lake).bucket, partition_rel(toy_lake))
    assert pointer is not None and etag is not None and attempts(toy_lake) == {pointer.attempt}
    assert rows(toy_lake) == expected_rows(toy_lake, KEY, 3)
    files = current_files(Layer.BRONZE, SYMBOL, "toy", lake=toy_lake)
    assert files and all(f.startswith(f"{toy_lake.remote}/") and f"/{ATTEMPTS}/{pointer.attempt}/" in f for f in files)
    assert ToyStage(toy_lake, SYMBOL, {"mult": 3}).run(KEY).outcome is Outcome.SKIPPED
    # another host (an empty mirror) resolves the same version and finds it up to date
    monkeypatch.setenv("RST_CACHE_DIR", str(tmp_path / "other-host"))
    other = Lake.open(toy_lake.remote)
    assert other.root != toy_lake.root and rows(other) == expected_rows(toy_lake, KEY, 3)
    write_raw(other, KEY, "a.txt", list(range(1, 41)))  # the toy's raw files live outside the catalogue
    assert ToyStage(other, SYMBOL, {"mult": 3}).run(KEY).outcome is Outcome.SKIPPED


def test_two_concurrent_writers_one_wins(toy_lake: Lake):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write() -> None:
        barrier.wait()
        try:
            outcomes.append(ToyStage(toy_lake, SYMBOL, {"mult": 2}).run(KEY, lock_timeout=0).outcome.value)
        except PartitionLocked:
            outcomes.append("locked")

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) in (["built", "locked"], ["built", "skipped"])
    assert len(attempts(toy_lake)) == 1
    assert rows(toy_lake) == expected_rows(toy_lake, KEY, 2)


def test_of_racing_pointer_publishers_exactly_one_wins(s3_lake: Lake):
    bucket = storage_of(s3_lake).bucket
    previous: str | None = None

    def race(i: int, expected: str | None, barrier: threading.Barrier, won: list[str], lost: list[int]) -> None:
        barrier.wait()
        try:
            won.append(publish(bucket, "bronze/x", f"{time.time_ns()}-{i:012d}", "0" * 64, expected))
        except PreconditionFailed:
            lost.append(i)

    for round_ in range(8):  # the first round races on IfNoneMatch, the others on IfMatch
        barrier = threading.Barrier(4)
        won: list[str] = []
        lost: list[int] = []
        threads = [threading.Thread(target=race, args=(i, previous, barrier, won, lost)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1 and len(lost) == 3, f"round {round_}: {len(won)} publishers won"
        previous = won[0]
    assert read_pointer(bucket, "bronze/x")[1] == previous


def test_a_lease_excludes_until_released_or_expired(s3_lake: Lake):
    bucket = storage_of(s3_lake).bucket
    holder = Lease(bucket, "_locks/p.lease", "p", seconds=0.6)
    holder.acquire()
    time.sleep(1.0)  # longer than the lease: only its renewals keep it
    with pytest.raises(PartitionLocked):
        Lease(bucket, "_locks/p.lease", "p", timeout=0).acquire()
    holder.release()
    with Lease(bucket, "_locks/p.lease", "p", timeout=0):
        pass
    # a dead holder's lease (never renewed) is taken over once expired
    bucket.put("_locks/p.lease", json.dumps({"owner": "dead", "expires": time.time() + 0.5}).encode())
    taker = Lease(bucket, "_locks/p.lease", "p", timeout=5)
    started = time.monotonic()
    taker.acquire()
    assert time.monotonic() - started >= 0.3
    taker.release()
    assert bucket.get("_locks/p.lease") is None


def test_a_writer_killed_between_parts_and_pointer(toy_lake: Lake, tmp_path: Path):
    assert ToyStage(toy_lake, SYMBOL, {"mult": 1}).run(KEY).outcome is Outcome.BUILT
    bucket = storage_of(toy_lake).bucket
    before = read_pointer(bucket, partition_rel(toy_lake))
    env = {**os.environ, "RST_TEST_KILL_AT": "before_pointer", "RST_LEASE_SECONDS": "1"}
    args = {"uri": toy_lake.remote, "key": KEY.value, "repeat": [{"mult": 5}]}
    proc = subprocess.run([sys.executable, str(WORKER), json.dumps(args)], env=env, timeout=120)
    assert proc.returncode == -9
    # readers still see the old version, whole; the orphan attempt is there but named by no pointer
    assert read_pointer(bucket, partition_rel(toy_lake)) == before
    assert rows(toy_lake) == expected_rows(toy_lake, KEY, 1)
    assert len(attempts(toy_lake)) == 2
    # the next run takes over the dead writer's expired lease and completes
    assert ToyStage(toy_lake, SYMBOL, {"mult": 5}).run(KEY, lock_timeout=30).outcome is Outcome.BUILT
    assert rows(toy_lake) == expected_rows(toy_lake, KEY, 5)
    current = read_pointer(bucket, partition_rel(toy_lake))[0]
    assert current is not None and len(attempts(toy_lake)) == 3  # old and orphan wait out the grace period
    assert storage_of(toy_lake).collect(grace_seconds=0) == 2
    assert attempts(toy_lake) == {current.attempt}
    assert rows(toy_lake) == expected_rows(toy_lake, KEY, 5)


@pytest.mark.slow
def test_a_reader_never_sees_a_mix_or_nothing_during_30_rebuilds(toy_lake: Lake, tmp_path: Path):
    """A reader resolves the pointer in a loop while another process rebuilds the partition 30 times.

    Each build writes 10 parts (4 rows each) with another multiplier, so a mix of two versions,
    a partial version or no partition at all would show in the rows.
    """
    parts_mod_rows = parts_mod.ROWS_PER_FILE
    assert ToyStage(toy_lake, SYMBOL, {"mult": 1, "batch": 4}).run(KEY).outcome is Outcome.BUILT
    builds = [expected_rows(toy_lake, KEY, m) for m in (1, 2)]
    out = tmp_path / "out.json"
    args = {"uri": toy_lake.remote, "key": KEY.value, "out": str(out),
            "repeat": [{"mult": 2 if i % 2 == 0 else 1, "batch": 4} for i in range(30)]}  # fmt: skip
    env = {**os.environ, "RST_TEST_ROWS_PER_FILE": "4"}
    proc = subprocess.Popen([sys.executable, str(WORKER), json.dumps(args)], env=env)
    problems: list[str] = []
    reads = 0
    while True:
        done = proc.poll() is not None
        try:
            seen = rows(toy_lake)
            reads += 1
            if seen not in builds:
                problems.append(f"a mix or nothing ({len(seen)} rows)")
        except Exception as exc:
            problems.append(repr(exc))
        if done:
            break
    assert proc.wait() == 0
    assert json.loads(out.read_text()) == ["built"] * 30
    assert problems == [] and reads > 5
    assert parts_mod.ROWS_PER_FILE == parts_mod_rows
    assert len(storage_of(toy_lake).table_versions(Layer.BRONZE, SYMBOL, "toy")[0][2].outputs) == 10


def test_invalidate_takes_the_partition_away_and_the_next_run_rebuilds_it(toy_lake: Lake):
    stage = ToyStage(toy_lake, SYMBOL, {"mult": 4})
    assert stage.run(KEY).outcome is Outcome.BUILT
    assert stage.invalidate(KEY) is True
    assert read_pointer(storage_of(toy_lake).bucket, partition_rel(toy_lake)) == (None, None)
    with pytest.raises(InputMissing):
        rows(toy_lake)
    assert stage.run(KEY).outcome is Outcome.BUILT
    assert rows(toy_lake) == expected_rows(toy_lake, KEY, 4)

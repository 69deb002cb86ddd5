"""One writer per partition: racing runs serialise on the partition lock; the lock dies with its holder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from toystage import check_manifest_matches_files, staging_leftovers

from rst.errors import PartitionLocked
from rst.framework.lock import PartitionLock
from rst.framework.stage import Outcome, PartitionState


def _wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _log_lines(log: Path) -> list[tuple[str, int]]:
    if not log.exists():
        return []
    return [(w, int(pid)) for w, pid in (line.split() for line in log.read_text().splitlines())]


def _assert_never_concurrent(lines: list[tuple[str, int]]) -> list[int]:
    """Each transform runs start..end with no other transform's lines in between; returns the pids in order."""
    order = []
    current = None
    for what, pid in lines:
        if what == "start":
            assert current is None, f"transform of {pid} started while {current}'s was running"
            current = pid
            order.append(pid)
        else:
            assert pid == current, f"{what} of {pid} inside the transform of {current}"
            if what == "end":
                current = None
    assert current is None
    return order


@pytest.fixture
def race(tmp_path, run_worker):
    """Start two workers that call run() at the same moment; the first transform holds until released."""
    log, hold, go = tmp_path / "transform.log", tmp_path / "release", tmp_path / "go"
    env = {"RST_TEST_TOY_LOG": str(log), "RST_TEST_TOY_HOLD": str(hold)}

    def start(**args):
        outs = [tmp_path / f"out{i}.json" for i in range(2)]
        procs = [run_worker({**args, "go": str(go), "out": str(o)}, env) for o in outs]
        go.touch()
        return procs, outs

    return start, log, hold


def test_two_runs_one_builds_the_other_skips(stage, key, part_dir, race, lake):
    start, log, hold = race
    procs, outs = start()
    _wait_for(lambda: any(w == "holding" for w, _ in _log_lines(log)), "a transform to start")
    with pytest.raises(PartitionLocked):  # the holder has the lock while its transform runs
        PartitionLock(lake, stage.partition(key), timeout=0).acquire()
    hold.touch()
    assert [p.wait(60) for p in procs] == [0, 0]
    outcomes = sorted(json.loads(o.read_text())[0] for o in outs)
    assert outcomes == ["built", "skipped"]
    assert len(_assert_never_concurrent(_log_lines(log))) == 1  # the transform ran exactly once
    check_manifest_matches_files(part_dir)
    assert stage.state(key) == (PartitionState.DONE, "")


def test_two_forced_runs_build_one_after_the_other(stage, key, part_dir, race):
    start, log, hold = race
    procs, outs = start(force=True)
    _wait_for(lambda: any(w == "holding" for w, _ in _log_lines(log)), "a transform to start")
    hold.touch()
    assert [p.wait(60) for p in procs] == [0, 0]
    assert [json.loads(o.read_text()) for o in outs] == [["built"], ["built"]]
    order = _assert_never_concurrent(_log_lines(log))
    assert sorted(order) == sorted(p.pid for p in procs)
    check_manifest_matches_files(part_dir)


def test_lock_timeout_zero_fails_cleanly(stage, key, part_dir, race, lake):
    start, log, hold = race
    procs, outs = start(lock_timeout=0)
    _wait_for(lambda: any(w == "holding" for w, _ in _log_lines(log)), "a transform to start")
    with pytest.raises(PartitionLocked, match="bronze/ES/toy/dt=2024-03-01"):
        stage.run(key, lock_timeout=0)
    assert stage.state(key)[0] is PartitionState.MISSING  # a lock refusal is not a failure
    _wait_for(lambda: any(o.exists() for o in outs), "the loser to give up")
    hold.touch()
    assert [p.wait(60) for p in procs] == [0, 0]
    assert sorted(json.loads(o.read_text())[0] for o in outs) == ["built", "locked"]
    check_manifest_matches_files(part_dir)


def test_lock_dies_with_a_sigkilled_holder(stage, key, part_dir, tmp_path, run_worker, lake):
    log, hold = tmp_path / "transform.log", tmp_path / "never"
    proc = run_worker({}, {"RST_TEST_TOY_LOG": str(log), "RST_TEST_TOY_HOLD": str(hold)})
    _wait_for(lambda: any(w == "holding" for w, _ in _log_lines(log)), "the holder's transform")
    with pytest.raises(PartitionLocked):
        stage.run(key, lock_timeout=0)
    proc.kill()  # SIGKILL: no cleanup, no unlock
    assert proc.wait(60) < 0
    assert not part_dir.exists()
    assert staging_leftovers(lake) != []  # the dead writer's staging dir...
    result = stage.run(key, lock_timeout=30)
    assert result.outcome is Outcome.BUILT
    assert staging_leftovers(lake) == []  # ...swept by the next run
    check_manifest_matches_files(part_dir)

"""Proof under faults: concurrent runners, a worker SIGKILLed mid-run, a corrupt raw file, a full disk,
and Ctrl-C. Each test states the guarantee it checks in its name."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from opshelpers import (
    assert_interrupted_then_finished,
    last_run,
    raw_files,
    rst_process,
    staging_files,
    states,
    states_of,
    status_json,
    tree_snapshot,
)

import rst.framework.parts as parts_mod
from rst.framework.lake import Layer
from rst.framework.runlog import RunStatus, read_runs
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome
from rst.framework.verify import verify_lake
from rst.stages.registry import plan

pytestmark = pytest.mark.slow


def _complete(lake) -> set[str]:
    return {label for label, state in states_of(lake).items() if state == "done"}


def test_two_runners_over_overlapping_dates_build_each_partition_once(raw_lake, cli_run):
    env = {"RST_TEST_SLOW": "0.05"}
    a = rst_process(raw_lake, "run", "--layer", "bronze", "--dates", "2024-01-01..2024-02-20", "-q", env=env)
    b = rst_process(raw_lake, "run", "--layer", "bronze", "--dates", "2024-02-01..2024-04-30", "-q", env=env)
    for p in (a, b):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    runs = read_runs(raw_lake)
    assert len(runs) == 2
    bronze = [label for label in states_of(raw_lake) if label.startswith("bronze/")]
    # definition, ohlcv_1d year=2024 and month=2024-02 are in both plans: each is built once, skipped once
    assert sum(r.count(Outcome.BUILT) for r in runs) == len(bronze)
    assert sum(r.count(Outcome.SKIPPED) for r in runs) == sum(r.count(Outcome.BUILT) + r.count(Outcome.SKIPPED)
                                                              for r in runs) - len(bronze)  # fmt: skip
    assert not verify_lake(raw_lake)
    assert cli_run(raw_lake, "run", "-q").exit_code == 0
    assert set(states_of(raw_lake).values()) == {"done"}
    assert not verify_lake(raw_lake)


def test_worker_sigkilled_mid_run_then_rerun_builds_exactly_the_missing(raw_lake):
    victim = "bronze/ES/ohlcv_1h/month=2024-02"
    p = rst_process(raw_lake, "run", "--workers", "2", "-q", env={"RST_TEST_KILL_ON": victim})
    out, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert f"FAILED {victim}: worker process died" in err
    assert last_run(raw_lake).status is RunStatus.FAILED
    problems = verify_lake(raw_lake)
    assert not problems, problems  # no partial partition anywhere
    done = _complete(raw_lake)
    assert victim not in done
    everything = set(states_of(raw_lake))

    results = run_tasks(plan(raw_lake, list(Layer), ["ES"], None))
    built = {r.partition.label for r in results if r.outcome is Outcome.BUILT}
    skipped = {r.partition.label for r in results if r.outcome is Outcome.SKIPPED}
    assert not [r for r in results if r.outcome is Outcome.FAILED]
    assert built == everything - done and skipped == done
    assert not staging_files(raw_lake)  # the dead writers' staging dirs were swept
    assert set(states_of(raw_lake).values()) == {"done"}


def test_corrupt_raw_file_fails_only_its_partitions_naming_the_file(raw_lake, cli_run):
    (path,) = [p for p in raw_files(raw_lake, "ohlcv-1h") if "-20240201-" in p.name]
    os.chmod(path, 0o644)
    os.truncate(path, path.stat().st_size // 2)
    result = cli_run(raw_lake, "run", "--layer", "all")
    assert result.exit_code == 1
    run = last_run(raw_lake)
    errors = [e for e in run.errors]
    assert errors and run.count(Outcome.FAILED) == len(errors)
    failed = [e for e in errors if "not built: its input" not in e]
    assert failed and all(e.startswith("bronze/ES/ohlcv_1h/month=2024-0") and path.name in e for e in failed)
    # what reads a failed partition is not built from the old one: it names the failed input
    roots = {e.split(": ", 1)[0] for e in failed}
    blocked = [e for e in errors if e not in failed]
    assert blocked and all(e.split("not built: its input ", 1)[1].split(" ", 1)[0] in roots | {b.split(": ", 1)[0] for b in blocked} for e in blocked)
    assert all(e.startswith(("silver/ES/ohlcv_1h/", "silver/ES/ohlcv_1d_session/", "gold/")) for e in blocked)
    st = states_of(raw_lake)
    assert {label for label, s in st.items() if s == "failed"} == roots
    # every partition not reading the file is done (silver of a failed month has nothing to read yet)
    for label, state in st.items():
        if state != "failed" and not label.startswith(("silver/ES/ohlcv_1h/", "silver/ES/ohlcv_1d_session/", "gold/")):
            assert state == "done", (label, state)
    assert "bronze/ES/ohlcv_1h/month=2024-01" in _complete(raw_lake)
    assert not [p for p in verify_lake(raw_lake, raw=False)]


def _inject_enospc(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Make every Parquet part write fail with ENOSPC after a torn partial file, whichever writer the framework uses."""

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if hasattr(parts_mod, "_write_parquet"):  # polars writer seam: write half a file, then the disk is full

        def torn(table, path):  # type: ignore[no-untyped-def]
            Path(path).write_bytes(b"PAR1" + b"\0" * 4096)
            full()

        monkeypatch.setattr(parts_mod, "_write_parquet", torn)
    else:
        monkeypatch.setattr(pq.ParquetWriter, "write_table", full)


def test_disk_full_during_write_leaves_previous_partition_intact(demo_lake, cli_run, monkeypatch):
    target = "bronze/source=databento/product_type=future/parent=ES/table=ohlcv_1h/month=2024-02"
    before = tree_snapshot(demo_lake.root / target)

    _inject_enospc(monkeypatch)
    result = cli_run(demo_lake, "run", "--layer", "bronze", "--table", "ohlcv_1h", "--dt", "2024-02-15", "--force")
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert tree_snapshot(demo_lake.root / target) == before
    assert not staging_files(demo_lake)
    assert not verify_lake(demo_lake)
    doc = status_json(cli_run, demo_lake)
    assert states(doc)["bronze/ES/ohlcv_1h/month=2024-02"] == "failed"

    monkeypatch.undo()
    assert cli_run(demo_lake, "run", "--layer", "all", "-q").exit_code == 0
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}


def test_ctrl_c_stops_cleanly_and_the_next_run_finishes(raw_lake, cli_run):
    p = rst_process(raw_lake, "run", "--workers", "2", env={"RST_TEST_SLOW": "0.4"}, start_new_session=True)
    bronze = raw_lake.root / "bronze"
    deadline = time.monotonic() + 60
    while not list(bronze.rglob("_SUCCESS")):
        assert p.poll() is None and time.monotonic() < deadline, "no partition committed"
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted:" in err and "rerun to finish" in err
    assert "Traceback" not in err
    assert_interrupted_then_finished(raw_lake, cli_run, "the interrupt")

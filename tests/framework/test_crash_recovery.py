"""Guarantee 2: a writer SIGKILLed at any step leaves the old complete partition or the new one, never a mix.

A worker process (``toy_worker.py``) rebuilds an existing partition with different content and
kills itself with SIGKILL at a chosen step. Then hive readers (polars, pyarrow) must see exactly
the old rows or the new rows, the manifest must describe the files on disk, and the next run must
sweep the dead writer's staging dir and complete.
"""

from __future__ import annotations

import glob
import json
import random
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from toystage import (
    QUARANTINE,
    SYMBOL,
    ToyStage,
    check_manifest_matches_files,
    expected_rows,
    rows_polars,
    rows_pyarrow,
    staging_leftovers,
    trash_leftovers,
    write_raw,
)

import rst.framework.parts as parts_mod
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.stage import Outcome, PartitionState

KILL_POINTS = [
    "transform",  # between two batches of transform()
    "parts_written",  # Parquet parts complete in staging, no manifest
    "before_success",  # manifest written, _SUCCESS not yet
    "before_quarantine_swap",  # both partitions staged and sealed, nothing swapped
    "between_swaps",  # quarantine partition swapped in, main not yet
    "before_swap",  # right before the main swap
    "after_exchange",  # renameat2 done: new partition in the table, old one in _staging
    "after_swap",  # swap complete, before run() returns
]
OLD, NEW = 1, 2


def _seen(lake: Lake, key) -> int:
    """Which build (OLD or NEW mult) readers see; asserts they agree and see a whole one."""
    table_dir = lake.table_dir(Layer.BRONZE, SYMBOL, "toy")
    seen_polars, seen_arrow = rows_polars(table_dir), rows_pyarrow(table_dir)
    assert seen_polars == seen_arrow
    builds = {mult: expected_rows(lake, key, mult) for mult in (OLD, NEW)}
    matches = [mult for mult, rows in builds.items() if rows == seen_polars]
    assert len(matches) == 1, f"readers see neither the old nor the new partition: {sorted(seen_polars)}"
    m = check_manifest_matches_files(table_dir / key.dirname)
    assert m.params["mult"] == matches[0]
    return matches[0]


def _check_quarantine_complete(lake: Lake, key) -> None:
    qdir = lake.table_dir(Layer.BRONZE, SYMBOL, QUARANTINE) / key.dirname
    if qdir.exists():
        m = check_manifest_matches_files(qdir)
        assert rows_pyarrow(qdir.parent) == expected_rows(lake, key, m.params["mult"], quarantined=True)


def _crash_and_recover(lake, key, run_worker, kill_at, rows_per_file, next_mult, monkeypatch):
    monkeypatch.setattr(parts_mod, "ROWS_PER_FILE", rows_per_file)
    assert ToyStage(lake, SYMBOL, {"mult": OLD}).run(key).outcome is Outcome.BUILT

    proc = run_worker({"params": {"mult": NEW}, "rows_per_file": rows_per_file}, env={"RST_TEST_KILL_AT": kill_at})
    assert proc.wait(60) == -signal.SIGKILL, f"the worker never reached {kill_at}"

    seen = _seen(lake, key)
    assert seen == (NEW if kill_at in ("after_exchange", "after_swap") else OLD)
    _check_quarantine_complete(lake, key)

    nxt = ToyStage(lake, SYMBOL, {"mult": next_mult})
    quarantine_swapped = kill_at in ("between_swaps", "before_swap")
    expected = Outcome.SKIPPED if next_mult == seen and not quarantine_swapped else Outcome.BUILT
    assert nxt.run(key).outcome is expected
    assert staging_leftovers(lake) == []
    assert trash_leftovers(lake) == []
    _check_trash_holds_whole_partitions(lake)
    assert _seen(lake, key) == next_mult
    _check_quarantine_complete(lake, key)
    qdir = lake.table_dir(Layer.BRONZE, SYMBOL, QUARANTINE) / key.dirname
    assert read_manifest(qdir).params == {"mult": next_mult}  # the quarantine belongs to the main partition
    assert nxt.state(key) == (PartitionState.DONE, "")


def _check_trash_holds_whole_partitions(lake: Lake) -> None:
    """Every ``_trash`` entry is a complete swapped-out partition waiting for its grace period, never debris."""
    trash = lake.internal("trash")
    for entry in trash.iterdir() if trash.exists() else []:
        check_manifest_matches_files(entry)


def _examples(test):
    """Every kill point once (rebuild to NEW after the crash), and the crash-then-revert cases."""
    base = {"rows_per_file": 3, "values": [5, 7, 11, 13, 17, 19, 2, 4, 8, 10], "negatives": [-6], "order": 0}
    for kill_at in KILL_POINTS:
        test = example(kill_at=kill_at, next_mult=NEW, **base)(test)
    for kill_at in ("between_swaps", "after_exchange"):
        test = example(kill_at=kill_at, next_mult=OLD, **base)(test)
    return test


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kill_at=st.sampled_from(KILL_POINTS),
    rows_per_file=st.integers(1, 12),
    values=st.lists(st.integers(1, 99), min_size=1, max_size=12),  # > 0: OLD and NEW builds differ
    negatives=st.lists(st.integers(-99, -1), min_size=1, max_size=3),  # a quarantine in both builds
    next_mult=st.sampled_from([OLD, NEW]),
    order=st.integers(0, 2**16),
)
@_examples
def test_sigkill_leaves_old_or_new_partition(
    tmp_path_factory, schemas, key, run_worker, monkeypatch, kill_at, rows_per_file, values, negatives, next_mult, order
):
    lake = Lake(tmp_path_factory.mktemp("lake"))
    mixed = values + negatives
    random.Random(order).shuffle(mixed)
    write_raw(lake, key, "a.txt", mixed)
    with monkeypatch.context() as m:
        _crash_and_recover(lake, key, _worker_on(run_worker, lake), kill_at, rows_per_file, next_mult, m)


def _worker_on(run_worker, lake):
    return lambda args, env=None: run_worker({"lake": str(lake.root), **args}, env)


def _vanished(exc: Exception) -> bool:
    """A reader whose file listing predates a swap finds a listed file gone.

    pyarrow's dataset discovery may also drop the vanished file while inferring the schema,
    leaving a dataset with no data columns at all ("No match for FieldRef" on a schema of
    only its own ``__fragment_index``-style fields): loud, never a silent mix.
    """
    text = str(exc)
    no_columns = "No match for FieldRef" in text and "__fragment_index" in text
    return isinstance(exc, FileNotFoundError) or "No such file" in text or "not found" in text.lower() or no_columns


def rows_pyarrow_listed(table_dir: Path) -> set[tuple[int, int]]:
    """Rows as pyarrow reads an explicit file list (one glob), as docs/ARCHITECTURE.md recommends.

    Not ``ds.dataset(<dir>)``: pyarrow's directory discovery (like DuckDB's glob) lists a directory,
    then stats each entry by path and silently skips entries gone by then, so a discovery that straddles
    a swap can miss the partition without an error. Given the files, pyarrow fails loudly instead.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    files = sorted(glob.glob(f"{table_dir}/*/*.parquet"))
    if not files:
        raise AssertionError("no file listed: no partition visible")
    dataset = ds.dataset(files, partitioning=ds.HivePartitioning.discover(), partition_base_dir=str(table_dir))
    t = dataset.to_table(columns=["ts_event", "price"])
    ts = t.column("ts_event").cast(pa.int64()).to_pylist()
    return set(zip(ts, t.column("price").to_pylist(), strict=False))


@pytest.mark.parametrize("rows_per_file", [1000, 4], ids=["one-part", "many-parts"])
def test_readers_never_see_a_mix_during_rebuilds(lake, key, run_worker, monkeypatch, tmp_path, rows_per_file):
    """A reader loops over the table while a writer rebuilds the partition 30 times (exchange path).

    Every read sees the old or the new partition whole. A reader whose listing (or whose metadata
    read) straddles a swap may find a listed part gone (part names carry a content id); it must
    never get a mix, a partial file or nothing. "Nothing" happened when the swapped-out directory,
    whose listing a reader had begun just before the exchange, was deleted at once (its readdir then
    returns no name); it now waits whole in ``_trash`` for the grace period, so the listing returns the
    old names and opening them fails loudly. ``benchmarks/soak_readers.py`` runs this test 50 times on
    loaded cores.
    """
    write_raw(lake, key, "a.txt", list(range(1, 41)))
    monkeypatch.setattr(parts_mod, "ROWS_PER_FILE", rows_per_file)
    ToyStage(lake, SYMBOL, {"mult": OLD, "batch": 4}).run(key)
    builds = [expected_rows(lake, key, m) for m in (OLD, NEW)]
    table_dir = lake.table_dir(Layer.BRONZE, SYMBOL, "toy")

    go = tmp_path / "go"
    out = tmp_path / "out.json"
    repeat = [{"mult": NEW if i % 2 == 0 else OLD, "batch": 4} for i in range(30)]
    proc = run_worker({"repeat": repeat, "force": True, "rows_per_file": rows_per_file, "go": str(go), "out": str(out)})
    problems: list[str] = []
    vanished = reads = 0
    while True:
        done = proc.poll() is not None
        for reader in (rows_polars, rows_pyarrow_listed):
            try:
                rows = reader(table_dir)
            except Exception as exc:
                if _vanished(exc):
                    vanished += 1
                else:
                    problems.append(f"{reader.__name__}: {exc!r}")
                continue
            if rows not in builds:
                problems.append(f"{reader.__name__}: a mix or nothing ({len(rows)} rows)")
            reads += 1
        go.touch()
        if done:
            break
    assert proc.returncode == 0
    assert json.loads(out.read_text()) == ["built"] * 30
    assert problems == []
    assert reads > 2
    assert staging_leftovers(lake) == [] and trash_leftovers(lake) == []
    _check_trash_holds_whole_partitions(lake)
    assert read_manifest(table_dir / key.dirname).params["mult"] == OLD

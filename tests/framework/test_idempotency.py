"""Guarantee 1: a complete, up-to-date partition is skipped; anything in its lineage changing rebuilds it."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toystage import (
    QUARANTINE,
    SYMBOL,
    TABLE,
    TOY_AVSC,
    ToyStage,
    check_manifest_matches_files,
    data_files,
    expected_rows,
    raw_dir,
    rows_pyarrow,
    snapshot,
    write_raw,
)

from rst.errors import StageError
from rst.framework.contract import load_contract
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.stage import Outcome, PartitionState


def test_second_run_is_skipped_and_leaves_files_untouched(stage, key, part_dir, quarantine_dir):
    assert stage.run(key).outcome is Outcome.BUILT
    before, q_before = snapshot(part_dir), snapshot(quarantine_dir / key.dirname)
    result = stage.run(key)
    assert result.outcome is Outcome.SKIPPED
    assert result.rows_out == read_manifest(part_dir).rows_out
    assert snapshot(part_dir) == before  # same bytes, same mtimes: nothing rewritten
    assert snapshot(quarantine_dir / key.dirname) == q_before
    assert stage.state(key) == (PartitionState.DONE, "")


def test_force_rebuilds_byte_identical_data(stage, key, part_dir, quarantine_dir):
    stage.run(key)
    data, q_data = data_files(part_dir), data_files(quarantine_dir / key.dirname)
    first = read_manifest(part_dir)
    assert stage.run(key, force=True).outcome is Outcome.BUILT
    assert data_files(part_dir) == data
    assert data_files(quarantine_dir / key.dirname) == q_data
    second = read_manifest(part_dir)
    assert second.started_at >= first.started_at
    assert _without_times(second) == _without_times(first)


def test_changed_raw_input_rebuilds(stage, lake, key, part_dir):
    stage.run(key)
    write_raw(lake, key, "b.txt", [3, 1, 4, 1, 5, 9, 2, 6])
    state, reason = stage.state(key)
    assert state is PartitionState.STALE
    assert "raw/toy/2024-03-01/b.txt" in reason
    assert stage.run(key).outcome is Outcome.BUILT
    assert rows_pyarrow(part_dir.parent) == expected_rows(lake, key, 1)
    assert stage.state(key) == (PartitionState.DONE, "")


def test_same_size_rewrite_within_one_timestamp_tick_rebuilds(stage, lake, key, part_dir):
    """A rewrite that keeps size and mtime, as on a filesystem with coarse timestamps.

    The file's mtime is "now" (here: set ahead of the clock) when the stage hashes it, so a later
    rewrite in the same tick keeps the same mtime; the up-to-date check must not trust it.
    """
    path = raw_dir(lake, key) / "a.txt"
    tick = time.time_ns() + 60 * 10**9
    os.utime(path, ns=(tick, tick))
    stage.run(key)
    content = path.read_bytes()
    write_raw(lake, key, "a.txt", [6, 8, 12, 14, 18, 20])  # same number of digits: same size
    os.utime(path, ns=(tick, tick))
    assert path.read_bytes() != content and len(path.read_bytes()) == len(content)
    assert stage.state(key)[0] is PartitionState.STALE
    assert stage.run(key).outcome is Outcome.BUILT
    assert rows_pyarrow(part_dir.parent) == expected_rows(lake, key, 1)
    assert stage.run(key).outcome is Outcome.SKIPPED


def test_old_unchanged_input_is_not_rehashed(stage, lake, key, monkeypatch):
    """The cheap check: an input whose mtime is safely in the past and unchanged is not re-read."""
    for p in raw_dir(lake, key).iterdir():
        os.utime(p, ns=(10**18, 10**18))  # 2001
    stage.run(key)
    import rst.framework.stage as stage_mod

    def no_hash(path):
        raise AssertionError(f"re-hashed {path}")

    monkeypatch.setattr(stage_mod, "sha256_file", no_hash)
    assert stage.run(key).outcome is Outcome.SKIPPED


def test_new_raw_input_rebuilds(stage, lake, key):
    stage.run(key)
    write_raw(lake, key, "c.txt", [100])
    assert stage.state(key) == (PartitionState.STALE, "input raw/toy/2024-03-01/c.txt is new")
    assert stage.run(key).outcome is Outcome.BUILT


def test_version_change_rebuilds(stage, make_stage, key, part_dir):
    stage.run(key)

    class ToyV2(ToyStage):
        version = "2"

    v2 = make_stage(cls=ToyV2)
    assert v2.state(key) == (PartitionState.STALE, "stage version 1 -> 2")
    assert v2.run(key).outcome is Outcome.BUILT
    assert read_manifest(part_dir).stage_version == "2"
    assert v2.run(key).outcome is Outcome.SKIPPED


def test_params_change_rebuilds(stage, make_stage, lake, key, part_dir):
    stage.run(key)
    tripled = make_stage({"mult": 3})
    assert tripled.state(key) == (PartitionState.STALE, "parameters changed: mult")
    assert tripled.run(key).outcome is Outcome.BUILT
    assert rows_pyarrow(part_dir.parent) == expected_rows(lake, key, 3)
    assert tripled.run(key).outcome is Outcome.SKIPPED
    assert stage.run(key).outcome is Outcome.BUILT  # and back


def test_contract_change_rebuilds(stage, schemas, key, part_dir):
    stage.run(key)
    old_fp = read_manifest(part_dir).schema_fingerprint
    changed = json.loads(json.dumps(TOY_AVSC))
    changed["fields"][1]["doc"] = "price, int64 fixed-point 1e-9"
    (schemas / "bronze" / f"{TABLE}.avsc").write_text(json.dumps(changed))
    load_contract.cache_clear()
    assert stage.state(key) == (PartitionState.STALE, "contract changed")
    assert stage.run(key).outcome is Outcome.BUILT
    assert read_manifest(part_dir).schema_fingerprint != old_fp


def test_state_missing_done_and_after_invalidate(stage, key, part_dir, quarantine_dir):
    assert stage.state(key) == (PartitionState.MISSING, "no complete partition")
    stage.run(key)
    assert stage.state(key) == (PartitionState.DONE, "")
    assert stage.invalidate(key) is True
    assert not part_dir.exists() and not (quarantine_dir / key.dirname).exists()
    assert stage.state(key)[0] is PartitionState.MISSING
    assert stage.invalidate(key) is False
    assert stage.run(key).outcome is Outcome.BUILT


def test_no_input_is_not_built(make_stage, key, part_dir):
    assert make_stage().run(key).outcome is Outcome.NO_INPUT
    assert not part_dir.exists()


def test_state_failed_then_done(stage, make_stage, key, part_dir):
    stage.run(key)
    before = snapshot(part_dir)
    with pytest.raises(StageError, match="toy transform exploded"):
        make_stage({"bad": "boom"}).run(key)
    state, reason = stage.state(key)
    assert state is PartitionState.FAILED
    assert "bronze/toy [dt=2024-03-01]" in reason and "exploded" in reason
    assert snapshot(part_dir) == before
    assert stage.run(key).outcome is Outcome.SKIPPED  # the partition is intact and up to date
    assert stage.state(key) == (PartitionState.DONE, "")


def test_transient_failure_then_retry(stage, key, monkeypatch):
    def boom(self, ctx):
        raise OSError("disk on fire")

    with monkeypatch.context() as m:
        m.setattr(ToyStage, "transform", boom)
        with pytest.raises(StageError) as info:
            stage.run(key)
    assert isinstance(info.value.__cause__, OSError)
    assert stage.state(key) == (PartitionState.FAILED, "bronze/toy [dt=2024-03-01] failed: disk on fire")
    assert stage.run(key).outcome is Outcome.BUILT
    assert stage.state(key) == (PartitionState.DONE, "")


# ---- property: whatever happened before, a final run equals a fresh build ----------------------

values = st.lists(st.integers(-20, 120), min_size=1, max_size=9)
operations = st.lists(
    st.one_of(
        st.just(("run",)),
        st.just(("force",)),
        st.just(("delete",)),
        st.just(("invalidate",)),
        st.tuples(st.just("change"), st.sampled_from(["a.txt", "b.txt", "c.txt"]), values),
        st.tuples(st.just("params"), st.integers(1, 3)),
    ),
    max_size=8,
)


def _without_times(m: Any) -> dict[str, Any]:
    d = dataclasses.asdict(m)
    for k in ("started_at", "finished_at", "seconds"):
        d.pop(k)
    d["inputs"] = [{k: v for k, v in i.items() if k not in ("mtime_ns", "inode")} for i in d["inputs"]]
    return d


def _partition_view(lake: Lake, key) -> dict[str, Any]:
    view = {}
    for table in (TABLE, QUARANTINE):
        d = lake.table_dir(Layer.BRONZE, SYMBOL, table) / key.dirname
        if d.exists():
            m = check_manifest_matches_files(d)
            view[table] = (data_files(d), _without_times(m) | {"stage": None})
        else:
            view[table] = None
    return view


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, final_mult=st.integers(1, 3), first=values)
def test_final_run_equals_fresh_build(schemas, key, ops, final_mult, first):
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp) / "lake")
        write_raw(lake, key, "a.txt", first)
        mult = 1
        for op in ops:
            stage = ToyStage(lake, SYMBOL, {"mult": mult})
            if op[0] == "run":
                stage.run(key)
            elif op[0] == "force":
                stage.run(key, force=True)
            elif op[0] == "delete":
                shutil.rmtree(stage.partition(key).path(lake), ignore_errors=True)
            elif op[0] == "invalidate":
                stage.invalidate(key)
            elif op[0] == "change":
                write_raw(lake, key, op[1], op[2])
            else:
                mult = op[1]
        final = ToyStage(lake, SYMBOL, {"mult": final_mult})
        final.run(key)
        assert final.state(key) == (PartitionState.DONE, "")

        fresh_lake = Lake(Path(tmp) / "fresh")
        shutil.copytree(lake.raw, fresh_lake.raw)
        fresh = ToyStage(fresh_lake, SYMBOL, {"mult": final_mult})
        assert fresh.run(key).outcome is Outcome.BUILT
        assert _partition_view(lake, key) == _partition_view(fresh_lake, key)
        assert rows_pyarrow(lake.table_dir(Layer.BRONZE, SYMBOL, TABLE)) == expected_rows(lake, key, final_mult)

"""The commit protocol: staging outside the table, swap onto missing or existing targets, trash-first removal."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from toystage import expected_rows, rows_polars, rows_pyarrow, snapshot, staging_leftovers, trash_leftovers, write_raw

import rst.framework.commit as commit
from rst.errors import StageError
from rst.framework.commit import new_staging_dir, remove_partition, swap_in, sweep_staging
from rst.framework.manifest import read_manifest
from rst.framework.stage import Outcome


def _staged(lake, stage, key, files: dict[str, bytes]) -> Path:
    staging = new_staging_dir(lake, stage.partition(key))
    for name, data in files.items():
        (staging / name).write_bytes(data)
    return staging


def test_staging_dir_is_outside_the_table(lake, stage, key, table_dir):
    staging = new_staging_dir(lake, stage.partition(key))
    assert staging.is_dir() and not any(staging.iterdir())
    assert staging.is_relative_to(lake.internal("staging"))
    assert not staging.is_relative_to(table_dir)


def test_swap_onto_missing_target(lake, stage, key, part_dir):
    staging = _staged(lake, stage, key, {"x": b"new"})
    swap_in(lake, staging, part_dir)
    assert not staging.exists()
    assert (part_dir / "x").read_bytes() == b"new"
    assert staging_leftovers(lake) == [] and trash_leftovers(lake) == []


def test_swap_onto_existing_target_exchanges(lake, stage, key, part_dir, monkeypatch):
    swap_in(lake, _staged(lake, stage, key, {"old": b"old"}), part_dir)
    calls = []
    real = commit._exchange
    monkeypatch.setattr(commit, "_exchange", lambda a, b: calls.append((a, b)) or real(a, b))
    staging = _staged(lake, stage, key, {"new": b"new"})
    swap_in(lake, staging, part_dir)
    assert calls and calls[0][1] == part_dir
    assert sorted(p.name for p in part_dir.iterdir()) == ["new"]
    assert not staging.exists()
    assert staging_leftovers(lake) == [] and trash_leftovers(lake) == []


def test_swap_fallback_without_exchange(lake, stage, key, part_dir, monkeypatch):
    monkeypatch.setattr(commit, "_exchange", lambda a, b: False)
    swap_in(lake, _staged(lake, stage, key, {"old": b"old"}), part_dir)
    swap_in(lake, _staged(lake, stage, key, {"new": b"new"}), part_dir)
    assert sorted(p.name for p in part_dir.iterdir()) == ["new"]
    assert staging_leftovers(lake) == [] and trash_leftovers(lake) == []


def test_fallback_restores_old_partition_when_rename_fails(lake, stage, key, part_dir, monkeypatch):
    swap_in(lake, _staged(lake, stage, key, {"old": b"old"}), part_dir)
    staging = _staged(lake, stage, key, {"new": b"new"})
    monkeypatch.setattr(commit, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        if Path(src) == staging:
            raise OSError(errno.EIO, "injected")
        return real_rename(src, dst)

    monkeypatch.setattr(commit.os, "rename", rename)
    with pytest.raises(OSError):
        swap_in(lake, staging, part_dir)
    assert (part_dir / "old").read_bytes() == b"old"  # the old partition is back, not lost in _trash


def test_stage_run_uses_fallback_path(stage, lake, key, part_dir, monkeypatch):
    monkeypatch.setattr(commit, "_exchange", lambda a, b: False)
    stage.run(key)
    stage2 = type(stage)(lake, stage.symbol, {"mult": 2})
    assert stage2.run(key).outcome is Outcome.BUILT
    assert rows_polars(part_dir.parent) == expected_rows(lake, key, 2)
    assert staging_leftovers(lake) == [] and trash_leftovers(lake) == []


def test_remove_partition_moves_to_trash_first(lake, stage, key, part_dir, monkeypatch):
    stage.run(key)
    seen = []
    real_rmtree = commit.shutil.rmtree

    def rmtree(path, *args, **kwargs):
        seen.append((Path(path), part_dir.exists()))
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(commit.shutil, "rmtree", rmtree)
    assert remove_partition(lake, part_dir) is True
    assert seen and seen[0][0].is_relative_to(lake.internal("trash"))
    assert seen[0][1] is False  # gone from the table before deletion started
    assert not part_dir.exists() and trash_leftovers(lake) == []
    assert remove_partition(lake, part_dir) is False


def test_sweep_staging_removes_only_this_partitions_dirs(lake, stage, key):
    from rst.framework.partition import PartitionKey

    mine = new_staging_dir(lake, stage.partition(key))
    other = new_staging_dir(lake, stage.partition(PartitionKey(key.granularity, "2024-03-02")))
    assert sweep_staging(lake, stage.partition(key)) == 1
    assert not mine.exists() and other.exists()


@pytest.mark.parametrize("where", ["parquet", "parquet_half_written", "manifest"])
def test_failing_write_leaves_previous_partition_intact(stage, make_stage, lake, key, part_dir, monkeypatch, where):
    stage.run(key)
    before = snapshot(part_dir)
    q_before = snapshot(part_dir.parent.parent / "table=toy_quarantine" / key.dirname)

    def enospc(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    import rst.framework.stage as stage_mod

    def half_then_enospc(table, path):
        path.write_bytes(b"PAR1 half a file")
        enospc()

    if where == "parquet":
        monkeypatch.setattr(stage_mod, "_write_parquet", enospc)
    elif where == "parquet_half_written":
        monkeypatch.setattr(stage_mod, "_write_parquet", half_then_enospc)
    else:
        import rst.framework.manifest as manifest

        monkeypatch.setattr(manifest, "_write_synced", enospc)
    write_raw(lake, key, "c.txt", [1, -2, 3])  # a different build: quarantine changes too
    with pytest.raises(StageError) as info:
        make_stage().run(key)
    assert info.value.cause.errno == errno.ENOSPC
    assert snapshot(part_dir) == before
    assert snapshot(part_dir.parent.parent / "table=toy_quarantine" / key.dirname) == q_before
    assert read_manifest(part_dir) is not None
    assert staging_leftovers(lake) == []
    assert rows_pyarrow(part_dir.parent) == {r for r in _old_rows(lake, key)}


def _old_rows(lake, key):
    """Rows of the build before c.txt was added."""
    (lake.raw / "toy" / key.value / "c.txt").chmod(0o644)
    moved = lake.raw / "toy" / "c.txt.aside"
    os.rename(lake.raw / "toy" / key.value / "c.txt", moved)
    try:
        return expected_rows(lake, key, 1)
    finally:
        os.rename(moved, lake.raw / "toy" / key.value / "c.txt")

"""The commit protocol: staging outside the table, swap onto missing or existing targets, trash-first removal,
swapped-out partitions kept whole in ``_trash`` for a grace period, then purged."""

from __future__ import annotations

import errno
import os
import sys
import time
from pathlib import Path

import pytest
from toystage import expected_rows, rows_polars, rows_pyarrow, snapshot, staging_leftovers, trash_leftovers, write_raw

import rst.framework.commit as commit
from rst.errors import StageError
from rst.framework.commit import (
    expired_trash,
    new_staging_dir,
    purge_trash,
    remove_partition,
    swap_in,
    sweep_staging,
    to_trash,
)
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


def _trash_contents(lake) -> list[list[str]]:
    """File names of each ``_trash`` entry, in trash order."""
    trash = lake.internal("trash")
    return [sorted(p.name for p in entry.iterdir()) for entry in sorted(trash.iterdir())] if trash.exists() else []


def test_swap_onto_existing_target_exchanges(lake, stage, key, part_dir, monkeypatch):
    swap_in(lake, _staged(lake, stage, key, {"old": b"old"}), part_dir)
    calls = []
    real = commit._exchange
    monkeypatch.setattr(commit, "_exchange", lambda a, b: calls.append((a, b, real(a, b))) or calls[-1][2])
    staging = _staged(lake, stage, key, {"new": b"new"})
    swap_in(lake, staging, part_dir)
    assert calls and Path(calls[0][1]).name == part_dir.name
    assert sorted(p.name for p in part_dir.iterdir()) == ["new"]
    assert not staging.exists()
    assert staging_leftovers(lake) == [] and trash_leftovers(lake) == []
    assert _trash_contents(lake) == [["old"]]  # the old partition waits whole for its grace period


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux-only")
def test_this_filesystem_takes_the_exchange_path(lake, stage, key, part_dir, monkeypatch):
    """The tmp filesystem (where the reader tests run) supports RENAME_EXCHANGE: no fallback, no gap."""
    assert commit._renameat2() is not None
    swap_in(lake, _staged(lake, stage, key, {"old": b"old"}), part_dir)
    monkeypatch.setattr(commit, "to_trash", _no_fallback(commit.to_trash, part_dir))
    swap_in(lake, _staged(lake, stage, key, {"new": b"new"}), part_dir)
    assert sorted(p.name for p in part_dir.iterdir()) == ["new"]


def _no_fallback(real, part_dir):
    """``to_trash`` that fails if asked to move the live partition (the fallback path's first step)."""

    def to_trash(lake, path):
        assert Path(path).name != part_dir.name, "fallback path taken: the live partition went to the trash"
        return real(lake, path)

    return to_trash


def test_reader_holding_the_old_partition_still_reads_it_whole_after_a_swap(lake, stage, key, part_dir):
    """Issue 9 item 5: a reader that opened the partition directory just before the swap lists and reads
    every old file afterwards (the old directory is kept whole in ``_trash``, not deleted)."""
    old = {"part-00000-aaa.parquet": b"old-0", "part-00001-aaa.parquet": b"old-1", "_SUCCESS": b"x"}
    swap_in(lake, _staged(lake, stage, key, old), part_dir)
    fd = os.open(part_dir, os.O_RDONLY | os.O_DIRECTORY)  # the reader's listing starts here
    try:
        swap_in(lake, _staged(lake, stage, key, {"part-00000-bbb.parquet": b"new-0", "_SUCCESS": b"y"}), part_dir)
        assert sorted(os.listdir(fd)) == sorted(old)
        for name, data in old.items():
            f = os.open(name, os.O_RDONLY, dir_fd=fd)
            try:
                assert os.read(f, 100) == data
            finally:
                os.close(f)
    finally:
        os.close(fd)


def test_swap_fallback_without_exchange(lake, stage, key, part_dir, monkeypatch):
    monkeypatch.setattr(commit, "_exchange", lambda a, b: False)
    swap_in(lake, _staged(lake, stage, key, {"old": b"old"}), part_dir)
    swap_in(lake, _staged(lake, stage, key, {"new": b"new"}), part_dir)
    assert sorted(p.name for p in part_dir.iterdir()) == ["new"]
    assert staging_leftovers(lake) == [] and trash_leftovers(lake) == []
    assert _trash_contents(lake) == [["old"]]


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
    assert len(_trash_contents(lake)) == 2  # the old main and quarantine partitions, whole


def test_remove_partition_moves_to_trash_first(lake, stage, key, part_dir):
    stage.run(key)
    files = sorted(p.name for p in part_dir.iterdir())
    assert remove_partition(lake, part_dir) is True
    assert not part_dir.exists()
    assert _trash_contents(lake) == [files]  # whole, in the trash, for the grace period
    assert purge_trash(lake) == 0 and trash_leftovers(lake) == []
    assert purge_trash(lake, grace_seconds=0) == 1
    assert _trash_contents(lake) == []
    assert remove_partition(lake, part_dir) is False


def test_trash_purge_keeps_fresh_entries_and_deletes_expired_ones(lake, stage, key, part_dir):
    """Issue 9 item 9: ``_trash`` entries are purged once older than the grace period (by the stamp in
    their name, else their lstat mtime), by the next swap or removal."""
    stage.run(key)
    fresh = to_trash(lake, part_dir)
    trash = lake.internal("trash")
    hour_ago = time.time_ns() - 3600 * 10**9
    stamped = trash / f"{hour_ago}-dt=2024-02-01-0123456789ab"
    stamped.mkdir()
    (stamped / "part.parquet").write_bytes(b"old")
    unstamped_old, unstamped_new = trash / "left-by-hand-old", trash / "left-by-hand-new"
    unstamped_old.mkdir()
    unstamped_new.mkdir()
    os.utime(unstamped_old, ns=(hour_ago, hour_ago))
    assert expired_trash(lake) == sorted([stamped, unstamped_old])
    stage.run(key)  # a build swaps in and purges what expired
    left = set(trash.iterdir())
    assert {fresh, unstamped_new} <= left and not {stamped, unstamped_old} & left
    assert (fresh / "_SUCCESS").exists()  # the fresh entry is still whole


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

    import rst.framework.parts as stage_mod

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

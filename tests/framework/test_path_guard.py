"""Item 1 of issue 9: a symlink planted anywhere in the lake never makes rst write or delete outside it.

Each test plants a symlink to a sibling ``victim`` directory (holding files) at one place inside a tmp
lake, then runs, invalidates or sweeps, and requires the victim to be byte-for-byte and mtime-for-mtime
unchanged. Internal trees (``_staging``, ``_trash``, ``_locks``, ``_failures``) are rst's own: a link
there is unlinked, the link itself, and replaced by a real directory. In the table tree a symlinked
directory is refused with a one-line :class:`LakeError`; a symlink planted as the partition itself is
swapped out or removed as a link.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from toystage import QUARANTINE, TABLE, expected_rows, rows_pyarrow

from rst.errors import LakeError, StageError
from rst.framework.commit import purge_trash, sweep_staging
from rst.framework.lake import Lake
from rst.framework.lock import PartitionLock
from rst.framework.stage import Outcome, PartitionState


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A directory outside the lake that must never change: files, a subdirectory, a partition-like dir."""
    root = tmp_path / "victim"
    (root / "sub").mkdir(parents=True)
    (root / "precious.txt").write_text("do not touch\n")
    (root / "sub" / "deep.txt").write_text("nor this\n")
    (root / "dt=2024-03-01").mkdir()  # looks like the partition a planted parent link would expose
    (root / "dt=2024-03-01" / "part.parquet").write_bytes(b"not yours")
    return root


def tree(root: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """Every entry under ``root`` (and ``root`` itself): mode, size, mtime_ns, bytes; links not followed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [".", *dirnames, *filenames]:
            path = Path(dirpath) / name
            st = os.lstat(path)
            data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
            out[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, data)
    return out


def plant(link: Path, target: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=target.is_dir())
    return link


# ---------------------------------------------------------------- Lake.guard


def test_guard_accepts_inside_and_keeps_the_last_component(lake: Lake, victim: Path) -> None:
    lake.root.mkdir(parents=True)
    link = plant(lake.root / "_trash" / "x", victim)
    assert lake.guard(link) == Path(os.path.realpath(lake.root)) / "_trash" / "x"  # the link, not its target
    assert lake.guard(lake.root / "a" / "b") == Path(os.path.realpath(lake.root)) / "a" / "b"


@pytest.mark.parametrize("rel", ["..", "../victim", "a/../../victim/precious.txt", "."])
def test_guard_refuses_escapes_and_the_root(lake: Lake, victim: Path, rel: str) -> None:
    lake.root.mkdir(parents=True)
    with pytest.raises(LakeError, match="outside the lake|does not end in a name") as info:
        lake.guard(lake.root / rel)
    assert "\n" not in str(info.value)


def test_guard_refuses_a_symlinked_parent(lake: Lake, victim: Path) -> None:
    plant(lake.root / "_staging", victim)
    with pytest.raises(LakeError, match=r"resolves to .*victim.*outside the lake"):
        lake.guard(lake.root / "_staging" / "precious.txt")


# ---------------------------------------------------------------- internal trees: links unlinked


def test_symlinked_staging_dir_is_unlinked_not_followed(stage, lake, key, victim, part_dir) -> None:
    before = tree(victim)
    plant(lake.internal("staging"), victim)
    assert stage.run(key).outcome is Outcome.BUILT
    assert tree(victim) == before
    assert not lake.internal("staging").is_symlink() and lake.internal("staging").is_dir()
    assert rows_pyarrow(part_dir.parent) == expected_rows(lake, key, 1)


def test_symlink_planted_as_a_stale_staging_dir_is_unlinked(stage, lake, key, victim) -> None:
    before = tree(victim)
    slug = stage.partition(key).slug
    link = plant(lake.internal("staging") / slug.parent / f"{key.dirname}.999.deadbeef", victim)
    assert sweep_staging(lake, stage.partition(key)) == 1
    assert not os.path.lexists(link)
    assert tree(victim) == before


def test_symlinked_staging_subdir_is_unlinked(stage, lake, key, victim) -> None:
    before = tree(victim)
    slug = stage.partition(key).slug
    plant(lake.internal("staging") / slug.parent, victim)  # .../table=toy -> victim
    assert stage.run(key).outcome is Outcome.BUILT
    assert tree(victim) == before
    assert not (lake.internal("staging") / slug.parent).is_symlink()


def test_symlinked_trash_dir_is_unlinked_not_followed(stage, make_stage, lake, key, victim) -> None:
    stage.run(key)
    before = tree(victim)
    plant(lake.internal("trash"), victim)
    assert make_stage({"mult": 2}).run(key).outcome is Outcome.BUILT  # swaps the old partition out to _trash
    assert stage.invalidate(key) is True
    purge_trash(lake, grace_seconds=0)
    assert tree(victim) == before
    assert not lake.internal("trash").is_symlink()


def test_symlink_inside_trash_is_unlinked_by_the_purge(lake, victim) -> None:
    before = tree(victim)
    lake.internal("trash").mkdir(parents=True)
    link = plant(lake.internal("trash") / "1000000000000000000-dt=2024-03-01-0123456789ab", victim)  # expired
    assert purge_trash(lake) == 1
    assert not os.path.lexists(link)
    assert tree(victim) == before


def test_symlinked_failures_dir_is_unlinked(make_stage, raw, lake, key, victim) -> None:
    before = tree(victim)
    plant(lake.internal("failures"), victim)
    bad = make_stage({"bad": "boom"})
    with pytest.raises(StageError):
        bad.run(key)
    assert tree(victim) == before
    assert bad.state(key)[0] is PartitionState.FAILED  # recorded in a real _failures dir
    assert not lake.internal("failures").is_symlink()


def test_symlink_planted_as_a_failure_record_is_replaced_not_followed(make_stage, raw, lake, key, victim) -> None:
    before = tree(victim)
    slug = make_stage().partition(key).slug
    record = lake.internal("failures") / slug.parent / f"{slug.name}.json"
    plant(record, victim / "precious.txt")
    with pytest.raises(StageError):
        make_stage({"bad": "boom"}).run(key)
    assert not record.is_symlink() and "toy transform exploded" in record.read_text()
    assert make_stage().run(key).outcome is Outcome.BUILT  # clears the record: unlinks, never follows
    assert not os.path.lexists(record)
    assert tree(victim) == before


def test_symlink_planted_as_a_lock_file_is_replaced(stage, lake, key, victim) -> None:
    before = tree(victim)
    slug = stage.partition(key).slug
    plant(lake.internal("locks") / slug.parent / f"{slug.name}.lock", victim / "made-by-rst")  # dangling
    with PartitionLock(lake, stage.partition(key), timeout=0):
        pass
    assert tree(victim) == before
    assert not (victim / "made-by-rst").exists()


# ---------------------------------------------------------------- the table tree


def test_symlink_planted_as_a_partition_dir_is_swapped_out_not_followed(stage, lake, key, part_dir, victim) -> None:
    before = tree(victim)
    plant(part_dir, victim)
    assert stage.run(key).outcome is Outcome.BUILT
    assert not part_dir.is_symlink() and rows_pyarrow(part_dir.parent) == expected_rows(lake, key, 1)
    assert stage.invalidate(key) is True
    purge_trash(lake, grace_seconds=0)  # the link went to the trash: the purge unlinks it
    assert tree(victim) == before
    assert list(lake.internal("trash").iterdir()) == []


def test_invalidating_a_symlinked_partition_removes_the_link_only(stage, lake, key, part_dir, victim) -> None:
    before = tree(victim)
    plant(part_dir, victim)
    assert stage.invalidate(key) is True
    purge_trash(lake, grace_seconds=0)
    assert not os.path.lexists(part_dir)
    assert tree(victim) == before


@pytest.mark.parametrize("linked", [TABLE, QUARANTINE])
def test_symlinked_table_dir_is_refused_by_run_and_invalidate(stage, lake, key, table_dir, victim, linked) -> None:
    before = tree(victim)
    plant(table_dir.parent / f"table={linked}", victim)  # victim/dt=2024-03-01 now looks like the partition
    with pytest.raises(StageError, match="is a symlink inside the lake") as info:
        stage.run(key)
    assert "\n" not in str(info.value)
    with pytest.raises(LakeError, match="is a symlink inside the lake"):
        stage.invalidate(key)
    assert tree(victim) == before

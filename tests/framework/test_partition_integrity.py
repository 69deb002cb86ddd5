"""Issue 9 item 2: a partition is done only while its directory holds exactly what its manifest lists.

Each test tampers with a built toy partition behind the lake's back: a planted file, a deleted
part, a part of another size, a part with flipped bytes of the same size (found by verify).
The partition must then be ``corrupt`` (the file named), readers must refuse it, and a run
without ``--force`` must rebuild it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from toystage import expected_rows

from rst.errors import PartitionCorrupt
from rst.framework.integrity import record_path
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.stage import Outcome, PartitionState
from rst.framework.verify import verify_lake
from rst.read import partition_files, read_table


def _part(part_dir: Path) -> Path:
    (part,) = part_dir.glob("part-*.parquet")
    return part


def _rows(lake: Lake) -> set[tuple[int, int]]:
    frame = read_table(Layer.BRONZE, "ES", "toy", lake=lake)
    return set(zip(frame["ts_event"].dt.epoch("ns").to_list(), frame["price"].to_list(), strict=True))


def _assert_corrupt_then_rebuilt(stage, key, lake: Lake, part_dir: Path, needle: str) -> None:
    state, reason = stage.state(key)
    assert state is PartitionState.CORRUPT and needle in reason, reason
    assert stage.skip_result(key) is None  # the runner's precheck does not settle it
    with pytest.raises(PartitionCorrupt, match=needle.replace(".", r"\.")) as caught:
        read_table(Layer.BRONZE, "ES", "toy", lake=lake)
    assert "\n" not in str(caught.value) and lake.relative(part_dir) in str(caught.value)
    assert stage.run(key).outcome is Outcome.BUILT  # no --force needed
    assert stage.state(key) == (PartitionState.DONE, "")
    assert _rows(lake) == expected_rows(lake, key, 1)


def test_planted_file_is_corrupt_refused_and_rebuilt(stage, key, lake, part_dir):
    stage.run(key)
    shutil.copy(_part(part_dir), part_dir / "part-99999-planted.parquet")  # would double every row
    assert read_manifest(part_dir) is not None  # the manifest and its stamps are untouched
    _assert_corrupt_then_rebuilt(stage, key, lake, part_dir, "part-99999-planted.parquet is not listed")
    assert not (part_dir / "part-99999-planted.parquet").exists()


def test_planted_non_parquet_file_is_refused_too(stage, key, lake, part_dir):
    stage.run(key)
    (part_dir / "notes.txt").write_text("hello")
    _assert_corrupt_then_rebuilt(stage, key, lake, part_dir, "notes.txt is not listed")


def test_missing_part_is_corrupt_refused_and_rebuilt(stage, key, lake, part_dir):
    stage.run(key)
    part = _part(part_dir)
    part.unlink()
    _assert_corrupt_then_rebuilt(stage, key, lake, part_dir, f"{part.name} is listed in its manifest but missing")


def test_part_of_wrong_size_is_corrupt_refused_and_rebuilt(stage, key, lake, part_dir):
    stage.run(key)
    part = _part(part_dir)
    size = part.stat().st_size
    with open(part, "ab") as f:
        f.write(b"\0")
    _assert_corrupt_then_rebuilt(stage, key, lake, part_dir, f"{part.name} has {size + 1} bytes")


def test_partition_files_reads_only_the_listed_parts(stage, key, part_dir):
    stage.run(key)
    listed = [part_dir / o.path for o in read_manifest(part_dir).outputs]
    assert partition_files(part_dir) == listed
    (part_dir / "part-00000-aaaaaaaaaaaa.parquet").write_bytes(_part(part_dir).read_bytes())
    with pytest.raises(PartitionCorrupt, match="part-00000-aaaaaaaaaaaa.parquet is not listed"):
        partition_files(part_dir)


def test_planted_file_in_the_quarantine_twin_makes_the_partition_corrupt(stage, key, quarantine_dir):
    stage.run(key)
    q_dir = quarantine_dir / key.dirname
    (q_dir / "extra.parquet").write_bytes(b"x")
    state, reason = stage.state(key)
    assert state is PartitionState.CORRUPT and reason.startswith("quarantine partition: extra.parquet")
    assert stage.run(key).outcome is Outcome.BUILT
    assert not (q_dir / "extra.parquet").exists() and stage.state(key)[0] is PartitionState.DONE


def test_flipped_byte_of_same_size_found_by_verify_then_rebuilt(stage, key, lake, part_dir):
    stage.run(key)
    part = _part(part_dir)
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    assert stage.state(key)[0] is PartitionState.DONE  # same size: only a re-hash can tell

    problems = verify_lake(lake, raw=False)
    assert [(p.kind, p.path) for p in problems] == [("corrupt", f"{lake.relative(part_dir)}/{part.name}")]
    record = record_path(lake, part_dir)
    assert record.is_file() and record.is_relative_to(lake.internal("verify"))

    state, reason = stage.state(key)
    assert state is PartitionState.CORRUPT and "rst verify found" in reason and part.name in reason
    with pytest.raises(PartitionCorrupt, match=part.name):
        read_table(Layer.BRONZE, "ES", "toy", lake=lake)
    assert stage.skip_result(key) is None
    assert stage.run(key).outcome is Outcome.BUILT  # the record voids itself: a new _SUCCESS
    assert stage.state(key) == (PartitionState.DONE, "")
    assert verify_lake(lake, raw=False) == []
    assert not record.exists()  # verified clean: the record is gone

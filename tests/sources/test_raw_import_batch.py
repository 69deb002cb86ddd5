"""Batched imports: fewer fsyncs, the same catalogue, and never an entry durable before its file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from rst.framework.lake import Lake
from rst.ops.importing import ImportStatus, import_files
from rst.sources import raw_zone
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dataset


@pytest.fixture(scope="module")
def dbn_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six small files: ES and NQ, daily bars and definitions, 2022-2023 by year (some pairs share a folder)."""
    folder = tmp_path_factory.mktemp("incoming")
    return write_dataset(folder, ["ES", "NQ"], ["ohlcv-1d", "definition"], dt.date(2022, 1, 1), dt.date(2024, 1, 1),
                         split="year", seed=5)  # fmt: skip


def _journal(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record, in order, directory fsyncs and catalogue entries moved into place, and count every fsync."""
    events: list[tuple[str, str]] = []
    real_dir, real_replace, real_fsync = raw_zone._fsync_dir, os.replace, os.fsync

    def fsync_dir(path: Path) -> None:
        events.append(("dir", str(path)))
        real_dir(path)

    def replace(src: object, dst: object) -> None:
        if f"{os.sep}_catalog{os.sep}" in str(dst) and str(dst).endswith(".json"):
            events.append(("entry", str(dst)))
        real_replace(src, dst)  # type: ignore[arg-type]

    def fsync(fd: int) -> None:
        events.append(("fsync", ""))
        real_fsync(fd)

    monkeypatch.setattr(raw_zone, "_fsync_dir", fsync_dir)
    monkeypatch.setattr(raw_zone.os, "replace", replace)
    monkeypatch.setattr(raw_zone.os, "fsync", fsync)
    return events


def test_batch_writes_every_entry_after_the_directories_of_all_files(tmp_path, dbn_files, monkeypatch) -> None:
    events = _journal(monkeypatch)
    outcomes = import_files(Lake(tmp_path), dbn_files)
    assert [o.status for o in outcomes] == [ImportStatus.IMPORTED] * len(dbn_files)
    entries = [i for i, (kind, _) in enumerate(events) if kind == "entry"]
    linked = {str((tmp_path / o.detail).parent) for o in outcomes}
    dir_syncs = {path: i for i, (kind, path) in enumerate(events) if kind == "dir"}
    assert linked <= dir_syncs.keys()
    assert max(dir_syncs[d] for d in linked) < min(entries)  # no entry before every file's directory is durable
    assert dir_syncs[str(tmp_path / "raw" / "_catalog")] > max(entries)
    syncs = sum(1 for kind, _ in events if kind == "fsync")  # files and directories (and the new lake's layout file)
    assert syncs <= 2 * len(dbn_files) + len(linked) + 2 < 4 * len(dbn_files)
    monkeypatch.undo()
    zone = RawZone(tmp_path)
    assert sorted(f.path for f in zone.files()) == sorted(o.detail for o in outcomes)


def test_same_bytes_under_two_names_in_one_batch_place_one_file(tmp_path, dbn_files) -> None:
    copy = tmp_path / "copy" / f"renamed-{dbn_files[0].name}"
    copy.parent.mkdir()
    shutil.copyfile(dbn_files[0], copy)
    lake = Lake(tmp_path / "lake")
    first, second = import_files(lake, [dbn_files[0], copy])
    assert first.status is ImportStatus.IMPORTED and second.status is ImportStatus.SKIPPED
    assert [f.path for f in RawZone(lake.root).files()] == [first.detail]


def test_an_interrupted_batch_still_catalogues_what_it_placed(tmp_path, dbn_files) -> None:
    zone = RawZone(tmp_path)
    with pytest.raises(KeyboardInterrupt), zone.batch():
        placed = zone.import_file(dbn_files[0])
        assert zone.files() == []  # entries are written when the block ends
        raise KeyboardInterrupt
    assert RawZone(tmp_path).files() == [placed]
    assert RawZone(tmp_path).uncatalogued() == []

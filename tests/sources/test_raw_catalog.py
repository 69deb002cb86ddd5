"""The raw catalogue's in-process index: reused while unchanged, never stale after a change by any process."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rst.sources import raw_catalog
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dataset


@pytest.fixture(scope="module")
def dbn_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three small daily-bar files of ES, one per year."""
    folder = tmp_path_factory.mktemp("incoming")
    return write_dataset(folder, ["ES"], ["ohlcv-1d"], dt.date(2021, 1, 1), dt.date(2024, 1, 1), split="year", seed=3)


def _in_subprocess(code: str) -> None:
    """Run ``code`` in another process (its catalogue writes are not this process's)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def _keep_mtime(directory: Path, before: os.stat_result) -> None:
    """Put the directory's timestamps back: a change within one coarse clock tick looks like this."""
    os.utime(directory, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_listing_is_reused_while_nothing_changes(tmp_path: Path, dbn_files: list[Path], monkeypatch) -> None:
    zone = RawZone(tmp_path)
    for f in dbn_files[:2]:
        zone.import_file(f)
    listed = zone.files()
    assert len(listed) == 2

    def no_listing(path: object) -> list[str]:
        raise AssertionError("the catalogue was listed again although nothing changed")

    monkeypatch.setattr(raw_catalog.os, "listdir", no_listing)
    assert RawZone(tmp_path).files() == listed  # a second zone object, same process: the same index
    assert RawZone(tmp_path).entry(listed[0].path) == listed[0]
    monkeypatch.undo()
    zone.import_file(dbn_files[2])  # this process's own write
    assert len(RawZone(tmp_path).files()) == 3


def test_another_process_import_is_seen_even_within_the_same_mtime(tmp_path: Path, dbn_files: list[Path]) -> None:
    zone = RawZone(tmp_path)
    zone.import_file(dbn_files[0])
    assert len(zone.files()) == 1
    before = os.stat(zone.catalog_dir)
    _in_subprocess(
        f"from rst.sources.raw_zone import RawZone; RawZone({str(tmp_path)!r}).import_file({str(dbn_files[1])!r})"
    )
    _keep_mtime(zone.catalog_dir, before)
    assert os.stat(zone.catalog_dir).st_mtime_ns == before.st_mtime_ns
    assert [f.path.rsplit("/", 1)[1] for f in zone.files()] == sorted(p.name for p in dbn_files[:2])


def test_another_process_retire_is_seen_even_within_the_same_mtime(tmp_path: Path, dbn_files: list[Path]) -> None:
    zone = RawZone(tmp_path)
    kept, retired = (zone.import_file(f) for f in dbn_files[:2])
    assert len(zone.files()) == 2
    before = os.stat(zone.catalog_dir)
    _in_subprocess(f"from rst.sources.raw_zone import RawZone; RawZone({str(tmp_path)!r}).retire({retired.path!r})")
    _keep_mtime(zone.catalog_dir, before)
    assert zone.files() == [kept]
    assert zone.entry(retired.path) is None


def test_entry_rewritten_by_another_process_is_parsed_again(tmp_path: Path, dbn_files: list[Path]) -> None:
    """A migration rewrites entries under the same file names: the parsed copies must not survive it."""
    zone = RawZone(tmp_path)
    entry = zone.import_file(dbn_files[0])
    assert zone.entry(entry.path) == entry
    before = os.stat(zone.catalog_dir)
    _in_subprocess(
        "from rst.sources.raw_zone import RawZone; "
        f"assert RawZone({str(tmp_path)!r}).rewrite_paths('parent=ES/', 'parent=ES/moved-') == 1"
    )
    _keep_mtime(zone.catalog_dir, before)
    (moved,) = zone.files()
    assert moved.path == entry.path.replace("parent=ES/", "parent=ES/moved-")
    assert moved.sha256 == entry.sha256
    assert zone.entry(entry.path) is None


def test_entry_deleted_by_hand_is_seen(tmp_path: Path, dbn_files: list[Path]) -> None:
    zone = RawZone(tmp_path)
    first, second = (zone.import_file(f) for f in dbn_files[:2])
    assert len(zone.files()) == 2
    (zone.catalog_dir / f"{first.sha256}.json").unlink()  # no rst writer: only the directory's mtime moves
    assert zone.files() == [second]

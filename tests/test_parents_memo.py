"""The main exchange from per-partition counts remembered in the lake: read once, recounted when parts change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rst import parents
from rst.framework.lake import Lake, Layer
from rst.ops.pipeline import run_pipeline
from rst.parents import memo
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dataset


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """ES definitions of 2022 and 2023 in bronze (two yearly partitions)."""
    lake = Lake(tmp_path / "lake")
    for path in write_dataset(tmp_path / "in", ["ES"], ["definition"], "2022-01-01", "2024-01-01", split="year"):
        RawZone(lake.root).import_file(path)
    results = run_pipeline(lake, ["ES"], layers=(Layer.BRONZE,), tables=["definition"])
    assert results and not [r.error for r in results if r.error]
    parents._main_exchange.cache_clear()
    return lake


def _memo_file(lake: Lake) -> Path:
    return lake.internal(memo.CACHE) / "parents" / "ES.json"


def _no_reading(directory: Path) -> dict[str, int]:
    raise AssertionError(f"{directory} was read although its counts are remembered")


def test_counts_are_remembered_and_a_new_process_reads_no_definitions(lake: Lake, monkeypatch) -> None:
    assert parents.main_exchange(lake, "ES") == "XCME"
    stored = json.loads(_memo_file(lake).read_text())["definition_partitions"]
    assert len(stored) == 2 and all(sum(p["counts"].values()) > 0 for p in stored.values())
    parents._main_exchange.cache_clear()  # as a new process starts
    monkeypatch.setattr(memo, "_count", _no_reading)
    assert parents.main_exchange(lake, "ES") == "XCME"


def test_counts_of_a_partition_whose_parts_changed_are_not_used(lake: Lake) -> None:
    parents.main_exchange(lake, "ES")
    doc = json.loads(_memo_file(lake).read_text())
    for entry in doc["definition_partitions"].values():  # as if each partition had been rebuilt since
        entry["parts"] = "0" * 64
        entry["counts"] = {"XNYM": 10**9}
    _memo_file(lake).write_text(json.dumps(doc))
    parents._main_exchange.cache_clear()
    assert parents.main_exchange(lake, "ES") == "XCME"
    repaired = json.loads(_memo_file(lake).read_text())["definition_partitions"]
    assert all(p["parts"] != "0" * 64 and "XNYM" not in p["counts"] for p in repaired.values())


def test_unreadable_memo_counts_again(lake: Lake) -> None:
    _memo_file(lake).parent.mkdir(parents=True)
    _memo_file(lake).write_bytes(b"\xff not json")
    assert parents.main_exchange(lake, "ES") == "XCME"
    assert json.loads(_memo_file(lake).read_text())["definition_partitions"]

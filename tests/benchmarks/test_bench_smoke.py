"""Smoke test of the benchmark code paths at tiny sizes: table shapes, not timings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402


@pytest.mark.slow
def test_bronze_tables_have_expected_rows_and_columns(tmp_path: Path) -> None:
    tables = run.bench_bronze(tmp_path, records=3_000, repeat=1, memory_sizes=False)
    assert len(tables) == 1
    tab = tables[0]
    assert tab.header == ["run", "seconds", "records/s", "MB/s compressed", "MB/s decompressed", "peak RSS MB"]
    names = [r[0] for r in tab.rows]
    assert any("to_parquet" in n and "peer" in n for n in names)
    assert any(n.startswith("floor") for n in names)
    assert any(n.startswith("**rst vs to_parquet**") for n in names)
    assert any(n.startswith("**rst vs floor**") for n in names)
    assert all(len(r) == len(tab.header) for r in tab.rows)
    assert "| run |" in tab.markdown()


@pytest.mark.slow
def test_daily_table_has_cold_and_incremental_rows(tmp_path: Path) -> None:
    (tab,) = run.bench_daily(tmp_path, n_parents=1, years=1, workers=1)
    assert tab.header[:5] == ["run", "import s", "bronze s", "silver s", "gold s"]
    assert [r[0].split()[0] for r in tab.rows] == ["cold", "one-day", "one-day", "nothing"]
    assert "`rst import` + `rst run`" in tab.rows[2][0]  # the update as a user runs it: two commands
    assert all(len(r) == len(tab.header) for r in tab.rows)
    assert all(r[7].endswith("(0)") for r in tab.rows[:2])  # no failed partition (the commands exit 0 or raise)


@pytest.mark.slow
def test_workers_table_compares_one_and_two_workers(tmp_path: Path) -> None:
    (tab,) = run.bench_workers(tmp_path, partitions=4)
    assert tab.header == ["workers", "partitions", "seconds", "partitions/s", "speed-up"]
    assert [r[0] for r in tab.rows] == ["1", "2"]
    assert [r[1] for r in tab.rows] == ["4", "4"]
    assert tab.rows[0][-1] == "1.00x"

"""Smoke test of the reads benchmark: each rst read returns exactly the rows of its plain-polars peer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402


@pytest.mark.slow
def test_reads_table_pairs_each_rst_read_with_its_peer(tmp_path: Path) -> None:
    (tab,) = run.bench_reads(tmp_path, n_parents=1, years=1, repeat=1)
    assert tab.header == ["read", "rows", "first call ms", "median ms", "target"]
    names = [r[0] for r in tab.rows]
    assert names[0].startswith("`rst query") and names[1].startswith("peer")
    assert names[2].startswith("`rst.read_series") and names[3].startswith("peer")
    rows = [int(r[1].replace(",", "")) for r in tab.rows]
    assert rows[0] == rows[1] > 0  # the month rst query returns is the peer's
    assert rows[2] == rows[3] > 200  # a whole year of a daily series
    assert [r[-1] for r in tab.rows] == ["< 100 ms", "", "< 100 ms", ""]

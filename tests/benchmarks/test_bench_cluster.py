"""Smoke test of ``benchmarks/bench_cluster.py`` at a tiny size: the table's shape, not its timings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_cluster import HEADER, bench_cluster  # noqa: E402


@pytest.mark.slow
def test_cluster_table_compares_inline_pool_and_dask(tmp_path: Path) -> None:
    (tab,) = bench_cluster(tmp_path, partitions=4)
    assert tab.header == HEADER
    assert [r[0].split()[0] for r in tab.rows] == ["inline", "process", "Dask"]
    assert [r[1:3] for r in tab.rows] == [["1", "4"], ["2", "4"], ["2", "4"]]
    assert tab.rows[1][-1] == "1.00x time"
    assert all(r[7].lstrip("-").replace(".", "", 1).isdigit() for r in tab.rows)  # an overhead figure in every row

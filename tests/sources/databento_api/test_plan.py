"""Planning: only uncovered windows, split at UTC calendar boundaries, deterministic names."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rst.errors import UsageError
from rst.sources.databento_api.plan import (
    Chunk,
    Granularity,
    default_granularity,
    iso_ns,
    plan_chunks,
    split_window,
    to_ns,
)


class Coverage:
    """Coverage that already holds ``covered`` (one window) for every key."""

    def __init__(self, covered: tuple[int, int] | None = None) -> None:
        self.covered = covered
        self.asked: list[tuple[str, str, str, int, int]] = []

    def uncovered(self, dataset: str, schema: str, symbol: str, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
        self.asked.append((dataset, schema, symbol, start_ns, end_ns))
        if self.covered is None:
            return [(start_ns, end_ns)]
        lo, hi = self.covered
        gaps = []
        if start_ns < lo:
            gaps.append((start_ns, min(lo, end_ns)))
        if end_ns > hi:
            gaps.append((max(hi, start_ns), end_ns))
        return gaps


def d(y: int, m: int, day: int) -> int:
    return to_ns(date(y, m, day))


def test_split_by_month_cuts_at_calendar_boundaries() -> None:
    pieces = split_window(d(2024, 1, 15), to_ns(datetime(2024, 3, 2, 12)), Granularity.MONTH)
    assert [(iso_ns(a), iso_ns(b)) for a, b in pieces] == [
        ("2024-01-15", "2024-02-01"),
        ("2024-02-01", "2024-03-01"),
        ("2024-03-01", "2024-03-02T12:00:00Z"),
    ]


def test_split_by_year_and_day() -> None:
    assert split_window(d(2022, 6, 1), d(2024, 1, 1), Granularity.YEAR) == [
        (d(2022, 6, 1), d(2023, 1, 1)),
        (d(2023, 1, 1), d(2024, 1, 1)),
    ]
    assert len(split_window(d(2024, 2, 27), d(2024, 3, 2), Granularity.DAY)) == 4
    assert split_window(d(2024, 1, 1), d(2024, 1, 1), Granularity.DAY) == []


def test_default_granularity_by_schema() -> None:
    assert default_granularity("ohlcv-1d") is Granularity.YEAR
    assert default_granularity("definition") is Granularity.YEAR
    assert default_granularity("ohlcv-1m") is Granularity.MONTH
    assert default_granularity("mbp-1") is Granularity.MONTH


def test_plan_asks_coverage_per_schema_and_symbol_and_plans_only_gaps() -> None:
    cov = Coverage(covered=(d(2024, 1, 1), d(2024, 3, 1)))
    chunks = plan_chunks(cov, "GLBX.MDP3", ["ohlcv-1m"], ["ES", "NQ"], d(2023, 12, 1), d(2024, 4, 1))
    assert {(c.symbol, iso_ns(c.start_ns), iso_ns(c.end_ns)) for c in chunks} == {
        (s, a, b) for s in ("ES", "NQ") for a, b in [("2023-12-01", "2024-01-01"), ("2024-03-01", "2024-04-01")]
    }
    assert len(cov.asked) == 2


def test_fully_covered_plans_nothing() -> None:
    cov = Coverage(covered=(d(2020, 1, 1), d(2030, 1, 1)))
    assert plan_chunks(cov, "GLBX.MDP3", ["ohlcv-1d"], ["ES"], d(2024, 1, 1), d(2025, 1, 1)) == []


def test_empty_window_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="end is exclusive"):
        plan_chunks(Coverage(), "GLBX.MDP3", ["ohlcv-1d"], ["ES"], d(2024, 1, 2), d(2024, 1, 1))


def test_file_names_are_deterministic_and_request_parent_symbol() -> None:
    c = Chunk("GLBX.MDP3", "ohlcv-1d", "ES", d(2024, 1, 1), d(2025, 1, 1))
    assert c.request_symbol == "ES.FUT"
    assert c.file_name == "GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20250101.dbn.zst"
    partial = Chunk("GLBX.MDP3", "ohlcv-1m", "ES", d(2024, 1, 1), to_ns(datetime(2024, 1, 3, 20, 0)))
    assert partial.file_name.endswith("-20240101-20240103T200000Z.dbn.zst")
    assert c.describe() == "GLBX.MDP3 ohlcv-1d ES.FUT [2024-01-01, 2025-01-01)"

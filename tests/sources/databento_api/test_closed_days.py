"""The planner does not request days the parent's calendar says are closed throughout (issue 15, item 4).

CMES (2024): Good Friday 2024-03-29 and Saturday 2024-03-30 hold no session at all (Thursday
closes 22:00Z, Sunday reopens 22:00Z); Sunday 2023-12-24 (Christmas Eve) is closed too, while
Christmas Day 2023-12-25 and MLK day 2024-01-15 hold Globex trading (it reopens 23:00Z, resp.
trades until 18:00Z), so those must still be requested.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from rst.calendars import get_calendar
from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.download import DownloadRequest, download_missing
from rst.sources.databento_api.plan import Granularity, iso_ns, plan_chunks, to_ns
from rst.sources.databento_api.update import run_update
from rst.sources.raw_zone import RawZone

from .mock_server import MockDatabento


def d(y: int, m: int, day: int) -> int:
    return to_ns(date(y, m, day))


class OnlyUncovered:
    """Coverage whose only uncovered window is ``window`` (whatever is asked)."""

    def __init__(self, window: tuple[int, int]) -> None:
        self.window = window

    def uncovered(self, dataset: str, schema: str, symbol: str, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
        lo, hi = max(self.window[0], start_ns), min(self.window[1], end_ns)
        return [(lo, hi)] if lo < hi else []


def planned(window: tuple[int, int], schema: str = "ohlcv-1m") -> list[tuple[str, str]]:
    cov = OnlyUncovered(window)
    chunks = plan_chunks(cov, "GLBX.MDP3", [schema], ["ES"], d(2023, 1, 1), d(2025, 1, 1),
                         calendars={"ES": get_calendar("CMES")})  # fmt: skip
    return [(iso_ns(c.start_ns), iso_ns(c.end_ns)) for c in chunks]


def test_an_uncovered_window_that_is_only_closed_days_plans_nothing() -> None:
    assert planned((d(2024, 3, 29), d(2024, 3, 31))) == []  # Good Friday + Saturday
    assert planned((d(2024, 3, 30), d(2024, 3, 31)), "ohlcv-1d") == []  # a Saturday, yearly schema
    assert planned((d(2023, 12, 23), d(2023, 12, 25))) == []  # Saturday + closed Christmas Eve Sunday


def test_reference_schemas_are_requested_on_closed_days_too() -> None:
    for schema in ("definition", "statistics", "status"):  # a venue may publish these while the market is closed
        assert planned((d(2024, 3, 30), d(2024, 3, 31)), schema) == [("2024-03-30", "2024-03-31")]


def test_days_with_some_session_are_still_planned() -> None:
    assert planned((d(2023, 12, 25), d(2023, 12, 26))) == [("2023-12-25", "2023-12-26")]  # reopens 23:00Z
    assert planned((d(2024, 1, 15), d(2024, 1, 16))) == [("2024-01-15", "2024-01-16")]  # MLK: trades to 18:00Z
    assert planned((d(2024, 3, 31), d(2024, 4, 1))) == [("2024-03-31", "2024-04-01")]  # Sunday: opens 22:00Z
    # a window ending before Sunday's open still counts its whole UTC day (Sunday start-up data)
    sunday_noon = to_ns(datetime(2024, 3, 31, 12))
    assert planned((d(2024, 3, 30), sunday_noon)) == [("2024-03-30", "2024-03-31T12:00:00Z")]
    # a month containing a weekend is one request, not cut around it
    assert planned((d(2024, 3, 1), d(2024, 4, 1))) == [("2024-03-01", "2024-04-01")]


def test_day_plan_over_a_weekend_and_a_holiday_skips_the_closed_days(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    # a fresh lake: no ES definitions yet, so the planner uses GLBX.MDP3's venue calendar, CMES
    request = DownloadRequest("GLBX.MDP3", ("ohlcv-1h",), ("ES",), d(2024, 3, 27), d(2024, 4, 3),
                              granularity=Granularity.DAY)  # fmt: skip
    report = download_missing(lake, request, client, raw_zone=raw_zone)
    assert report.ok, report.summary()
    asked = [(iso_ns(a), iso_ns(b)) for a, b in (r.window for r in mock_db.calls("timeseries.get_range"))]
    assert asked == [
        ("2024-03-27", "2024-03-28"),
        ("2024-03-28", "2024-03-29"),
        # 2024-03-29 Good Friday and 2024-03-30 Saturday: closed, not requested
        ("2024-03-31", "2024-04-01"),
        ("2024-04-01", "2024-04-02"),
        ("2024-04-02", "2024-04-03"),
    ]

    mock_db.requests.clear()
    again = download_missing(lake, request, client, raw_zone=raw_zone)
    assert again.ok and again.chunks == [] and mock_db.requests == []
    assert "nothing to download" in again.summary()


def test_the_parents_calendar_override_decides(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    config = lake.root / "_config"
    config.mkdir(parents=True)
    (config / "parents.toml").write_text('[ES]\ncalendar = "XLON"\n')  # London: Easter Monday closed too
    request = DownloadRequest("GLBX.MDP3", ("ohlcv-1h",), ("ES",), d(2024, 3, 29), d(2024, 4, 3),
                              granularity=Granularity.DAY)  # fmt: skip
    report = download_missing(lake, request, client, raw_zone=raw_zone)
    assert report.ok and [r.window for r in mock_db.calls("timeseries.get_range")] == [(d(2024, 4, 2), d(2024, 4, 3))]


def test_nightly_update_does_not_request_a_closed_stretch(
    lake: Lake, raw_zone: RawZone, make_client: Callable[[], DatabentoClient], mock_db: MockDatabento, tmp_path: Path
) -> None:
    """Each night's run is a new client (the available range is cached per client)."""
    config = tmp_path / "update.toml"
    config.write_text(
        '[[target]]\ndataset = "GLBX.MDP3"\nschemas = ["ohlcv-1h"]\nparents = ["ES"]\nstart = 2024-03-27\n'
    )
    mock_db.available_end_ns = to_ns(datetime(2024, 3, 29, 9))  # Thursday night's run: up to Friday 00:00Z
    first = run_update(config, lake, None, client=make_client(), raw_zone=raw_zone)
    assert first.ok and [r.window for r in mock_db.calls("timeseries.get_range")] == [(d(2024, 3, 27), d(2024, 3, 29))]

    mock_db.available_end_ns = to_ns(datetime(2024, 3, 31, 9))  # Saturday night's run: Good Friday + Saturday new
    mock_db.requests.clear()
    second = run_update(config, lake, None, client=make_client(), raw_zone=raw_zone)
    assert second.ok and second.download.chunks == [] and mock_db.calls("timeseries.get_range") == []
    assert mock_db.calls("metadata.get_dataset_range")  # it did ask, and saw the new days

    mock_db.available_end_ns = to_ns(datetime(2024, 4, 1, 9))  # Sunday night's run: the three days in one request
    mock_db.requests.clear()
    third = run_update(config, lake, None, client=make_client(), raw_zone=raw_zone)
    assert third.ok and [r.window for r in mock_db.calls("timeseries.get_range")] == [(d(2024, 3, 29), d(2024, 4, 1))]

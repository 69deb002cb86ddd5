"""MLK day 2024: ES trades 17:00 Sun Jan 14 - 12:00 Mon Jan 15 (Chicago), booked by CME to Tue Jan 16.

Silver ``ohlcv_1h`` dates those bars 2024-01-16, and ``ohlcv_1d_session`` has no 2024-01-15 row: its
2024-01-16 row aggregates both Globex sessions (19 + 23 hourly bars)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from rst.calendars import get_calendar
from rst.framework.sessions import CME
from rst.parents.metadata import CONTRACT_FIELDS
from rst.stages.silver.base import local_and_trading_date
from rst.stages.silver.session_bars import aggregate_sessions

CHICAGO = dt.timezone(dt.timedelta(hours=-6))  # CST in January


def _hours(first: dt.datetime, n: int) -> list[dt.datetime]:
    return [(first + dt.timedelta(hours=k)).astimezone(dt.UTC) for k in range(n)]


def _hourly_bars() -> pl.DataFrame:
    holiday = _hours(dt.datetime(2024, 1, 14, 17, tzinfo=CHICAGO), 19)  # Sun 17:00 .. Mon 11:00 (halt 12:00)
    tuesday = _hours(dt.datetime(2024, 1, 15, 17, tzinfo=CHICAGO), 23)  # Mon 17:00 .. Tue 15:00
    ts = holiday + tuesday
    n = len(ts)
    return pl.DataFrame(
        {
            "ts_event": pl.Series(ts, dtype=pl.Datetime("ns", "UTC")),
            "instrument_id": [42] * n,
            "open": list(range(n)), "high": [k + 2 for k in range(n)], "low": [k - 1 for k in range(n)],
            "close": [k + 1 for k in range(n)], "volume": [10] * n,
            **{f: ["x"] * n for f in CONTRACT_FIELDS if f not in ("expiration", "activation", "tick_size", "point_value")},
            "expiration": pl.Series([dt.datetime(2024, 3, 15, tzinfo=dt.UTC)] * n, dtype=pl.Datetime("ns", "UTC")),
            "activation": pl.Series([dt.datetime(2023, 3, 1, tzinfo=dt.UTC)] * n, dtype=pl.Datetime("ns", "UTC")),
            "tick_size": [250_000_000] * n, "point_value": [50_000_000_000] * n,
            "definition_ts_recv": pl.Series([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * n, dtype=pl.Datetime("ns", "UTC")),
            "source_file": ["raw.dbn.zst"] * n,
        }
    )  # fmt: skip


def test_mlk_2024_es_trade_belongs_to_tuesday() -> None:
    hourly = local_and_trading_date(_hourly_bars(), CME, "session", get_calendar("CMES"))
    assert set(hourly["trading_date"].to_list()) == {dt.date(2024, 1, 16)}
    sessions = aggregate_sessions(hourly)
    assert sessions["trading_date"].to_list() == [dt.date(2024, 1, 16)]  # no 2024-01-15 row
    row = sessions.row(0, named=True)
    assert row["bar_count"] == 42
    assert (row["open"], row["close"], row["volume"]) == (0, 42, 420)  # Sunday's first open, Tuesday's last close


def test_mlk_without_the_calendar_is_the_old_wrong_answer() -> None:
    hourly = local_and_trading_date(_hourly_bars(), CME, "session")
    counts = aggregate_sessions(hourly).select("trading_date", "bar_count").rows()
    assert counts == [(dt.date(2024, 1, 15), 19), (dt.date(2024, 1, 16), 23)]

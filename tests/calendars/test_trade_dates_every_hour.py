"""Every hour of 2015-2025, one parent per product group: rst's trade date equals the calendar library's
session with CME's holiday booking applied (the oracle below uses the library's open/close instants)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from rst.calendars import get_calendar
from rst.framework.lake import Lake
from rst.framework.sessions import CME, trading_date_expr
from rst.parents import parent_calendar

PARENTS = {"ES": "XCME", "CL": "XNYM", "GC": "XCEC", "ZN": "XCBT", "6E": "XCME", "ZC": "XCBT"}
"""equity, energy, metals, rates, FX, grains."""


def _booked_holidays(sessions: np.ndarray) -> np.ndarray:
    """CME books these holidays' abbreviated Globex sessions to the next trade date (pandas' holiday rules)."""
    from pandas.tseries import holiday as h

    rules = [h.USMartinLutherKingJr, h.USPresidentsDay, h.USMemorialDay, h.USLaborDay, h.USThanksgivingDay]
    rules += [h.Holiday("July 4th", month=7, day=4, observance=h.nearest_workday)]
    rules += [h.Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=h.nearest_workday)]
    days = h.AbstractHolidayCalendar(rules=rules).holidays("2014-01-01", "2026-12-31").values.astype("datetime64[D]")
    return np.isin(sessions, days)


def _oracle(hours: np.ndarray) -> np.ndarray:
    """Library session of each UTC hour (ns), booked past holiday sessions; after an early close, the closing session."""
    import exchange_calendars

    lib = exchange_calendars.get_calendar("CMES", start="2014-06-01", end="2026-06-30")
    sched = lib.schedule
    sessions = sched.index.values.astype("datetime64[D]")
    opens = sched["open"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    closes = sched["close"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    regular = (sched["close"].dt.tz_convert("America/Chicago").dt.normalize() + np.timedelta64(17, "h"))
    regular_ns = regular.dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    i = np.searchsorted(closes, hours, side="right")
    after_early_close = (hours < opens[i]) & (hours < regular_ns[i - 1])
    i = np.where(after_early_close, i - 1, i)
    holiday = _booked_holidays(sessions)
    nxt = np.arange(sessions.size)
    for k in range(sessions.size - 2, -1, -1):  # next non-holiday session at or after k
        nxt[k] = nxt[k + 1] if holiday[k] else k
    return sessions[nxt[i]]


@pytest.fixture(scope="module")
def hours() -> pl.DataFrame:
    start = np.datetime64("2015-01-01T00:00", "ns")
    stop = np.datetime64("2026-01-01T00:00", "ns")
    ns = np.arange(start, stop, np.timedelta64(1, "h")).astype(np.int64)
    return pl.DataFrame({"ts": pl.Series(ns).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")})


@pytest.mark.parametrize("parent", sorted(PARENTS))
def test_every_hour_2015_2025_books_like_cme(parent: str, hours: pl.DataFrame, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    (lake.root / "_config").mkdir(parents=True)
    (lake.root / "_config" / "parents.toml").write_text(f'[{parent}]\nexchange = "{PARENTS[parent]}"\n')
    calendar = get_calendar(parent_calendar(lake, parent))
    got = hours.select(trading_date_expr(pl.col("ts"), CME, calendar)).to_series().to_numpy().astype("datetime64[D]")
    want = _oracle(hours["ts"].dt.epoch("ns").to_numpy())
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} hours differ, first {hours['ts'][int(bad[0])]}: {got[bad[0]]} != {want[bad[0]]}"
    # the booking matters: 2015-2025 has ~7 holiday sessions a year that a weekday rule dates wrongly
    plain = hours.select(trading_date_expr(pl.col("ts"), CME)).to_series().to_numpy().astype("datetime64[D]")
    assert np.unique(plain[plain != want]).size > 70

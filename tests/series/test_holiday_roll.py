"""A holiday inside the last N days before expiry, beyond the end of the data: the roll date moves by
that holiday (counted from the exchange calendar, not as a weekday), and an incremental update
equals a full build."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from rst.calendars import get_calendar
from rst.series import SeriesDefinition, build, update

from .bars import make_bars

# ESM4 expires Fri 2024-05-31; Memorial Day Mon 2024-05-27 is a CME holiday (its session books to Tue 28).
CONTRACTS = {"ESM4": (1, dt.date(2024, 5, 31)), "ESU4": (2, dt.date(2024, 9, 20))}
DAYS = [dt.date(2024, 5, d) for d in (20, 21, 22, 23, 24, 28, 29, 30, 31)]
DEFN = SeriesDefinition("es", "ES", "days_before_expiry", 5, "backward_additive")


def _bars(last: dt.date) -> pl.DataFrame:
    rows = [(d, sym, 100 + k + 10 * (sym == "ESU4"), 1000) for k, d in enumerate(DAYS) if d <= last for sym in CONTRACTS]
    return make_bars(CONTRACTS, rows)


def test_holiday_beyond_the_data_moves_the_roll() -> None:
    full = build(_bars(DAYS[-1]), DEFN)
    # five trade dates after Thu 23rd: 24, 28, 29, 30, 31 -> the 23rd is ESM4's last day, roll on Fri 24th
    assert full.filter(pl.col("is_roll"))["trading_date"].to_list() == [dt.date(2024, 5, 24)]
    # data ending on Fri 24th: the calendar knows the 27th is a holiday, so the prefix already rolls on the 24th...
    prefix = build(_bars(dt.date(2024, 5, 24)), DEFN)
    assert prefix["symbol"].to_list() == full.filter(pl.col("trading_date") <= dt.date(2024, 5, 24))["symbol"].to_list()
    assert prefix.filter(pl.col("is_roll"))["trading_date"].to_list() == [dt.date(2024, 5, 24)]
    # ...while counting weekdays (the old guess) would have held ESM4 one day longer
    weekdays = build(_bars(dt.date(2024, 5, 24)), DEFN, get_calendar("weekdays"))
    assert weekdays["symbol"].to_list()[-1] == "ESM4"


def test_incremental_update_across_the_holiday_equals_full_build() -> None:
    full = build(_bars(DAYS[-1]), DEFN)
    for split in DAYS[:-1]:
        old = build(_bars(split), DEFN)
        assert_frame_equal(update(old, _bars(DAYS[-1]), DEFN, lookback_days=0), full, check_exact=True)

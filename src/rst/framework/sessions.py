"""Exchange sessions and trading dates.

A CME Globex session for trading date D runs from 17:00 America/Chicago on the
previous business day to 16:00 on D, so an event's trading date is the local
calendar date of (local time + 7 h), moved from Saturday/Sunday to Monday.
Other venues are described by the same two numbers (zone and session open).

With a :class:`rst.calendars.TradingCalendar` the result is the trade date as CME
books it: the *raw date* (local time + 7 h) moves to the first trade date on or
after it, so weekends, full-closure holidays and the abbreviated Globex session on a
holiday (MLK day, …) belong to the next trade date. Without one (bronze cuts its
partitions this way) only weekends move.

GLBX ``ohlcv-1d`` bars are *UTC calendar days*, not sessions: their trading
date is defined as the bar's UTC date (see ``docs/trading_dates.md``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from rst.calendars import TradingCalendar


@dataclass(frozen=True)
class Session:
    """A venue's daily session: ``tz`` (IANA zone) and the local ``open`` time of the session for the *next* date."""

    tz: str = "America/Chicago"
    open: dt.time = dt.time(17, 0)
    close: dt.time = dt.time(16, 0)

    @property
    def shift(self) -> str:
        """Offset that moves a session's first instant to local midnight of its trading date."""
        minutes = 24 * 60 - (self.open.hour * 60 + self.open.minute)
        return f"{minutes}m"


CME = Session()


def raw_date_expr(ts: pl.Expr, session: Session = CME) -> pl.Expr:
    """Raw session date of UTC timestamps ``ts``: the local date of ``ts`` shifted by the session open."""
    return ts.dt.convert_time_zone(session.tz).dt.offset_by(session.shift).dt.date()


def trading_date_expr(ts: pl.Expr, session: Session = CME, calendar: TradingCalendar | None = None) -> pl.Expr:
    """Trading date of UTC timestamps ``ts`` as a polars ``Date`` expression.

    With ``calendar``: the trade date as CME books it (see the module docstring);
    without: the raw date with weekends rolled to Monday.
    """
    local = raw_date_expr(ts, session)
    if calendar is not None:
        return calendar.book_expr(local)
    weekday = local.dt.weekday()  # Monday=1 … Sunday=7
    return local + pl.duration(days=pl.when(weekday == 6).then(2).when(weekday == 7).then(1).otherwise(0))


def session_bounds_utc(day: dt.date, session: Session = CME) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants [start, end) that can hold events of trading date ``day`` (Monday also takes the weekend)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(session.tz)
    back = 3 if day.weekday() == 0 else 1
    start = dt.datetime.combine(day - dt.timedelta(days=back), session.open, zone)
    end = dt.datetime.combine(day, session.open, zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

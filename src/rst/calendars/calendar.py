"""A parent's trading calendar as tables: trade dates, holiday sessions, early closes.

Built once per process and calendar name (:func:`get_calendar`), over the fixed
range :data:`RANGE` so that the tables never depend on today's date. Every lookup is
vectorised (numpy ``searchsorted`` on the sorted trade dates, or a polars expression),
so silver maps whole columns, never rows. Outside :data:`RANGE` every calendar
degrades to weekdays (weekend → Monday).

Terms: a *raw date* is the local date of an instant shifted by the session open
(CME: ``ts + 7 h`` in Chicago, see :mod:`rst.framework.sessions`); the *trade date*
is the first trade date on or after the raw date, which books weekends, full-closure
holidays and abbreviated holiday sessions to the next trade date, as CME does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from rst.calendars.booking import RULE_VERSION, holiday_sessions
from rst.calendars.groups import WEEKDAYS

RANGE = (dt.date(1990, 1, 1), dt.date(2040, 12, 31))
"""First and last date the tables cover (inclusive)."""
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True, eq=False)
class TradingCalendar:
    """Trade dates of one calendar within :data:`RANGE`.

    ``sessions``: trade dates as CME books them (datetime64[D], sorted; abbreviated
    holiday sessions excluded); ``holidays``: the abbreviated holiday sessions booked
    to the next trade date; ``early_closes``: trade dates that close early, with the
    close as a UTC instant (ns since the epoch); ``open_ns``: ``[open, close)`` UTC ns of
    every library session, abbreviated holiday sessions included (shape ``(n, 2)``, sorted;
    empty when the calendar knows no session times, as :data:`WEEKDAYS`).
    """

    name: str
    sessions: np.ndarray
    holidays: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="datetime64[D]"))
    early_closes: dict[dt.date, int] = field(default_factory=dict)
    open_ns: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    _digests: dict[tuple[dt.date, dt.date], str] = field(default_factory=dict, repr=False)
    """:meth:`digest` by range: the tables never change once built, and every plan asks per parent."""

    @property
    def identity(self) -> str:
        """Calendar name and rst booking rule version (``CMES/booking-1``), recorded in lineage."""
        return f"{self.name}/booking-{RULE_VERSION}"

    # ---- dates ---------------------------------------------------------------------
    def book(self, raw: np.ndarray) -> np.ndarray:
        """Trade date of each raw date (datetime64[D]): the first trade date on or after it."""
        raw = np.asarray(raw, dtype="datetime64[D]")
        lo, hi = np.datetime64(RANGE[0]), self.sessions[-1] if self.sessions.size else np.datetime64(RANGE[0])
        idx = np.searchsorted(self.sessions, raw, side="left")
        inside = (raw >= lo) & (raw <= hi)
        found = self.sessions[np.minimum(idx, max(self.sessions.size - 1, 0))] if self.sessions.size else raw
        return np.where(inside, found, np.busday_offset(raw, 0, roll="forward"))

    def book_expr(self, raw: pl.Expr) -> pl.Expr:
        """:meth:`book` as a polars expression over a ``Date`` column (columnar)."""
        return raw.map_batches(
            lambda s: pl.Series(s.name, self.book(s.to_numpy()), dtype=pl.Date), return_dtype=pl.Date
        )

    def is_trading_day(self, days: np.ndarray) -> np.ndarray:
        """Mask: which ``days`` (datetime64[D]) are trade dates."""
        days = np.asarray(days, dtype="datetime64[D]")
        return self.book(days) == days

    def count_through(self, days: np.ndarray) -> np.ndarray:
        """Number of trade dates up to and including each day (int64; only differences mean anything)."""
        days = np.asarray(days, dtype="datetime64[D]")
        lo, hi = np.datetime64(RANGE[0]), np.datetime64(RANGE[1])
        inside = np.clip(days, lo, hi)
        count = np.searchsorted(self.sessions, inside, side="right").astype(np.int64)
        after = days > hi
        count[after] += np.busday_count(hi + _DAY, days[after] + _DAY)
        before = days < lo
        count[before] -= np.busday_count(days[before] + _DAY, lo)
        return count

    def trading_days(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """Trade dates in ``[first, last]`` (both inclusive)."""
        days = np.arange(np.datetime64(first), np.datetime64(last) + _DAY, dtype="datetime64[D]")
        return [d.item() for d in days[self.is_trading_day(days)]]

    def previous_trading_day(self, day: dt.date) -> dt.date:
        """The last trade date strictly before ``day``."""
        probe = np.datetime64(day) - _DAY
        while not self.is_trading_day(np.array([probe]))[0]:
            probe -= _DAY
        return probe.item()

    def has_session(self, start_ns: np.ndarray, end_ns: np.ndarray) -> np.ndarray:
        """Mask: which windows ``[start_ns, end_ns)`` (UTC ns) overlap a session's open hours.

        True as well where a window reaches outside the sessions' span or the calendar knows no
        session times: only a window the calendar says is closed throughout is False.
        """
        starts = np.asarray(start_ns, dtype=np.int64)
        ends = np.asarray(end_ns, dtype=np.int64)
        n = len(self.open_ns)
        if n == 0:
            return np.ones(starts.shape, dtype=bool)
        opens, closes = self.open_ns[:, 0], self.open_ns[:, 1]
        idx = np.searchsorted(closes, starts, side="right")  # first session closing after the start
        overlaps = (idx < n) & (opens[np.minimum(idx, n - 1)] < ends)
        return overlaps | (starts < opens[0]) | (ends > closes[-1])

    def early_close_ns(self, day: dt.date) -> int | None:
        """UTC ns of trade date ``day``'s early close, None when it closes at the regular time."""
        return self.early_closes.get(day)

    def digest(self, first: dt.date, last: dt.date) -> str:
        """Short SHA-256 of what the calendar says about ``[first, last]``: trade dates, holidays, early closes.

        Recorded in a partition's lineage, so a calendar change stales exactly the partitions whose dates it touches.
        """
        known = self._digests.get((first, last))
        if known is not None:
            return known
        lo, hi = np.datetime64(first), np.datetime64(last) + _DAY
        days = np.arange(lo, hi, dtype="datetime64[D]")
        closes = sorted((d, ns) for d, ns in self.early_closes.items() if first <= d <= last)
        text = f"{self.identity}|{self.book(days).tobytes().hex()}|{closes}"
        digest = self._digests[(first, last)] = hashlib.sha256(text.encode()).hexdigest()[:16]
        return digest


@lru_cache(maxsize=16)
def get_calendar(name: str) -> TradingCalendar:
    """The calendar ``name`` (:data:`rst.calendars.WEEKDAYS` or an ``exchange_calendars`` name), cached per process."""
    if name == WEEKDAYS:
        days = np.arange(np.datetime64(RANGE[0]), np.datetime64(RANGE[1]) + _DAY, dtype="datetime64[D]")
        return TradingCalendar(name, days[np.is_busday(days)])
    return _from_library(name)


def _from_library(name: str) -> TradingCalendar:
    """Sessions and closes from ``exchange_calendars`` plus rst's booking rule, kept on disk
    (:mod:`rst.calendars.store`): only the first process after an install or a code change imports the library."""
    from rst.calendars import booking, store

    path = store.cache_path(name, store.cache_key(Path(__file__), Path(booking.__file__)))
    arrays = store.load(path)
    if arrays is None:
        arrays = _library_arrays(name)
        store.save(path, arrays)
    days = "datetime64[D]"
    early_closes = {
        d.item(): int(ns) for d, ns in zip(arrays["early_days"].astype(days), arrays["early_ns"], strict=True)
    }
    return TradingCalendar(
        name, arrays["sessions"].astype(days), arrays["holidays"].astype(days), early_closes, arrays["open_ns"]
    )


def _library_arrays(name: str) -> dict[str, np.ndarray]:
    """The calendar's tables as plain int64 arrays (days since the epoch, UTC ns), from the library (imported here)."""
    import warnings

    import exchange_calendars

    with warnings.catch_warnings():  # exchange_calendars 4.13 reads tz-aware Series.values (a pandas 3.1 deprecation)
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
        cal = exchange_calendars.get_calendar(name, start=RANGE[0].isoformat(), end=RANGE[1].isoformat())
    schedule = cal.schedule
    sessions = schedule.index.values.astype("datetime64[D]")
    closes = schedule["close"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    opens = schedule["open"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    early = np.isin(sessions, np.asarray(cal.early_closes.values, dtype="datetime64[D]"))
    holiday = holiday_sessions(sessions, early)
    keep = ~holiday
    return {
        "sessions": sessions[keep].astype(np.int64),
        "holidays": sessions[holiday].astype(np.int64),
        "early_days": sessions[early & keep].astype(np.int64),
        "early_ns": closes[early & keep],
        "open_ns": np.column_stack([opens, closes]),
    }

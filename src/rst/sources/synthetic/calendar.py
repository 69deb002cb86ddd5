"""Dates for the synthetic generator: day numbers, business days, expiry rules, Globex session hours.

Conventions: a *day* is an ``int`` counting UTC calendar days since 1970-01-01 (day 0 was a
Thursday); times are UTC nanoseconds since the epoch; weekdays are Monday=0 .. Sunday=6.
Business days are Monday-Friday: there is no exchange holiday calendar, so expiries and rolls
may land on real holidays.
"""

from __future__ import annotations

import calendar as _stdcal
import datetime as dt
import functools
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np

NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3_600 * NS_PER_SECOND
NS_PER_DAY = 86_400 * NS_PER_SECOND
HOURS_PER_DAY = 24

MONTH_CODES = "FGHJKMNQUVXZ"
"""CME month codes, January (F) to December (Z)."""

_EPOCH = dt.date(1970, 1, 1)
_CHICAGO = ZoneInfo("America/Chicago")


class ExpiryRule(StrEnum):
    """How a contract's last trading day follows from its contract month."""

    THIRD_FRIDAY = "third_friday"
    """Third Friday of the contract month (equity index)."""
    FX_IMM = "fx_imm"
    """Two business days before the third Wednesday of the contract month (currencies)."""
    TREASURY = "treasury"
    """Seven business days before the last business day of the contract month (notes, bonds)."""
    CRUDE = "crude"
    """Three business days before the 25th of the month before the contract month (crude oil)."""
    METALS = "metals"
    """Third-last business day of the month before the contract month (approximation for metals)."""


def day_of(date: dt.date) -> int:
    """Day number of a calendar date."""
    return (date - _EPOCH).days


def date_of(day: int) -> dt.date:
    """Calendar date of a day number."""
    return _EPOCH + dt.timedelta(days=int(day))


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday (Monday=0) of day numbers."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def is_business_day(date: dt.date) -> bool:
    """Monday to Friday."""
    return date.weekday() < 5


def add_business_days(date: dt.date, n: int) -> dt.date:
    """``date`` moved by ``n`` business days (negative moves back); ``date`` itself need not be one."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        date += dt.timedelta(days=step)
        if is_business_day(date):
            remaining -= 1
    return date


def previous_business_day(date: dt.date) -> dt.date:
    """``date`` if it is a business day, else the business day before it."""
    while not is_business_day(date):
        date -= dt.timedelta(days=1)
    return date


def last_business_day(year: int, month: int) -> dt.date:
    """Last Monday-Friday of a month."""
    return previous_business_day(dt.date(year, month, _stdcal.monthrange(year, month)[1]))


def nth_weekday(year: int, month: int, weekday_: int, n: int) -> dt.date:
    """The ``n``-th (1-based) given weekday of a month."""
    first = dt.date(year, month, 1)
    offset = (weekday_ - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def month_before(year: int, month: int) -> tuple[int, int]:
    """The calendar month before ``year``-``month``."""
    return (year, month - 1) if month > 1 else (year - 1, 12)


def add_months(date: dt.date, months: int) -> dt.date:
    """``date`` moved by whole calendar months, the day clamped to the target month's length."""
    index = date.year * 12 + (date.month - 1) + months
    year, month = divmod(index, 12)
    day = min(date.day, _stdcal.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def expiration_date(rule: ExpiryRule, year: int, month: int) -> dt.date:
    """Last trading day of the contract for ``year``-``month`` under ``rule``."""
    if rule is ExpiryRule.THIRD_FRIDAY:
        return nth_weekday(year, month, 4, 3)
    if rule is ExpiryRule.FX_IMM:
        return add_business_days(nth_weekday(year, month, 2, 3), -2)
    if rule is ExpiryRule.TREASURY:
        return add_business_days(last_business_day(year, month), -7)
    if rule is ExpiryRule.CRUDE:
        prior_year, prior_month = month_before(year, month)
        return add_business_days(previous_business_day(dt.date(prior_year, prior_month, 25)), -3)
    if rule is ExpiryRule.METALS:
        prior_year, prior_month = month_before(year, month)
        return add_business_days(last_business_day(prior_year, prior_month), -2)
    raise AssertionError(f"unhandled expiry rule {rule}")


@functools.lru_cache(maxsize=256)
def _chicago_offsets_hours(year: int) -> np.ndarray:
    """UTC offset of America/Chicago (hours, -6 or -5) at 12:00 UTC of each day of ``year``."""
    first = dt.date(year, 1, 1)
    n = (dt.date(year + 1, 1, 1) - first).days
    noon = dt.datetime(year, 1, 1, 12, tzinfo=dt.UTC)
    offsets = [
        (noon + dt.timedelta(days=i)).astimezone(_CHICAGO).utcoffset() for i in range(n)
    ]
    out = np.array([o.total_seconds() // 3600 for o in offsets if o is not None], dtype=np.int64)
    out.flags.writeable = False
    return out


def chicago_offsets(days: np.ndarray) -> np.ndarray:
    """UTC offset of America/Chicago in whole hours for each day number (DST-aware).

    The offset is taken at 12:00 UTC; DST switches at 02:00 local on a Sunday, when Globex is
    closed, so every open hour of the day has this offset.
    """
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return np.zeros(0, dtype=np.int64)
    years = (days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int64)
    out = np.empty(days.shape, dtype=np.int64)
    for year in np.unique(years):
        sel = years == year
        start = day_of(dt.date(int(year), 1, 1))
        out[sel] = _chicago_offsets_hours(int(year))[days[sel] - start]
    return out


def globex_session(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CME Globex hours per UTC day: ``(open_mask, local_hour)``, both shaped ``(len(days), 24)``.

    ``open_mask[i, h]`` is true when the hour starting at ``days[i]`` + ``h`` hours (UTC) is in
    the session: Sunday 17:00 to Friday 16:00 America/Chicago, closed 16:00-17:00 every day
    (23 hours a trading day). ``local_hour`` is the hour of day in Chicago.
    """
    days = np.asarray(days, dtype=np.int64)
    offsets = chicago_offsets(days)
    local = np.arange(HOURS_PER_DAY, dtype=np.int64)[None, :] + offsets[:, None]
    local_weekday = (weekday(days)[:, None] + np.floor_divide(local, HOURS_PER_DAY)) % 7
    local_hour = np.mod(local, HOURS_PER_DAY)
    closed = (
        (local_hour == 16)
        | (local_weekday == 5)
        | ((local_weekday == 4) & (local_hour >= 16))
        | ((local_weekday == 6) & (local_hour < 17))
    )
    return ~closed, local_hour


def to_ns(value: dt.date | dt.datetime) -> int:
    """UTC nanoseconds of a date (its 00:00 UTC) or datetime (naive means UTC)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000
    return day_of(value) * NS_PER_DAY

"""Exchange calendars: trade dates as CME books them, holidays and early closes, per parent.

A parent's calendar is named in ``<lake>/_config/parents.toml`` (``calendar = "CMES"``),
else chosen from its exchange (:mod:`rst.calendars.groups`); :func:`get_calendar`
builds it once per process from the ``exchange_calendars`` library (imported lazily,
only here) plus rst's booking rule (:mod:`rst.calendars.booking`), and keeps the tables on
disk (:mod:`rst.calendars.store`) so later processes need not import the library. See
``docs/trading_dates.md``.
"""

from __future__ import annotations

from rst.calendars.calendar import RANGE, TradingCalendar, get_calendar
from rst.calendars.groups import (
    EXCHANGE_CALENDARS,
    PRODUCT_GROUP_CALENDARS,
    WEEKDAYS,
    calendar_for_exchange,
    validate_calendar_name,
)

__all__ = [
    "EXCHANGE_CALENDARS",
    "PRODUCT_GROUP_CALENDARS",
    "RANGE",
    "WEEKDAYS",
    "TradingCalendar",
    "calendar_for_exchange",
    "get_calendar",
    "validate_calendar_name",
]

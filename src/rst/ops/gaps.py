"""Gaps that are real gaps: trade dates missing inside the dates a day-partitioned table covers.

A day-partitioned table (``dt=``; bronze cuts by raw date, silver by trade date) covers
the trade dates from its first to its last partition. A trade date of the parent's
calendar (:mod:`rst.calendars`) inside that span with no partition is a **gap**;
weekends and holidays are not trade dates, so they are never reported, and a holiday's
abbreviated session (bronze raw date) counts for the trade date CME books it to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from rst.framework.lake import Layer
from rst.framework.partition import Granularity
from rst.framework.stage import Stage


@dataclass(frozen=True)
class Gap:
    """Trade dates of ``table`` missing between its first and last partition."""

    layer: str
    symbol: str
    table: str
    dates: tuple[dt.date, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "symbol": self.symbol, "table": self.table,
            "dates": [d.isoformat() for d in self.dates],
        }  # fmt: skip

    def describe(self) -> str:
        shown = ", ".join(d.isoformat() for d in self.dates[:5]) + (" …" if len(self.dates) > 5 else "")
        return f"{self.layer}/{self.symbol}/{self.table}: {len(self.dates)} missing trade date(s): {shown}"


def table_gaps(stage: Stage) -> Gap | None:
    """The gap of one day-partitioned stage's existing partitions (None when there is none)."""
    if stage.granularity is not Granularity.DAY:
        return None
    keys = stage.existing_keys()
    if len(keys) < 2:
        return None
    from rst.calendars import WEEKDAYS, get_calendar
    from rst.errors import InputMissing, PartitionCorrupt
    from rst.parents import parent_calendar

    try:
        calendar = get_calendar(parent_calendar(stage.lake, stage.symbol))
    except (InputMissing, PartitionCorrupt):  # no usable definitions: status reports the corrupt partition
        calendar = get_calendar(WEEKDAYS)
    present = np.unique(calendar.book(np.array([k.start for k in keys], dtype="datetime64[D]")))
    span = np.arange(present[0], present[-1] + np.timedelta64(1, "D"), dtype="datetime64[D]")
    expected = span[calendar.is_trading_day(span)]
    missing = np.setdiff1d(expected, present)
    if missing.size == 0:
        return None
    return Gap(stage.layer.value, stage.symbol, stage.table, tuple(d.item() for d in missing))


def lake_gaps(stages: list[Stage]) -> list[Gap]:
    """The gaps of every day-partitioned stage in ``stages`` (bronze and silver only)."""
    found = [table_gaps(s) for s in stages if s.layer in (Layer.BRONZE, Layer.SILVER)]
    return [g for g in found if g is not None]


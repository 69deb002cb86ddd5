"""Gold session windows: the rows of a silver intraday table inside a wall-clock window of each trading date.

Default: ``mbp_10_first3h`` = silver ``mbp_10`` rows whose ``ts_event`` lies in
``[09:30, 12:30)`` America/New_York on the partition's trading date (start
inclusive, end exclusive; the window is computed in the zone for that date, so it
follows daylight-saving changes: 14:30-17:30 UTC in winter, 13:30-16:30 UTC in
summer). ``dt=`` partitions, one per silver partition; same columns as the source
silver table (``schemas/gold/<name>.avsc`` when present, else the silver contract).

More windows (or another source table) can be declared in ``<lake>/_config/gold.toml``::

    [windows.trades_open30m]
    table = "trades"
    start = "09:30"
    end = "10:00"
    zone = "America/New_York"

A declared window replaces the default of the same name. The window is part of the
stage's ``params`` (so editing it makes the partitions stale).

Early closes: on a trade date the parent's calendar (:mod:`rst.calendars`) closes early
(CME: the day after Thanksgiving, Christmas Eve), the window is **clipped** at the close
(rows at or after it are not kept), and the partition is **marked** by the manifest counter
``early_close_clipped`` = 1; a window that opens at or after the close is empty (counter
``early_close_skipped`` = 1). The default 09:30-12:30 New York window ends before every CME
early close (12:00 Chicago = 13:00 New York) and is never clipped. The calendar's digest
over the partition's date is in ``params``, so a calendar change stales exactly the
partitions it touches.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow as pa

from rst.errors import ConfigError
from rst.framework.contract import Contract, load_contract
from rst.framework.lake import Lake, Layer
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.framework.stage import Input, PartitionInput, Stage, StageContext
from rst.stages.registry import register
from rst.stages.silver.base import SilverStage, localize_contract
from rst.stages.silver.intraday import iter_bronze

CONFIG_NAME = "gold.toml"


@dataclass(frozen=True)
class SessionWindow:
    """``[start, end)`` wall-clock time in ``zone`` of each trading date, over silver ``table``."""

    name: str = "mbp_10_first3h"
    table: str = "mbp_10"
    start: dt.time = dt.time(9, 30)
    end: dt.time = dt.time(12, 30)
    zone: str = "America/New_York"

    def bounds_ns(self, day: dt.date) -> tuple[int, int]:
        """UTC ns ``[lo, hi)`` of the window on ``day``."""
        zone = ZoneInfo(self.zone)
        lo = dt.datetime.combine(day, self.start, zone)
        hi = dt.datetime.combine(day, self.end, zone)
        return _ns(lo), _ns(hi)

    def params(self) -> dict[str, str]:
        return {"source_table": self.table, "start": self.start.isoformat(), "end": self.end.isoformat(), "zone": self.zone}


DEFAULT_WINDOWS = (SessionWindow(),)


def _ns(when: dt.datetime) -> int:
    delta = when.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def windows(lake: Lake) -> list[SessionWindow]:
    """The default windows overridden/extended by ``<lake>/_config/gold.toml``."""
    found = {w.name: w for w in DEFAULT_WINDOWS}
    path = lake.internal("config") / CONFIG_NAME
    if path.is_file():
        try:
            doc = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(path, f"unreadable gold config: {exc}") from exc
        for name, spec in doc.get("windows", {}).items():
            try:
                start, end = dt.time.fromisoformat(spec["start"]), dt.time.fromisoformat(spec["end"])
                ZoneInfo(spec.get("zone", "America/New_York"))
            except (KeyError, ValueError, TypeError) as exc:
                raise ConfigError(path, f"[windows.{name}] needs start/end as HH:MM and a valid zone: {exc}") from exc
            if end <= start:
                raise ConfigError(path, f"[windows.{name}] end {end} is not after start {start}")
            found[name] = SessionWindow(name, spec.get("table", "mbp_10"), start, end, spec.get("zone", "America/New_York"))
    return list(found.values())


class SessionWindowStage(SilverStage):
    """Gold table of one :class:`SessionWindow` (reuses the silver zone handling)."""

    layer = Layer.GOLD
    granularity = Granularity.DAY
    version = "2"

    def __init__(self, lake: Lake, symbol: str, window: SessionWindow = DEFAULT_WINDOWS[0]) -> None:
        super().__init__(lake, symbol, window.params())
        self.window = window
        self.table = window.name  # type: ignore[misc]

    @property
    def contract(self) -> Contract:
        try:
            base = load_contract(self.layer.value, self.table)
        except ConfigError:
            base = load_contract(Layer.SILVER.value, self.window.table)
        return localize_contract(base, self.timezone, self.local_columns)

    def source(self, key: PartitionKey) -> Partition:
        return Partition(Layer.SILVER, self.symbol, self.window.table, key)

    def inputs(self, key: PartitionKey) -> list[Input]:
        source = self.source(key)
        return self.with_calendar(key, [PartitionInput(source)] if self.complete(source) else [])

    def available_keys(self) -> list[PartitionKey]:
        from rst.stages.silver.intraday import SilverIntradayStage

        upstream = SilverIntradayStage(self.lake, self.symbol, self.window.table).available_keys()
        return sorted(set(upstream) | set(self.existing_keys()))

    def keys_for_dates(self, dates: list[dt.date]) -> list[PartitionKey]:  # type: ignore[override]
        return super().keys_for_dates(self.keep_trade_dates(list(dates)))

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        lo, hi = self.window.bounds_ns(ctx.partition.key.start)
        close = self.calendar.early_close_ns(ctx.partition.key.start)
        if close is not None and close < hi:
            if close <= lo:
                ctx.count("early_close_skipped", 1)
                return
            hi = close
            ctx.count("early_close_clipped", 1)
        inside = pl.col("ts_event").dt.epoch("ns").is_between(lo, hi, closed="left")
        columns = self.contract.arrow_schema.names
        for batch in iter_bronze(ctx, self.window.table):
            ctx.rows_in += batch.height
            kept = batch.filter(inside)
            if kept.height:
                yield kept.select(columns).to_arrow()


@register(Layer.GOLD)
def gold_window_stages(lake: Lake, symbol: str) -> list[Stage]:
    """One session-window stage per window whose source table the parent has."""
    from rst.stages.silver import bronze_tables

    tables = bronze_tables(lake, symbol)
    return [SessionWindowStage(lake, symbol, w) for w in windows(lake) if w.table in tables]

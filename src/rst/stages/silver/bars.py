"""Silver OHLCV bars: bronze bars with their contract's definition as of the bar, local time, trading date.

One silver table per bronze bar table (``ohlcv_1d``, ``ohlcv_1h``, ``ohlcv_1m``,
``ohlcv_1s``), same name, same partitioning; a partition reads the bronze
partition with the same key and the definition years it needs
(:meth:`SilverStage.definition_inputs`).

Columns: the bronze columns (prices int64 fixed-point 1e-9, ``ts_event`` UTC,
``source_file``) plus ``ts_event_local`` (parent zone), ``trading_date``, the
contract fields ``symbol`` (the definition's raw symbol), ``expiration``,
``activation``, ``tick_size`` (``min_price_increment``), ``point_value``
(``unit_of_measure_qty``), ``currency``, ``exchange``, ``asset`` and
``definition_ts_recv`` (which publication was joined). Bars with no definition
go to ``<table>_quarantine`` with the reason.

Trading dates: GLBX ``ohlcv-1d`` bars are UTC calendar days (``ts_event`` 00:00
UTC), so a daily bar's trading date is its UTC date; every other bar gets the
trade date of its ``ts_event`` as CME books it (17:00-16:00 local; weekends and
holiday sessions to the next trade date of the parent's calendar), and a partition
of trade dates reads the bronze partitions of every raw date booked into it
(:meth:`SilverStage.raw_keys`). See ``docs/trading_dates.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import ClassVar

import polars as pl
import pyarrow as pa

from rst.framework.partition import Granularity, PartitionKey
from rst.framework.stage import Input, PartitionInput, Role, StageContext
from rst.stages.silver.asof import BAR_NS, NO_DEFINITION, join_definitions, with_asof_instant
from rst.stages.silver.base import SilverStage, local_and_trading_date, read_definition_facts, read_inputs

BRONZE_BAR_COLUMNS = [
    "ts_event", "rtype", "publisher_id", "instrument_id", "symbol",
    "open", "high", "low", "close", "volume", "source_file",
]  # fmt: skip
SILVER_BAR_COLUMNS = [
    "ts_event", "ts_event_local", "trading_date", "rtype", "publisher_id", "instrument_id", "symbol",
    "open", "high", "low", "close", "volume",
    "expiration", "activation", "tick_size", "point_value", "currency", "exchange", "asset",
    "definition_ts_recv", "source_file",
]  # fmt: skip


class SilverBarStage(SilverStage):
    """Silver bars of one size; subclasses name the table, granularity and date basis."""

    version = "2"
    date_basis: ClassVar[str] = "session"

    def inputs(self, key: PartitionKey) -> list[Input]:
        if not self.complete(self.bronze(self.table, key)):
            return []
        if self.date_basis == "utc":
            bars = [self.bronze(self.table, key)]
        else:
            bars = [self.bronze(self.table, k) for k in self.raw_keys(key, self.granularity)]
        found: list[Input] = [PartitionInput(b) for b in bars if self.complete(b)]
        if not found:
            return []
        inputs = [*found, *self.definition_inputs(key)]
        return self.with_zone(inputs) if self.date_basis == "utc" else self.with_calendar(key, inputs)

    def available_keys(self) -> list[PartitionKey]:
        """Partitions bronze can build (from the raw zone) or has built, by the trade dates they book into."""
        raw = bronze_keys(self.lake, self.symbol, self.table)
        if self.date_basis == "session":
            raw = self.trade_keys(raw)
        return sorted(set(raw) | set(self.existing_keys()))

    def keys_for_dates(self, dates: list[dt.date]) -> list[PartitionKey]:  # type: ignore[override]
        if self.granularity is Granularity.DAY and self.date_basis == "session":
            dates = self.keep_trade_dates(list(dates))
        return super().keys_for_dates(dates)

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        bars = read_inputs(ctx, Role.RECORDS)
        if bars is None or bars.is_empty():
            return
        key = ctx.partition.key
        calendar = None if self.date_basis == "utc" else self.calendar
        bars = local_and_trading_date(bars, self.session, self.date_basis, calendar)
        if calendar is not None:  # neighbouring raw partitions: keep this partition's trade dates
            bars = bars.filter(pl.col("trading_date").is_between(key.start, key.end, closed="left"))
        ctx.rows_in += bars.height
        facts = read_definition_facts(ctx)
        good, missing = join_definitions(with_asof_instant(bars, BAR_NS[self.table]), facts)
        if missing.height:
            ctx.quarantine(missing.select(BRONZE_BAR_COLUMNS, reason=pl.lit(NO_DEFINITION)).to_arrow())
        yield good.select(SILVER_BAR_COLUMNS).to_arrow()


class SilverOhlcv1d(SilverBarStage):
    table = "ohlcv_1d"
    quarantine_table = "ohlcv_1d_quarantine"
    granularity = Granularity.YEAR
    date_basis = "utc"
    version = "1"


class SilverOhlcv1h(SilverBarStage):
    table = "ohlcv_1h"
    quarantine_table = "ohlcv_1h_quarantine"
    granularity = Granularity.MONTH


class SilverOhlcv1m(SilverBarStage):
    table = "ohlcv_1m"
    quarantine_table = "ohlcv_1m_quarantine"
    granularity = Granularity.DAY


class SilverOhlcv1s(SilverBarStage):
    table = "ohlcv_1s"
    quarantine_table = "ohlcv_1s_quarantine"
    granularity = Granularity.DAY


SILVER_BAR_STAGES: dict[str, type[SilverBarStage]] = {
    cls.table: cls for cls in (SilverOhlcv1d, SilverOhlcv1h, SilverOhlcv1m, SilverOhlcv1s)
}


def bronze_keys(lake: object, symbol: str, table: str) -> list[PartitionKey]:
    """Keys of bronze ``table``: what its stage can build from the raw zone, plus what exists."""
    from rst.stages.bronze import BRONZE_STAGES

    for cls in BRONZE_STAGES.values():
        if cls.table == table:
            stage = cls(lake, symbol)  # type: ignore[arg-type]
            return sorted(set(stage.available_keys()) | set(stage.existing_keys()))
    return []

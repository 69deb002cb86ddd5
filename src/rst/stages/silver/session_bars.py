"""Session-aligned daily bars (``ohlcv_1d_session``), aggregated from bronze hourly bars.

GLBX ``ohlcv-1d`` bars are UTC calendar days; a trend follower usually wants
exchange sessions (CME: 17:00 the previous business day to 16:00 America/Chicago).
This table builds them from bronze ``ohlcv_1h``: per instrument and trading date,
``open`` = first hourly open, ``high`` = max, ``low`` = min, ``close`` = last
hourly close, ``volume`` = sum, ``bar_count`` = hourly bars aggregated. Each
hourly bar is first joined to its definition as of the bar (hourly bars without
one go to ``ohlcv_1d_session_quarantine`` and are not aggregated); a session
carries the definition fields as of its last hourly bar. ``ts_event`` is the
open time of the session's first hourly bar; ``source_file`` lists the raw
files of its hourly bars, ``;``-separated.

Trade dates as CME books them (:mod:`rst.calendars`): the abbreviated Globex
session on a holiday (MLK day, …) belongs to the next trade date, whose row then
aggregates both sessions; a holiday has no row.

Year partitions (trade-date year); a year reads the bronze hourly month partitions
of every raw date booked into it (:meth:`SilverStage.raw_keys`: bronze cuts hourly
bars by raw CME date, so a late-December holiday session of the year before is read
too, and for a parent in another zone one more day each side).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from rst.framework.partition import Granularity, PartitionKey, keys_between
from rst.framework.stage import Input, PartitionInput, Role, StageContext
from rst.parents.metadata import CONTRACT_FIELDS
from rst.stages.silver.asof import BAR_NS, NO_DEFINITION, join_definitions, with_asof_instant
from rst.stages.silver.bars import BRONZE_BAR_COLUMNS, bronze_keys
from rst.stages.silver.base import SilverStage, local_and_trading_date, read_definition_facts, read_inputs

HOURLY = "ohlcv_1h"
SESSION_COLUMNS = [
    "trading_date", "ts_event", "ts_event_local", "instrument_id", "symbol",
    "open", "high", "low", "close", "volume", "bar_count",
    "expiration", "activation", "tick_size", "point_value", "currency", "exchange", "asset",
    "definition_ts_recv", "source_file",
]  # fmt: skip


def aggregate_sessions(hourly: pl.DataFrame) -> pl.DataFrame:
    """Session bars from hourly bars that carry ``trading_date`` and the definition fields.

    Pure and columnar; rows sorted by (trading_date, instrument_id).
    """
    last_fields = [pl.col(c).last() for c in [*CONTRACT_FIELDS, "definition_ts_recv"]]
    return (
        hourly.sort("instrument_id", "ts_event")
        .group_by("instrument_id", "trading_date", maintain_order=True)
        .agg(
            pl.col("ts_event").first(),
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
            pl.len().cast(pl.UInt32).alias("bar_count"),
            *last_fields,
            pl.col("source_file").unique().sort().str.join(";"),
        )
        .sort("trading_date", "instrument_id")
    )


class SilverSessionBars(SilverStage):
    """``ohlcv_1d_session``: daily bars per exchange session, from bronze hourly bars."""

    table = "ohlcv_1d_session"
    quarantine_table = "ohlcv_1d_session_quarantine"
    granularity = Granularity.YEAR
    version = "2"

    def inputs(self, key: PartitionKey) -> list[Input]:
        own = keys_between(Granularity.MONTH, key.start, key.end - dt.timedelta(days=1))
        if not any(self.complete(self.bronze(HOURLY, k)) for k in own):
            return []
        months = [self.bronze(HOURLY, k) for k in self.raw_keys(key, Granularity.MONTH)]
        inputs: list[Input] = [PartitionInput(p) for p in months if self.complete(p)]
        return self.with_calendar(key, [*inputs, *self.definition_inputs(key)])

    def available_keys(self) -> list[PartitionKey]:
        months = bronze_keys(self.lake, self.symbol, HOURLY)
        return sorted(set(self.trade_keys(months)) | set(self.existing_keys()))

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        hourly = read_inputs(ctx, Role.RECORDS)
        if hourly is None or hourly.is_empty():
            return
        key = ctx.partition.key
        hourly = local_and_trading_date(hourly, self.session, "session", self.calendar)
        hourly = hourly.filter(pl.col("trading_date").is_between(key.start, key.end, closed="left"))
        ctx.rows_in += hourly.height
        good, missing = join_definitions(with_asof_instant(hourly, BAR_NS[HOURLY]), read_definition_facts(ctx))
        if missing.height:
            ctx.quarantine(missing.select(BRONZE_BAR_COLUMNS, reason=pl.lit(NO_DEFINITION)).to_arrow())
        sessions = aggregate_sessions(good)
        sessions = sessions.with_columns(pl.col("ts_event").dt.convert_time_zone(self.timezone).alias("ts_event_local"))
        yield sessions.select(SESSION_COLUMNS).to_arrow()

"""Silver intraday tables: bronze records with their contract's definition as of ``ts_recv``, local time, trading date.

One silver table per bronze intraday table (``mbp_10``, ``mbp_1``, ``tbbo``,
``trades``, ``statistics``, ``status``, ``mbo``), same name, ``dt=`` partitions with the same
keys; a partition reads the bronze partition with the same key and the bronze
definition years :meth:`SilverStage.definition_inputs` names.

Columns: the bronze columns plus ``ts_event_local`` (``ts_event`` in the parent's
zone, :mod:`rst.parents`), ``trading_date`` (trade date of ``ts_recv`` as CME books it,
:mod:`rst.calendars`; it always equals the partition's date: a partition reads the bronze
partitions of every raw date booked into it, so the Tuesday after MLK day also reads
bronze Monday, and a holiday has no silver partition), and the
contract fields of :func:`rst.stages.silver.asof.join_definitions` (``symbol`` from
the definition, ``expiration``, ``activation``, ``tick_size``, ``point_value``,
``currency``, ``exchange``, ``asset``, ``definition_ts_recv``). The as-of instant of a
record is its ``ts_recv``: the definition used is the latest one of its instrument
received at or before the record. Records without one go to ``<table>_quarantine``
(reason :data:`NO_DEFINITION`).

Streaming: the bronze parts are read batch by batch (``pyarrow.parquet.ParquetFile.iter_batches``)
and joined per batch; the definition facts are small and read once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import ClassVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from rst.framework.lake import Lake, Layer
from rst.framework.partition import Granularity, PartitionKey
from rst.framework.sessions import trading_date_expr
from rst.framework.stage import Input, PartitionInput, Role, Stage, StageContext
from rst.stages.registry import register
from rst.stages.silver.asof import ASOF, join_definitions
from rst.stages.silver.bars import bronze_keys
from rst.stages.silver.base import LOCAL_COLUMN, SilverStage, read_definition_facts

NO_DEFINITION = "no definition of the instrument at or before the record's ts_recv"
INTRADAY_TABLES = ("mbp_10", "mbp_1", "tbbo", "trades", "statistics", "status", "mbo")
READ_ROWS = 65_536


class SilverIntradayStage(SilverStage):
    """Silver table of one bronze intraday table; :attr:`table` names both."""

    granularity = Granularity.DAY
    version = "2"
    quarantine_table: ClassVar[str | None] = None

    def __init__(self, lake: Lake, symbol: str, table: str, params: dict | None = None) -> None:
        super().__init__(lake, symbol, params)
        self.table = table  # type: ignore[misc]
        self.quarantine_table = f"{table}_quarantine"  # type: ignore[misc]

    def inputs(self, key: PartitionKey) -> list[Input]:
        if not self.complete(self.bronze(self.table, key)):
            return []
        records = [self.bronze(self.table, k) for k in self.raw_keys(key, Granularity.DAY)]
        found: list[Input] = [PartitionInput(r) for r in records if self.complete(r)]
        if not found:
            return []
        return self.with_calendar(key, [*found, *self.definition_inputs(key)])

    def available_keys(self) -> list[PartitionKey]:
        raw = bronze_keys(self.lake, self.symbol, self.table)
        return sorted(set(self.trade_keys(raw)) | set(self.existing_keys()))

    def keys_for_dates(self, dates: list[dt.date]) -> list[PartitionKey]:  # type: ignore[override]
        return super().keys_for_dates(self.keep_trade_dates(list(dates)))

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        facts = read_definition_facts(ctx)
        columns = self.contract.arrow_schema.names
        key = ctx.partition.key
        trading_date = trading_date_expr(pl.col("ts_recv"), self.session, self.calendar).alias("trading_date")
        for batch in iter_bronze(ctx, self.table):
            bronze_columns = batch.columns
            batch = batch.with_columns(trading_date).filter(pl.col("trading_date") == key.start)
            ctx.rows_in += batch.height
            good, missing = join_definitions(batch.with_columns(pl.col("ts_recv").alias(ASOF)), facts)
            if missing.height:
                ctx.quarantine(missing.select(bronze_columns).with_columns(reason=pl.lit(NO_DEFINITION)).to_arrow())
            if good.height:
                good = good.with_columns(pl.col("ts_event").dt.convert_time_zone(self.timezone).alias(LOCAL_COLUMN))
                yield good.select(columns).to_arrow()


def iter_bronze(ctx: StageContext, table: str, batch_rows: int = READ_ROWS) -> Iterator[pl.DataFrame]:
    """The rows of the partition's bronze ``table`` inputs, batch by batch (dictionary columns as strings)."""
    for path in ctx.files(Role.RECORDS):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            df = pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)
            yield df.with_columns(pl.col(pl.Categorical).cast(pl.String))


@register(Layer.SILVER)
def silver_intraday_stages(lake: Lake, symbol: str) -> list[Stage]:
    """One silver stage per bronze intraday table the parent has (or will have)."""
    from rst.stages.silver import bronze_tables

    tables = bronze_tables(lake, symbol)
    return [SilverIntradayStage(lake, symbol, t) for t in INTRADAY_TABLES if t in tables]

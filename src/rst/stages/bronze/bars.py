"""Bronze OHLCV bars (``ohlcv-1s/1m/1h/1d``): exact prices, outrights only, bad bars quarantined.

Output rows: one per (instrument, ``ts_event``) bar of an outright future, with
the raw symbol resolved, prices int64 fixed-point 1e-9, ``ts_event`` UTC ns and
``source_file`` naming the raw file. Duplicate bars from overlapping raw files
are dropped (first file by window wins) and counted, as the batches stream
(:class:`~rst.stages.bronze.dedup.FirstSeen`): memory grows with the distinct bars of
the partition, not with the records read. Partition keys: ``year``
for daily bars, ``month`` for hourly, ``dt`` (trading date) for minute and second
bars. Daily bars use the bar's UTC date (GLBX daily bars are UTC days).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa

from rst.framework.partition import Granularity
from rst.framework.stage import Role, StageContext
from rst.sources.dbn_file import DEFAULT_BATCH_RECORDS, iter_batches
from rst.stages.bronze.base import BronzeStage
from rst.stages.bronze.dedup import FirstSeen
from rst.stages.bronze.instruments import definition_directory, mapping_symbols, resolve
from rst.stages.bronze.quality import BAR_RULES, UNKNOWN_INSTRUMENT, split_bad

BAR_KEY = ["rtype", "instrument_id", "ts_event"]
"""A bar's identity: overlapping raw files repeat it; the first file by window wins."""
BATCH_RECORDS = 4 * DEFAULT_BATCH_RECORDS
"""Records per decoded batch (65,536): peak memory stays bounded whatever the file size."""
BAR_COLUMNS = [
    "ts_event", "rtype", "publisher_id", "instrument_id", "symbol",
    "open", "high", "low", "close", "volume", "source_file",
]  # fmt: skip


def read_records(
    ctx: StageContext, stage: BronzeStage, paths: list[Path], batch_records: int = BATCH_RECORDS
) -> Iterator[pl.DataFrame]:
    """Decode the data files of a partition batch by batch, keep the partition's records, tag their source file.

    A file feeding several partitions is decompressed once for all of them (``BronzeStage.aside``).
    """
    for path in paths:
        source = ctx.lake.relative(path)
        window = (stage.time_column, *stage.window_ns(ctx.partition.key))
        for batch in iter_batches(path, batch_records, time_filter=window, aside=stage.aside(ctx, path)):
            df = pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)
            ctx.rows_in += df.height
            inside = stage.date_expr(pl.col(stage.time_column)).is_between(
                pl.lit(ctx.partition.key.start), pl.lit(ctx.partition.key.end), closed="left"
            )
            df = df.filter(inside)
            yield df.with_columns(source_file=pl.lit(source))


def data_and_definition_paths(ctx: StageContext, schema: str) -> tuple[list[Path], list[Path]]:
    """A partition's raw data files and definition files (none for the definition table itself)."""
    data = ctx.raw_paths(Role.DATA)
    return (data, []) if schema == "definition" else (data, ctx.raw_paths(Role.DEFINITIONS))


class OhlcvStage(BronzeStage):
    """Bronze bars of one OHLCV size."""

    version = "1"
    time_column = "ts_event"

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        self.record_coverage(ctx)
        data_paths, def_paths = data_and_definition_paths(ctx, self.dbn_schema)
        directory = definition_directory(def_paths)
        first = FirstSeen(BAR_KEY)
        frames: list[pl.DataFrame] = []
        for path in data_paths:
            mappings = mapping_symbols(path)
            for batch in read_records(ctx, self, [path]):
                fresh = first.new_rows(batch)  # the key needs no resolution: resolve only the survivors
                if fresh.height or not frames:
                    frames.append(resolve(fresh, directory, mappings))
        if not frames:
            return
        df = pl.concat(frames)
        ctx.count("duplicates_dropped", first.dropped)
        df, unknown = split_bad(df, [UNKNOWN_INSTRUMENT])
        spreads = df.filter(~pl.col("is_outright"))
        ctx.count("spreads_filtered", spreads.height)
        df = df.filter(pl.col("is_outright"))
        good, bad = split_bad(df, BAR_RULES)
        bad = pl.concat([unknown, bad], how="vertical_relaxed")
        if bad.height:
            ctx.quarantine(bad.select(*BAR_COLUMNS, "reason").sort("ts_event", "instrument_id").to_arrow())
        yield good.select(BAR_COLUMNS).sort("ts_event", "instrument_id").to_arrow()


class Ohlcv1dStage(OhlcvStage):
    table = "ohlcv_1d"
    quarantine_table = "ohlcv_1d_quarantine"
    dbn_schema = "ohlcv-1d"
    granularity = Granularity.YEAR
    date_basis = "utc"


class Ohlcv1hStage(OhlcvStage):
    table = "ohlcv_1h"
    quarantine_table = "ohlcv_1h_quarantine"
    dbn_schema = "ohlcv-1h"
    granularity = Granularity.MONTH


class Ohlcv1mStage(OhlcvStage):
    table = "ohlcv_1m"
    quarantine_table = "ohlcv_1m_quarantine"
    dbn_schema = "ohlcv-1m"
    granularity = Granularity.DAY


class Ohlcv1sStage(OhlcvStage):
    table = "ohlcv_1s"
    quarantine_table = "ohlcv_1s_quarantine"
    dbn_schema = "ohlcv-1s"
    granularity = Granularity.DAY

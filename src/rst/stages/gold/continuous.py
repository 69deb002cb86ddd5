"""Gold continuous series: one table per saved series definition, one partition for all dates.

``gold/product_type=future/symbol=<PARENT>/table=continuous_<series_id>/span=all/``:
a back-adjusted series rewrites its whole history at every roll, so the series
is one partition (:attr:`Granularity.ALL`) rebuilt whenever its inputs change.

Inputs: every complete silver partition of the parent's daily bars
(``ohlcv_1d``; ``ohlcv_1d_session`` for a parent with hourly but no daily bars),
and the series definition's fingerprint in ``params`` (so editing a definition
makes the partition stale), plus every complete silver ``statistics`` partition of
the parent: ``settlement`` and ``open_interest`` of each bar come from them
(:func:`rst.stages.silver.statistics.settlement_oi_from_files`, joined on instrument and
trading date) and are null without statistics; a series with
``price_field = settlement`` then has no reference price and never adjusts.

Transform: :func:`rst.series.update` on the previous output when that output
was built by the same stage version from the same definition and only the
recent input partitions changed; :func:`rst.series.build` otherwise. The two
give identical frames (``tests/stages/test_gold.py`` checks it on a lake), so
the output is a pure function of inputs and parameters either way.

Columns: :data:`rst.series.SERIES_SCHEMA` (``schemas/gold/continuous.avsc``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

import polars as pl
import pyarrow as pa

from rst.calendars import TradingCalendar
from rst.errors import PartitionCorrupt, SeriesError
from rst.framework.contract import Contract, load_contract
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import Manifest, read_manifest
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.framework.stage import Input, PartitionInput, Role, Stage, StageContext
from rst.read import partition_files
from rst.series import SeriesDefinition, build, update
from rst.stages.silver.base import DEFINITION_TABLE
from rst.stages.silver.statistics import TABLE as STATISTICS_TABLE
from rst.stages.silver.statistics import settlement_oi_from_files, with_settlement_oi

CONTRACT_TABLE = "continuous"
SPAN = PartitionKey(Granularity.ALL, "all")
INCREMENTAL_WINDOW = dt.timedelta(days=40)
"""Input partitions that changed must all reach this close to the existing series' end for an
incremental update; a change further back (a revised old year) triggers a full build."""

BAR_COLUMNS = [
    "trading_date", "instrument_id", "symbol", "expiration", "open", "high", "low", "close", "volume",
]  # fmt: skip


def table_name(series_id: str) -> str:
    """Gold table of a series: ``continuous_<series_id>``."""
    return f"{CONTRACT_TABLE}_{series_id}"


def read_bars(files: Iterable[str | PurePosixPath], lake: Lake) -> pl.DataFrame:
    """Silver daily bars as the series engine takes them (``open_interest``/``settlement`` null; see ``transform``)."""
    paths = [lake.root / str(f) for f in files]
    if not paths:
        return pl.DataFrame(schema={c: pl.Null for c in BAR_COLUMNS})
    df = pl.scan_parquet(paths, hive_partitioning=False).select(BAR_COLUMNS).collect()
    return df.with_columns(
        pl.col("symbol").cast(pl.String),
        pl.col("volume").cast(pl.Int64),
        pl.lit(None, dtype=pl.Int64).alias("open_interest"),
        pl.lit(None, dtype=pl.Int64).alias("settlement"),
    )


class ContinuousSeriesStage(Stage):
    """The gold table of one saved continuous series."""

    layer = Layer.GOLD
    table = CONTRACT_TABLE
    granularity = Granularity.ALL
    version = "1"

    def __init__(self, lake: Lake, symbol: str, defn: SeriesDefinition, bars_table: str = "ohlcv_1d") -> None:
        if defn.parent != symbol:
            raise SeriesError(f"series '{defn.series_id}' is for {defn.parent}, not {symbol}")
        super().__init__(
            lake,
            symbol,
            {"series_id": defn.series_id, "fingerprint": defn.fingerprint(), "bars_table": bars_table},
        )
        self.table = table_name(defn.series_id)  # type: ignore[misc]
        self.defn = defn
        self.bars_table = bars_table

    @property
    def contract(self) -> Contract:
        return load_contract(self.layer.value, CONTRACT_TABLE)

    def keys_for_dates(self, dates: Iterable[dt.date]) -> list[PartitionKey]:
        """Any date addresses the one partition."""
        return [SPAN] if list(dates) else []

    def available_keys(self) -> list[PartitionKey]:
        return [SPAN]

    def inputs(self, key: PartitionKey) -> list[Input]:
        inputs: list[Input] = [
            PartitionInput(Partition(Layer.SILVER, self.symbol, self.bars_table, k), Role.BARS)
            for k in self.complete_keys(Layer.SILVER, self.bars_table)
        ]
        if inputs:
            inputs += [
                PartitionInput(Partition(Layer.SILVER, self.symbol, STATISTICS_TABLE, k), Role.STATISTICS)
                for k in self.complete_keys(Layer.SILVER, STATISTICS_TABLE)
            ]
            self._record_calendar()
        return inputs

    def waits_for(self) -> tuple[tuple[Layer, str], ...]:
        return ((Layer.BRONZE, DEFINITION_TABLE),)  # the calendar counts days_before_expiry

    def _record_calendar(self) -> None:
        """The parent's calendar (identity and digest) joins the lineage: it counts ``days_before_expiry``."""
        from rst.calendars import RANGE, get_calendar
        from rst.parents import parent_calendar

        calendar = get_calendar(parent_calendar(self.lake, self.symbol))
        self.params["calendar"] = calendar.identity
        self.params["calendar_days"] = calendar.digest(*RANGE)

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        bars = read_bars([self.lake.relative(f) for f in ctx.files(Role.BARS)], self.lake)
        stat_files = ctx.files(Role.STATISTICS)
        if stat_files:
            bars = with_settlement_oi(bars, settlement_oi_from_files(stat_files))
        ctx.rows_in += bars.height
        existing = self._previous_output(ctx)
        if existing is not None:
            try:
                series = update(existing, bars, self.defn, calendar=self._calendar())
                ctx.count("incremental", 1)
            except SeriesError:
                existing = None
        if existing is None:
            series = build(bars, self.defn, self._calendar())
            ctx.count("full_build", 1)
        ctx.count("rolls", int(series.get_column("is_roll").sum()) if series.height else 0)
        yield series.to_arrow()

    def _calendar(self) -> TradingCalendar:
        from rst.calendars import get_calendar

        return get_calendar(str(self.params["calendar"]).rsplit("/", 1)[0])

    # ---- incremental -----------------------------------------------------------------
    def _previous_output(self, ctx: StageContext) -> pl.DataFrame | None:
        """The committed output, if an incremental update from it is valid (see the module docstring)."""
        directory = ctx.partition.path(self.lake)
        previous = read_manifest(directory)
        if previous is None or not self._same_series(previous) or previous.rows_out == 0:
            return None
        try:
            existing = pl.read_parquet(partition_files(directory, self.lake), hive_partitioning=False)
        except PartitionCorrupt:  # never extend a tampered output: rebuild it whole
            return None
        if existing.is_empty():
            return None
        last = existing.get_column("trading_date").max()
        assert isinstance(last, dt.date)
        current = _current_files(ctx)
        changed = {p for p, _ in {(i.path, i.sha256) for i in previous.inputs} - current}
        for path in changed:
            key = PartitionKey.parse(PurePosixPath(path).parent.name)
            if key.end <= last - INCREMENTAL_WINDOW:
                return None
        return existing

    def _same_series(self, previous: Manifest) -> bool:
        return (
            previous.stage_version == self.version
            and previous.params.get("fingerprint") == self.params["fingerprint"]
            and previous.params.get("bars_table") == self.bars_table
            and previous.schema_fingerprint == self.contract.fingerprint
        )


def _current_files(ctx: StageContext) -> set[tuple[str, str]]:
    """(path, sha256) of the output files of the partition's input partitions."""
    out: set[tuple[str, str]] = set()
    for item in ctx.inputs:
        if isinstance(item, PartitionInput):
            directory = item.partition.path(ctx.lake)
            manifest = read_manifest(directory)
            if manifest is not None:
                base = ctx.lake.relative(directory)
                out.update((f"{base}/{o.path}", o.sha256) for o in manifest.outputs)
    return out

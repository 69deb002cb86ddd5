"""Continuous series as operations: save, delete, build on demand, update with progress, read with roll events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rst.framework.lake import Lake, Layer
from rst.framework.stage import Outcome, PartitionResult
from rst.series import SeriesDefinition

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class SeriesBuild:
    """What building a series did: ``result`` is None when the parent has no data to build it from."""

    definition: SeriesDefinition
    result: PartitionResult | None

    @property
    def ready(self) -> bool:
        return self.result is not None and self.result.outcome in (Outcome.BUILT, Outcome.SKIPPED)

    def next_step(self, lake: Lake) -> str:
        """The command that makes the series buildable (its parent's bars through silver)."""
        return f"rst run --layer all --symbol {self.definition.parent} --lake {lake.root}"


def build_series(lake: Lake, definition: SeriesDefinition) -> SeriesBuild:
    """Build (or confirm up to date) the gold partition of ``definition``; silver must already hold its bars."""
    from rst.framework.runner import run_tasks
    from rst.stages.gold.continuous import table_name
    from rst.stages.registry import plan

    tasks = plan(lake, [Layer.GOLD], [definition.parent], None, tables=[table_name(definition.series_id)])
    results = [r for r in run_tasks(tasks) if r.outcome is not Outcome.NO_INPUT]
    return SeriesBuild(definition, results[0] if results else None)


def save_series(lake: Lake, fields: Mapping[str, Any], *, replace: bool = False) -> SeriesDefinition:
    """Validate ``fields`` (a definition's mapping; ``start`` may be ``YYYY-MM-DD``) and save it.

    Raises ``SeriesError`` naming the field, or the id when it exists and ``replace`` is false.
    """
    from rst.series import SeriesStore

    defn = SeriesDefinition.from_mapping({k: v for k, v in fields.items() if k != "schema_version"})
    SeriesStore(lake.root).add(defn, replace=replace)
    return defn


def delete_series(lake: Lake, series_id: str) -> None:
    """Delete a saved definition (its gold table stays until invalidated)."""
    from rst.series import SeriesStore

    SeriesStore(lake.root).remove(series_id)


def update_series(
    lake: Lake,
    definition: SeriesDefinition,
    *,
    full: bool = False,
    on_result: Callable[[PartitionResult], None] | None = None,
) -> list[PartitionResult]:
    """Bring the parent's bronze and silver up to date, then build the series (``full``: from scratch).

    Without ``full`` the gold stage extends the previous output when only recent inputs changed
    (an incremental update, identical to a full build); with ``full`` it rebuilds it whole.
    """
    from rst.ops.pipeline import run_pipeline
    from rst.stages.gold.continuous import table_name

    upstream = run_pipeline(lake, [definition.parent], layers=(Layer.BRONZE, Layer.SILVER), on_result=on_result)
    gold = run_pipeline(
        lake, [definition.parent], layers=(Layer.GOLD,), tables=[table_name(definition.series_id)], force=full,
        on_result=on_result,
    )  # fmt: skip
    return upstream + gold


def series_bars(lake: Lake, definition: SeriesDefinition) -> pl.DataFrame:
    """The parent's silver daily bars exactly as the gold stage hands them to the series engine."""
    import polars as pl

    from rst.read import complete_partitions, partition_files
    from rst.stages.gold.continuous import read_bars
    from rst.stages.silver.statistics import TABLE as STATISTICS_TABLE
    from rst.stages.silver.statistics import settlement_oi_from_files, with_settlement_oi

    def files(table: str) -> list[str]:
        dirs = complete_partitions(lake, Layer.SILVER, definition.parent, table)
        return [lake.relative(f) for d in dirs for f in partition_files(d, lake)]

    bar_files = files("ohlcv_1d") or files("ohlcv_1d_session")
    bars = read_bars(bar_files, lake)
    stats = [lake.root / f for f in files(STATISTICS_TABLE)]
    if stats:
        bars = with_settlement_oi(bars, settlement_oi_from_files(stats))
    return bars.filter(pl.col("trading_date").is_not_null()) if bars.height else bars


def series_with_rolls(lake: Lake, definition: SeriesDefinition) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The built series (prices as float price units) and its roll events table.

    Raises ``InputMissing`` when the series has not been built yet.
    """
    import polars as pl

    from rst.calendars import get_calendar
    from rst.parents import parent_calendar
    from rst.read import read_series
    from rst.series import roll_events

    series = read_series(definition.series_id, lake=lake)
    if series.height:  # the parent's calendar counts days_before_expiry, as the gold build does
        calendar = get_calendar(parent_calendar(lake, definition.parent))
        events = roll_events(series, series_bars(lake, definition), definition, calendar)
    else:
        events = pl.DataFrame()
    prices = ["open", "high", "low", "close"]
    shown = series.with_columns([(pl.col(c) / 1e9).alias(c) for c in prices])
    if events.height:
        events = events.with_columns((pl.col("from_price") / 1e9), (pl.col("to_price") / 1e9))
    return shown, events

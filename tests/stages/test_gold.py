"""Gold continuous series: one row per trading date, exact unadjusted prices, seamless rolls,
staleness on a definition change, and incremental update == full rebuild on a lake."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.partition import Granularity, PartitionKey
from rst.framework.stage import Outcome, PartitionState
from rst.read import read_series, read_table
from rst.series import SeriesDefinition, SeriesStore
from rst.sources.raw_zone import RawZone
from rst.stages.gold import gold_stages
from rst.stages.gold.continuous import ContinuousSeriesStage, table_name
from synthetic_lake import PARENT, SERIES, run, shared_lake, write_raw

SPAN = PartitionKey(Granularity.ALL, "all")
DAILY = ["definition", "ohlcv-1d"]


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return shared_lake(tmp_path_factory)


def daily_bars(lake: Lake) -> pl.DataFrame:
    """Bronze daily bars keyed like the series: (trading_date = UTC date, instrument_id)."""
    bronze = read_table(Layer.BRONZE, PARENT, "ohlcv_1d", lake=lake)
    return bronze.select(
        pl.col("ts_event").dt.date().alias("trading_date"), "instrument_id", "open", "high", "low", "close"
    )


def with_previous(series: pl.DataFrame, bars: pl.DataFrame) -> pl.DataFrame:
    """Roll rows with the previous row's adjusted close and the new contract's close on that previous date."""
    prev = series.with_columns(
        pl.col("trading_date").shift(1).alias("prev_date"), pl.col("adj_close").shift(1).alias("prev_adj_close")
    ).filter(pl.col("is_roll") & pl.col("prev_date").is_not_null())
    new_on_prev = bars.select(
        pl.col("trading_date").alias("prev_date"), "instrument_id", pl.col("close").alias("new_prev_close")
    )
    return prev.join(new_on_prev, on=["prev_date", "instrument_id"], how="left")


@pytest.mark.parametrize("defn", SERIES, ids=[d.series_id for d in SERIES])
def test_one_row_per_trading_date_with_data(lake: Lake, defn: SeriesDefinition) -> None:
    series = read_series(defn.series_id, lake=lake)
    silver_dates = read_table(Layer.SILVER, PARENT, "ohlcv_1d", lake=lake)["trading_date"].unique().sort()
    assert series["trading_date"].is_unique().all()
    assert series["trading_date"].to_list() == silver_dates.to_list()
    assert series.height > 240


@pytest.mark.parametrize("defn", SERIES, ids=[d.series_id for d in SERIES])
def test_unadjusted_prices_are_the_live_contracts_bronze_bars(lake: Lake, defn: SeriesDefinition) -> None:
    series = read_series(defn.series_id, lake=lake)
    joined = series.join(daily_bars(lake), on=["trading_date", "instrument_id"], how="left", suffix="_bronze")
    assert joined.height == series.height
    for col in ("open", "high", "low", "close"):
        assert joined[f"{col}_bronze"].null_count() == 0
        assert (joined[col] == joined[f"{col}_bronze"]).all(), col
    assert series["is_roll"].sum() >= 3


def test_backward_additive_removes_each_roll_gap_exactly(lake: Lake) -> None:
    series = read_series("es_add", lake=lake)
    rolls = with_previous(series, daily_bars(lake))
    assert rolls.height >= 3 and rolls["new_prev_close"].null_count() == 0
    jump = rolls["adj_close"] - rolls["prev_adj_close"]
    live_move = (rolls["close"] - rolls["new_prev_close"]) / 1e9
    assert ((jump - live_move).abs() < 1e-6).all()
    gaps = series.filter(pl.col("is_roll"))["adjustment"]
    assert series["adjustment"][-1] == 0.0 and gaps.n_unique() > 1
    # within a contract, adjusted moves equal unadjusted moves
    same = series.filter(~pl.col("is_roll"))
    assert same.height > 200


def test_backward_ratio_keeps_the_live_contracts_returns_at_rolls(lake: Lake) -> None:
    series = read_series("es_ratio", lake=lake)
    rolls = with_previous(series, daily_bars(lake))
    assert rolls.height >= 3 and rolls["new_prev_close"].null_count() == 0
    adjusted = rolls["adj_close"] / rolls["prev_adj_close"]
    live = rolls["close"] / rolls["new_prev_close"]
    assert ((adjusted / live - 1).abs() < 1e-9).all()
    assert series["adjustment"][-1] == 1.0


def test_no_adjustment_keeps_prices(lake: Lake) -> None:
    series = read_series("es_none", lake=lake)
    assert ((series["adj_close"] - series["close"] / 1e9).abs() < 1e-9).all()
    assert (series["adjustment"] == 0.0).all() or (series["adjustment"] == 1.0).all()


def test_gold_layout_and_idempotency(lake: Lake) -> None:
    path = lake.table_dir(Layer.GOLD, PARENT, table_name("es_add")) / "span=all"
    manifest = read_manifest(path)
    assert manifest is not None and manifest.params["fingerprint"] == SERIES[0].fingerprint()
    stages = {s.table: s for s in gold_stages(lake, PARENT)}
    assert set(stages) == {table_name(d.series_id) for d in SERIES}
    assert stages[table_name("es_add")].state(SPAN)[0] is PartitionState.DONE


# ---- incremental and staleness, on a lake of daily bars that grows ---------------------------


@pytest.fixture(scope="module")
def growing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Path]:
    """ES daily bars and definitions to 2023-11-01 imported and built; the rest written, not imported."""
    root = tmp_path_factory.mktemp("growing")
    lake = Lake(root / "lake")
    zone = RawZone(lake.root)
    for path in write_raw(root / "part1", "2023-01-01", "2023-11-01", DAILY):
        zone.import_file(path)
    SeriesStore(lake.root).add(SeriesDefinition("es_inc", PARENT, "days_before_expiry", 5, "backward_ratio"))
    run(lake, [Layer.BRONZE, Layer.SILVER, Layer.GOLD])
    return lake, root


def _stage(lake: Lake, series_id: str) -> ContinuousSeriesStage:
    return next(s for s in gold_stages(lake, PARENT) if s.table == table_name(series_id))  # type: ignore[return-value]


def test_incremental_update_equals_full_rebuild(growing: tuple[Lake, Path]) -> None:
    lake, root = growing
    before = read_series("es_inc", lake=lake)
    manifest = read_manifest(_stage(lake, "es_inc").partition(SPAN).path(lake))
    assert manifest is not None and manifest.counts.get("full_build") == 1

    for path in write_raw(root / "part2", "2023-11-01", "2024-01-01", DAILY):
        RawZone(lake.root).import_file(path)
    stage = _stage(lake, "es_inc")
    assert stage.state(SPAN)[0] is PartitionState.DONE  # gold reads silver, not refreshed yet
    run(lake, [Layer.BRONZE, Layer.SILVER])
    assert stage.state(SPAN)[0] is PartitionState.STALE
    run(lake, [Layer.GOLD])
    incremental = read_series("es_inc", lake=lake)
    manifest = read_manifest(stage.partition(SPAN).path(lake))
    assert manifest is not None and manifest.counts.get("incremental") == 1
    assert incremental.height > before.height
    assert incremental["trading_date"].max() > before["trading_date"].max()

    stage.invalidate(SPAN)
    assert stage.run(SPAN).outcome is Outcome.BUILT
    full = read_series("es_inc", lake=lake)
    manifest = read_manifest(stage.partition(SPAN).path(lake))
    assert manifest is not None and manifest.counts.get("full_build") == 1
    assert full.equals(incremental)


def test_changing_a_definition_makes_gold_stale_and_a_rerun_rebuilds(growing: tuple[Lake, Path]) -> None:
    lake, _ = growing
    stage = _stage(lake, "es_inc")
    run(lake, [Layer.GOLD])
    assert stage.state(SPAN)[0] is PartitionState.DONE
    old = read_series("es_inc", lake=lake)
    SeriesStore(lake.root).add(
        SeriesDefinition("es_inc", PARENT, "days_before_expiry", 15, "backward_ratio"), replace=True
    )
    state, reason = _stage(lake, "es_inc").state(SPAN)
    assert state is PartitionState.STALE and "parameters" in reason
    results = run(lake, [Layer.GOLD])
    assert [r.outcome for r in results if r.partition.table == table_name("es_inc")] == [Outcome.BUILT]
    new = read_series("es_inc", lake=lake)
    manifest = read_manifest(stage.partition(SPAN).path(lake))
    assert manifest is not None and manifest.counts.get("full_build") == 1  # a new definition never updates
    old_rolls = old.filter("is_roll")["trading_date"].to_list()
    new_rolls = new.filter("is_roll")["trading_date"].to_list()
    assert len(new_rolls) == len(old_rolls) and all(n < o for n, o in zip(new_rolls[1:], old_rolls[1:], strict=True))

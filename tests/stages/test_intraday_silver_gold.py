"""Intraday silver (definitions as of ts_recv, local time, trading date), the gold session window, and
settlement/open interest from statistics feeding the continuous series."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from intraday_dbn import MID, NS, book, es_definitions, local_ns, statistics, write

from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome
from rst.sources.raw_zone import RawZone
from rst.stages.gold.windows import SessionWindow
from rst.stages.registry import plan
from rst.stages.silver.statistics import daily_settlement_oi

WINTER = dt.date(2021, 1, 5)  # EST: 09:30 New York = 14:30 UTC
SUMMER = dt.date(2021, 3, 15)  # first Monday of EDT: 09:30 New York = 13:30 UTC
NY = "America/New_York"


def run(lake: Lake, layers: list[Layer], dates: list[dt.date]) -> None:
    results = run_tasks(plan(lake, layers, ["ES"], dates))
    assert all(r.outcome is not Outcome.FAILED for r in results), [r.error for r in results]


def read(lake: Lake, layer: Layer, table: str) -> pl.DataFrame:
    return pl.read_parquet(f"{lake.table_dir(layer, 'ES', table)}/**/*.parquet", hive_partitioning=False)


def boundary_book(day: dt.date) -> list[int]:
    """ts_event of records around the 09:30-12:30 New York window of ``day``."""
    return [
        local_ns(day, 9, 29, 59, NY, extra_ns=999_999_999),  # out
        local_ns(day, 9, 30, 0, NY),  # in
        local_ns(day, 12, 29, 59, NY, extra_ns=999_999_999),  # in
        local_ns(day, 12, 30, 0, NY),  # out
        local_ns(day, 15, 0, 0, NY),  # out
    ]


@pytest.fixture
def window_lake(lake: Lake, tmp_path: Path) -> Lake:
    zone = RawZone(lake.root)
    for day in (WINTER, SUMMER):
        zone.import_file(es_definitions(tmp_path / f"defs-{day}.dbn.zst", day))
        events = boundary_book(day)
        rec = book("mbp-10", [t + 1_000 for t in events])
        rec["ts_event"] = events
        start = local_ns(day, 0, 0, 0, NY)
        zone.import_file(write(tmp_path / f"mbp-{day}.dbn.zst", "mbp-10", rec, start, start + 86_400 * NS))
    run(lake, [Layer.BRONZE, Layer.SILVER, Layer.GOLD], [WINTER, SUMMER])
    return lake


@pytest.mark.parametrize("day", [WINTER, SUMMER])
def test_first_three_hours_window_boundaries(window_lake: Lake, day: dt.date) -> None:
    gold = pl.read_parquet(window_lake.table_dir(Layer.GOLD, "ES", "mbp_10_first3h") / f"dt={day}" / "*.parquet")
    events = boundary_book(day)
    assert gold["ts_event"].dt.epoch("ns").to_list() == [events[1], events[2]]
    local = gold["ts_event_local"].dt.convert_time_zone(NY).dt.time().to_list()
    assert local == [dt.time(9, 30), dt.time(12, 29, 59, 999999)]
    hour_utc = 14 if day == WINTER else 13
    assert gold["ts_event"].dt.hour().to_list()[0] == hour_utc


def test_window_bounds_follow_the_zone() -> None:
    lo, hi = SessionWindow().bounds_ns(SUMMER)
    assert (hi - lo) == 3 * 3600 * NS
    assert lo == int(dt.datetime(2021, 3, 15, 13, 30, tzinfo=dt.UTC).timestamp()) * NS


def test_silver_joins_definitions_as_of_ts_recv(window_lake: Lake) -> None:
    silver = read(window_lake, Layer.SILVER, "mbp_10").sort("ts_recv")
    assert silver.height == 10
    assert set(silver["symbol"].cast(pl.String)) == {"ESH1"}
    assert silver["tick_size"].unique().to_list() == [250_000_000]
    assert silver.schema["ts_event_local"] == pl.Datetime("ns", "America/Chicago")
    assert silver["trading_date"].unique().sort().to_list() == [WINTER, SUMMER]
    assert (silver["definition_ts_recv"] <= silver["ts_recv"]).all()
    bronze = read(window_lake, Layer.BRONZE, "mbp_10").sort("ts_recv")
    assert silver["bid_px_09"].to_list() == bronze["bid_px_09"].to_list()


def test_silver_quarantines_records_before_their_first_definition(lake: Lake, tmp_path: Path) -> None:
    day = WINTER
    late = local_ns(day, 12, 0, 0, NY)
    zone = RawZone(lake.root)
    extra = [{"instrument_id": 5484, "raw_symbol": "ESU1", "ts_recv": late, "expiration": late + 200 * 86_400 * NS}]
    zone.import_file(es_definitions(tmp_path / "defs.dbn.zst", day, extra))
    ts = [local_ns(day, 10, 0, 0, NY), local_ns(day, 13, 0, 0, NY)]
    rec = book("mbp-1", ts, [5484, 5484])
    start = local_ns(day, 0, 0, 0, NY)
    zone.import_file(write(tmp_path / "m.dbn.zst", "mbp-1", rec, start, start + 86_400 * NS))
    run(lake, [Layer.BRONZE, Layer.SILVER], [day])
    assert read(lake, Layer.BRONZE, "mbp_1").height == 2  # bronze resolves by the later definition
    silver = read(lake, Layer.SILVER, "mbp_1")
    assert silver["ts_recv"].dt.epoch("ns").to_list() == [ts[1]]
    bad = read(lake, Layer.SILVER, "mbp_1_quarantine")
    assert bad["ts_recv"].dt.epoch("ns").to_list() == [ts[0]]
    assert bad["reason"].str.contains("no definition").all()


def test_daily_settlement_and_open_interest(lake: Lake, tmp_path: Path) -> None:
    day = WINTER
    ref = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()) * NS
    rows = [
        {"ts_recv": local_ns(day, 15, 10, 0, "America/Chicago"), "instrument_id": 5482, "stat_type": 3, "price": MID},
        {"ts_recv": local_ns(day, 15, 40, 0, "America/Chicago"), "instrument_id": 5482, "stat_type": 3, "price": MID + 1},
        {"ts_recv": local_ns(day, 15, 50, 0, "America/Chicago"), "instrument_id": 5482, "stat_type": 3,
         "price": MID + 2, "update_action": 2},  # a deletion: ignored
        {"ts_recv": local_ns(day, 15, 45, 0, "America/Chicago"), "instrument_id": 5483, "stat_type": 6, "quantity": 7},
        # open interest of `day`, published the next morning (next trading date), ts_ref = day
        {"ts_recv": local_ns(day + dt.timedelta(days=1), 7, 0, 0, "America/Chicago"), "instrument_id": 5482,
         "stat_type": 9, "quantity": 2_500_000, "ts_ref": ref},
    ]  # fmt: skip
    zone = RawZone(lake.root)
    zone.import_file(es_definitions(tmp_path / "defs.dbn.zst", day))
    start = local_ns(day, 0, 0, 0, "America/Chicago")
    zone.import_file(write(tmp_path / "s.dbn.zst", "statistics", statistics(rows), start, start + 2 * 86_400 * NS))
    run(lake, [Layer.BRONZE, Layer.SILVER], [day, day + dt.timedelta(days=1)])
    stats = read(lake, Layer.SILVER, "statistics")
    assert set(stats["stat_name"].cast(pl.String)) == {"settlement_price", "cleared_volume", "open_interest"}
    got = daily_settlement_oi(lake, "ES", day, day)
    assert got.to_dicts() == [
        {"instrument_id": 5482, "trading_date": day, "settlement": MID + 1, "open_interest": 2_500_000}
    ]
    assert daily_settlement_oi(lake, "ES", day + dt.timedelta(days=1), None).is_empty()


def test_continuous_series_reads_settlement_from_statistics(
    sample_file: Callable[[str], Path], lake: Lake, tmp_path: Path, import_files
) -> None:
    """ES sample daily bars + a settlement statistic: the settlement-priced series carries it."""
    from rst.read import read_series
    from rst.series import SeriesDefinition, SeriesStore

    import_files(lake, [
        sample_file("databento-python/GLBX.MDP3/test_data.definition.dbn.zst"),
        sample_file("databento-python/GLBX.MDP3/test_data.ohlcv-1d.dbn.zst"),
    ])  # fmt: skip
    bars = read_bars_dates(lake)
    day = bars[0]
    rows = [{"ts_recv": local_ns(day, 15, 30, 0, "America/Chicago"), "instrument_id": 5482, "stat_type": 3,
             "price": 3_700_000_000_000}, {"ts_recv": local_ns(day, 15, 31, 0, "America/Chicago"),
             "instrument_id": 5482, "stat_type": 9, "quantity": 123}]  # fmt: skip
    start = local_ns(day, 0, 0, 0, "America/Chicago")
    RawZone(lake.root).import_file(
        write(tmp_path / "s.dbn.zst", "statistics", statistics(rows), start, start + 86_400 * NS,
              symbols=["ESH1"], stype_in=__import__("databento_dbn").SType.RAW_SYMBOL)  # fmt: skip
    )
    SeriesStore(lake.root).add(
        SeriesDefinition("es_settle", "ES", "open_interest_crossover", 0, "none", price_field="settlement")
    )
    run(lake, [Layer.BRONZE, Layer.SILVER, Layer.GOLD], None)
    series = read_series("es_settle", lake=lake)
    row = series.filter(pl.col("trading_date") == day)
    assert row["open_interest"].to_list() == [123]


def read_bars_dates(lake: Lake) -> list[dt.date]:
    from rst.sources.dbn_file import read_table

    path = next(p for p in lake.raw.rglob("*.dbn.zst") if "ohlcv-1d" in str(p))
    return sorted({t.date() for t in pl.from_arrow(read_table(path))["ts_event"].to_list()})

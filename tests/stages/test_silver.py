"""Silver bars and session bars on the shared synthetic lake, plus the pure as-of join."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow.parquet as pq
import pytest

from rst.framework.lake import Lake, Layer
from rst.framework.partition import Granularity, PartitionKey
from rst.framework.stage import Outcome, PartitionState
from rst.read import read_table
from rst.stages.silver.asof import NO_DEFINITION, join_definitions, with_asof_instant
from rst.stages.silver.bars import SilverOhlcv1d
from synthetic_lake import CHANGED_FROM, CHANGED_ID, CHANGED_TICK, CHANGED_UNTIL, NORMAL_TICK, PARENT, shared_lake

CHICAGO = ZoneInfo("America/Chicago")
DAY_NS = 86_400 * 10**9
CONTRACT_COLUMNS = ["symbol", "expiration", "activation", "tick_size", "point_value", "currency", "exchange", "asset"]


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return shared_lake(tmp_path_factory)


def _strings(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String))


def silver(lake: Lake, table: str) -> pl.DataFrame:
    return _strings(read_table(Layer.SILVER, PARENT, table, lake=lake))


def bronze(lake: Lake, table: str) -> pl.DataFrame:
    return _strings(read_table(Layer.BRONZE, PARENT, table, lake=lake))


def test_every_daily_bar_carries_its_definition_as_of_the_bar(lake: Lake) -> None:
    bars = silver(lake, "ohlcv_1d")
    defs = bronze(lake, "definition")
    assert bars.height > 500
    # independent of join_asof: all candidate publications, keep the latest at or before the bar's last ns
    expected = (
        bars.select("ts_event", "instrument_id")
        .join(defs.select("instrument_id", "ts_recv"), on="instrument_id")
        .filter(pl.col("ts_recv") <= pl.col("ts_event") + pl.duration(nanoseconds=DAY_NS - 1))
        .group_by("ts_event", "instrument_id")
        .agg(pl.col("ts_recv").max())
        .join(defs, on=["instrument_id", "ts_recv"])
        .select(
            "ts_event", "instrument_id", pl.col("ts_recv").alias("definition_ts_recv"),
            pl.col("raw_symbol").alias("symbol"), "expiration", "activation",
            pl.col("min_price_increment").alias("tick_size"), pl.col("unit_of_measure_qty").alias("point_value"),
            "currency", "exchange", "asset",
        )  # fmt: skip
    )
    got = bars.select("ts_event", "instrument_id", "definition_ts_recv", *CONTRACT_COLUMNS)
    assert expected.height == got.height
    joined = got.join(expected, on=["ts_event", "instrument_id"], suffix="_want")
    assert joined.height == got.height
    for col in ["definition_ts_recv", *CONTRACT_COLUMNS]:
        assert (joined[col] == joined[f"{col}_want"]).all(), col
    assert set(bars["point_value"].unique()) == {50 * 10**9}  # ES: 50 USD per point, from unit_of_measure_qty


def test_a_definition_change_mid_life_is_picked_up_on_the_right_day(lake: Lake) -> None:
    bars = silver(lake, "ohlcv_1d").filter(pl.col("instrument_id") == CHANGED_ID)
    tick = dict(zip(bars["trading_date"].to_list(), bars["tick_size"].to_list(), strict=True))
    first, until = CHANGED_FROM.date(), CHANGED_UNTIL.date()
    assert tick[dt.date(2023, 5, 31)] == NORMAL_TICK
    assert tick[first] == CHANGED_TICK  # received 00:00:00.001 on June 1: applies to June 1's bar
    assert tick[dt.date(2023, 6, 30)] == CHANGED_TICK
    assert tick[until] == NORMAL_TICK
    changed = {d for d, t in tick.items() if t == CHANGED_TICK}
    assert changed == {d for d in tick if first <= d < until}

    hourly = silver(lake, "ohlcv_1h").filter(pl.col("instrument_id") == CHANGED_ID)
    by_ts = dict(zip(hourly["ts_event"].to_list(), hourly["tick_size"].to_list(), strict=True))
    assert by_ts[dt.datetime(2023, 5, 31, 23, tzinfo=dt.UTC)] == NORMAL_TICK
    assert by_ts[dt.datetime(2023, 6, 1, 0, tzinfo=dt.UTC)] == CHANGED_TICK


def test_bars_without_definition_are_quarantined_not_dropped(lake: Lake) -> None:
    quarantined = silver(lake, "ohlcv_1h_quarantine")
    assert quarantined.height > 0
    assert set(quarantined["reason"]) == {NO_DEFINITION}
    first_definition = bronze(lake, "definition")["ts_recv"].min()
    assert (quarantined["ts_event"] + dt.timedelta(hours=1) <= first_definition).all()
    kept = silver(lake, "ohlcv_1h")
    source = bronze(lake, "ohlcv_1h")
    assert kept.height + quarantined.height == source.height
    keys = ["ts_event", "instrument_id"]
    together = pl.concat([kept.select(keys), quarantined.select(keys)])
    assert together.sort(keys).equals(source.select(keys).sort(keys))


def test_daily_bars_trade_on_their_utc_date(lake: Lake) -> None:
    bars = silver(lake, "ohlcv_1d")
    assert (bars["trading_date"] == bars["ts_event"].dt.date()).all()
    assert bars["ts_event_local"].dtype == pl.Datetime("ns", "America/Chicago")
    assert (bars["ts_event_local"].dt.hour() == 18).sum() + (bars["ts_event_local"].dt.hour() == 19).sum() == bars.height


def _session_date(ts: dt.datetime) -> dt.date:
    """CME trade date: raw date (Chicago + 7 h), then the next CME trade date (weekends, holidays)."""
    from rst.calendars import get_calendar

    day = (ts.astimezone(CHICAGO) + dt.timedelta(hours=7)).date()
    booked: dt.date = get_calendar("CMES").book([day])[0].item()
    return booked


def test_hourly_bars_trade_on_their_cme_session_date(lake: Lake) -> None:
    bars = silver(lake, "ohlcv_1h")
    sample = bars.gather_every(97)
    for ts, trading_date in zip(sample["ts_event"], sample["trading_date"], strict=True):
        assert trading_date == _session_date(ts), ts
    dates = dict(zip(bars["ts_event"].to_list(), bars["trading_date"].to_list(), strict=False))
    utc = dt.UTC
    assert dates[dt.datetime(2023, 3, 5, 23, tzinfo=utc)] == dt.date(2023, 3, 6)  # Sunday evening -> Monday
    assert dates[dt.datetime(2023, 3, 13, 20, tzinfo=utc)] == dt.date(2023, 3, 13)  # 15:00 CDT: still Monday
    assert dates[dt.datetime(2023, 3, 13, 22, tzinfo=utc)] == dt.date(2023, 3, 14)  # 17:00 CDT: Tuesday's session


def test_local_time_is_stored_with_the_zone(lake: Lake) -> None:
    directory = lake.table_dir(Layer.SILVER, PARENT, "ohlcv_1h")
    part = next(directory.glob("month=*/part-00000-*.parquet"))
    schema = pq.read_schema(part)
    assert str(schema.field("ts_event_local").type) == "timestamp[ns, tz=America/Chicago]"
    assert str(schema.field("trading_date").type) == "date32[day]"


def test_session_bars_equal_a_hand_aggregation_of_hourly_bars(lake: Lake) -> None:
    sessions = silver(lake, "ohlcv_1d_session")
    hourly = bronze(lake, "ohlcv_1h").sort("ts_event")
    ids = sessions["instrument_id"].unique().sort().to_list()
    chosen = set(ids[:: max(1, len(ids) // 3)])
    first_definition = bronze(lake, "definition")["ts_recv"].min()
    want: dict[tuple[int, dt.date], list] = {}
    files: dict[tuple[int, dt.date], set] = defaultdict(set)
    for row in hourly.filter(pl.col("instrument_id").is_in(list(chosen))).iter_rows(named=True):
        if row["ts_event"] + dt.timedelta(hours=1) <= first_definition:
            continue  # quarantined (no definition yet)
        key = (row["instrument_id"], _session_date(row["ts_event"]))
        files[key].add(row["source_file"])
        agg = want.get(key)
        if agg is None:
            want[key] = [row["open"], row["high"], row["low"], row["close"], row["volume"], 1]
        else:
            agg[1] = max(agg[1], row["high"])
            agg[2] = min(agg[2], row["low"])
            agg[3] = row["close"]
            agg[4] += row["volume"]
            agg[5] += 1
    got = sessions.filter(pl.col("instrument_id").is_in(list(chosen)))
    assert got.height == len(want) > 100
    for row in got.iter_rows(named=True):
        key = (row["instrument_id"], row["trading_date"])
        expected = want[key]
        assert [row["open"], row["high"], row["low"], row["close"], row["volume"], row["bar_count"]] == expected, key
        assert row["source_file"] == ";".join(sorted(files[key]))
    assert set(sessions["tick_size"].drop_nulls()) >= {NORMAL_TICK}


def test_a_timezone_override_makes_silver_stale_and_is_applied(lake: Lake, tmp_path: Path) -> None:
    copy = Lake(tmp_path / "lake")
    shutil.copytree(lake.root, copy.root, ignore=shutil.ignore_patterns("_locks"))
    key = PartitionKey(Granularity.YEAR, "2023")
    assert SilverOhlcv1d(copy, PARENT).state(key)[0] is PartitionState.DONE
    (copy.root / "_config" / "parents.toml").write_text('[ES]\ntimezone = "America/New_York"\n')
    stage = SilverOhlcv1d(copy, PARENT)
    state, reason = stage.state(key)
    assert state is PartitionState.STALE and "parameters" in reason
    assert stage.run(key).outcome is Outcome.BUILT
    bars = read_table(Layer.SILVER, PARENT, "ohlcv_1d", lake=copy)
    assert bars["ts_event_local"].dtype == pl.Datetime("ns", "America/New_York")
    assert (bars["ts_event_local"].dt.hour().is_in([19, 20])).all()


# ---- the pure join -------------------------------------------------------------------------

def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_join_definitions_takes_the_latest_publication_by_the_bar_end() -> None:
    ts_type = pl.Datetime("ns", "UTC")
    facts = pl.DataFrame(
        {
            "instrument_id": [1, 1, 2],
            "definition_ts_recv": [_ts("2024-01-01T00:00:00.001"), _ts("2024-01-03T12:00:00"), _ts("2024-01-02T00:00:00")],
            "symbol": ["AH4", "AH4", "BH4"],
            "expiration": [_ts("2024-03-15T00:00:00")] * 3,
            "activation": [_ts("2023-03-15T00:00:00")] * 3,
            "tick_size": [250_000_000, 500_000_000, 10_000_000],
            "point_value": [50 * 10**9] * 3,
            "currency": ["USD"] * 3,
            "exchange": ["XCME"] * 3,
            "asset": ["A", "A", "B"],
        },
        schema_overrides={"instrument_id": pl.UInt32, "definition_ts_recv": ts_type, "expiration": ts_type, "activation": ts_type},
    )
    bars = pl.DataFrame(
        {
            "ts_event": [_ts("2024-01-01"), _ts("2024-01-02"), _ts("2024-01-03"), _ts("2024-01-04"), _ts("2024-01-01"), _ts("2024-01-02")],
            "instrument_id": [1, 1, 1, 1, 2, 2],
            "symbol": ["x"] * 6,
            "close": [1, 2, 3, 4, 5, 6],
        },
        schema_overrides={"instrument_id": pl.UInt32, "ts_event": ts_type},
    )
    good, missing = join_definitions(with_asof_instant(bars, 86_400 * 10**9), facts)
    assert good["close"].to_list() == [1, 2, 3, 4, 6]
    assert good["tick_size"].to_list() == [250_000_000, 250_000_000, 500_000_000, 500_000_000, 10_000_000]
    assert good["symbol"].to_list() == ["AH4", "AH4", "AH4", "AH4", "BH4"]
    assert missing["close"].to_list() == [5]
    assert missing["symbol"].to_list() == ["x"]  # the record's own columns, unchanged

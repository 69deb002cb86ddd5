"""Reading what a lake holds about one parent, for display: coverage, contracts, bars, definitions.

Plain functions returning polars frames with prices as float price units (the display
form; the lake keeps int64 fixed-point 1e-9). Used by the app's symbol browser and
definitions viewer.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rst.framework.lake import Lake, Layer

PRICE_SCALE = 1e9
DAILY_TABLE = "ohlcv_1d"


def raw_coverage(lake: Lake, parent: str) -> pl.DataFrame:
    """One row per merged raw-zone window of ``parent``: ``schema``, ``start``, ``end`` (UTC, end exclusive).

    Windows come from the imported files' metadata; a gap between two rows of a schema is
    a window no file covers (what a download would plan, unless the parent's calendar has no
    session in it: closed days are not requested, see ``docs/trading_dates.md``).
    """
    from rst.sources.raw_zone import RawZone, merge_intervals

    zone = RawZone(lake.root)
    rows: list[dict[str, object]] = []
    files = zone.files(symbol=parent)
    for schema in sorted({f.schema for f in files}):
        mine = [(f.start_ns, f.end_ns) for f in files if f.schema == schema and f.end_ns is not None]
        for lo, hi in merge_intervals(mine):
            rows.append({"schema": schema, "start": _utc(lo), "end": _utc(hi), "files": sum(
                1 for f in files if f.schema == schema and f.end_ns is not None and lo <= f.start_ns < hi
            )})  # fmt: skip
    columns = {"schema": pl.String(), "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC"), "files": pl.Int64()}
    return pl.DataFrame(rows, schema=columns)


def _utc(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.UTC)


def bar_coverage(lake: Lake, parent: str) -> pl.DataFrame:
    """Trading dates with at least one silver daily bar of ``parent`` (``trading_date``, ``contracts``).

    Empty when silver has no daily bars yet.
    """
    from rst.errors import InputMissing
    from rst.read import read_table

    try:
        bars = read_table(Layer.SILVER, parent, DAILY_TABLE, lake=lake)
    except InputMissing:
        return pl.DataFrame(schema={"trading_date": pl.Date, "contracts": pl.UInt32})
    return bars.group_by("trading_date").agg(pl.col("instrument_id").n_unique().alias("contracts")).sort("trading_date")


def traded_instruments(lake: Lake, parent: str) -> set[int]:
    """Instrument ids with at least one silver daily bar (empty when silver has none)."""
    from rst.errors import InputMissing
    from rst.read import read_table

    try:
        bars = read_table(Layer.SILVER, parent, DAILY_TABLE, lake=lake)
    except InputMissing:
        return set()
    return set(bars.get_column("instrument_id").unique().to_list())


def contracts(lake: Lake, parent: str) -> pl.DataFrame:
    """The parent's contracts by expiry (latest definitions), tick size and point value as price units."""
    from rst.parents import contracts as parent_contracts

    frame = parent_contracts(lake, parent)
    return frame.with_columns(
        (pl.col("tick_size") / PRICE_SCALE).alias("tick_size"),
        (pl.col("point_value") / PRICE_SCALE).alias("point_value"),
    )


def contract_bars(lake: Lake, parent: str, instrument_id: int) -> pl.DataFrame:
    """Silver daily bars of one contract: ``trading_date``, OHLC (price units), ``volume``, sorted.

    Raises ``InputMissing`` when silver holds no daily bars of ``parent``.
    """
    from rst.read import read_table

    bars = read_table(Layer.SILVER, parent, DAILY_TABLE, lake=lake)
    prices = ["open", "high", "low", "close"]
    return (
        bars.filter(pl.col("instrument_id") == instrument_id)
        .select("trading_date", "symbol", *[(pl.col(c) / PRICE_SCALE).alias(c) for c in prices], "volume")
        .sort("trading_date")
    )


def definition_history(lake: Lake, parent: str, instrument_id: int) -> pl.DataFrame:
    """Every published definition of one contract (bronze), oldest first."""
    from rst.parents import definitions

    frame = definitions(lake, parent).filter(pl.col("instrument_id") == instrument_id).sort("ts_recv")
    return frame.with_columns((pl.col("min_price_increment") / PRICE_SCALE).alias("tick_size")).drop(
        "min_price_increment"
    )

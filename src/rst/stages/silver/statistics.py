"""Daily settlement prices and open interest per contract, from the ``statistics`` table.

For each instrument and *reference date* the value is the latest (greatest
``ts_recv``) *new* statistic of its type: ``settlement_price`` → ``settlement``
(int64 fixed-point 1e-9, the statistic's ``price``) and ``open_interest`` →
``open_interest`` (the statistic's ``quantity``). The reference date is the UTC date
of ``ts_ref`` when the exchange gives one (CME publishes open interest for a session
the next morning, and final settlements after the session's end), else the record's
trading date. Statistics with ``update_action`` delete are ignored; a preliminary
settlement is superseded by the final one published after it.

Silver ``statistics`` is read when it exists, else bronze (trading date computed
from ``ts_recv`` with the parent's session and calendar, as silver books it).
Partitions up to :data:`LATE_DAYS` after ``end`` are read, for values published late.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from rst.calendars import TradingCalendar
from rst.framework.lake import Lake, Layer
from rst.framework.sessions import CME, Session, trading_date_expr
from rst.read import complete_partitions, partition_files

TABLE = "statistics"
SETTLEMENT = "settlement_price"
OPEN_INTEREST = "open_interest"
LATE_DAYS = 5
_COLUMNS = ["ts_recv", "ts_ref", "instrument_id", "price", "quantity", "stat_name", "update_name"]
SCHEMA = {"instrument_id": pl.UInt32, "trading_date": pl.Date, "settlement": pl.Int64, "open_interest": pl.Int64}


def settlement_oi_from_files(
    files: list[Path], session: Session = CME, calendar: TradingCalendar | None = None
) -> pl.DataFrame:
    """:func:`daily_settlement_oi` over the given silver or bronze ``statistics`` Parquet parts (all dates).

    Bronze parts have no ``trading_date``: it is computed from ``ts_recv`` with ``session`` and ``calendar``.
    """
    if not files:
        return pl.DataFrame(schema=SCHEMA)
    scan = pl.scan_parquet(files, hive_partitioning=False)
    names = scan.collect_schema().names()
    if "trading_date" in names:
        date = pl.col("trading_date")
    else:
        date = trading_date_expr(pl.col("ts_recv"), session, calendar)
    stats = (
        scan.select(*_COLUMNS, _date=date)
        .with_columns(pl.col("stat_name").cast(pl.String), pl.col("update_name").cast(pl.String))
        .filter((pl.col("update_name") == "new") & pl.col("stat_name").is_in([SETTLEMENT, OPEN_INTEREST]))
        .with_columns(trading_date=pl.coalesce(pl.col("ts_ref").dt.date(), pl.col("_date")))
        .sort("ts_recv")
        .group_by("instrument_id", "trading_date", "stat_name")
        .agg(pl.col("price").last(), pl.col("quantity").last())
        .collect()
    )
    settlement = stats.filter(pl.col("stat_name") == SETTLEMENT).select(
        "instrument_id", "trading_date", settlement=pl.col("price")
    )
    oi = stats.filter(pl.col("stat_name") == OPEN_INTEREST).select(
        "instrument_id", "trading_date", open_interest=pl.col("quantity")
    )
    out = settlement.join(oi, on=["instrument_id", "trading_date"], how="full", coalesce=True)
    return out.select(
        pl.col("instrument_id").cast(pl.UInt32),
        pl.col("trading_date"),
        pl.col("settlement").cast(pl.Int64),
        pl.col("open_interest").cast(pl.Int64),
    ).sort("trading_date", "instrument_id")


def statistics_dirs(lake: Lake, symbol: str, start: dt.date | None = None, end: dt.date | None = None) -> list[Path]:
    """Complete silver ``statistics`` partitions in ``[start, end + LATE_DAYS]``, else bronze ones."""
    late = None if end is None else end + dt.timedelta(days=LATE_DAYS)
    for layer in (Layer.SILVER, Layer.BRONZE):
        dirs = complete_partitions(lake, layer, symbol, TABLE, start, late)
        if dirs:
            return dirs
    return []


def daily_settlement_oi(
    lake: Lake, symbol: str, start: dt.date | None = None, end: dt.date | None = None
) -> pl.DataFrame:
    """Settlement and open interest per instrument and trading date in ``[start, end]`` (inclusive).

    Returns
    -------
    pl.DataFrame
        ``instrument_id`` (u32), ``trading_date`` (date), ``settlement`` (int64 fixed 1e-9,
        null when none was published), ``open_interest`` (int64, null when none).
    """
    dirs = statistics_dirs(lake, symbol, start, end)
    files = [f for d in dirs for f in partition_files(d)]
    if dirs and dirs[0].is_relative_to(lake.layer_dir(Layer.BRONZE)):
        out = settlement_oi_from_files(files, *_parent_session_calendar(lake, symbol))
    else:
        out = settlement_oi_from_files(files)
    if start is not None:
        out = out.filter(pl.col("trading_date") >= start)
    if end is not None:
        out = out.filter(pl.col("trading_date") <= end)
    return out


def _parent_session_calendar(lake: Lake, symbol: str) -> tuple[Session, TradingCalendar]:
    """The session and calendar silver books ``symbol``'s trade dates with (weekdays before its definitions)."""
    from rst.calendars import WEEKDAYS, get_calendar
    from rst.errors import InputMissing, PartitionCorrupt
    from rst.parents import parent_calendar, parent_timezone, session_for

    try:
        return session_for(parent_timezone(lake, symbol)), get_calendar(parent_calendar(lake, symbol))
    except (InputMissing, PartitionCorrupt):  # no usable definitions: the CME session, weekdays, as before
        return CME, get_calendar(WEEKDAYS)


def with_settlement_oi(bars: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    """Fill ``bars``' ``settlement``/``open_interest`` from ``daily`` on (instrument_id, trading_date); order kept."""
    if daily.is_empty():
        return bars
    joined = bars.drop("settlement", "open_interest", strict=False).join(
        daily.with_columns(pl.col("instrument_id").cast(bars.schema["instrument_id"])),
        on=["instrument_id", "trading_date"],
        how="left",
        maintain_order="left",
    )
    return joined.select(*bars.columns)

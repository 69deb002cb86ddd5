"""Front-month selection for intraday bronze tables (``params["front_month_only"]``).

For one parent and one trading date ``D`` the *front month* is:

1. **by volume** — the outright with the highest volume on the previous trading day:
   the latest bronze ``ohlcv_1d`` bar date before ``D`` and at most
   :data:`VOLUME_LOOKBACK` back (GLBX daily bars are UTC days; the UTC day before ``D``
   is essentially session ``D-1``); ties go to the lower ``instrument_id``. Bronze
   daily bars hold outrights only. No pre-pass over the data is needed; else
2. **by expiry** — among the outrights with records on ``D`` whose definition gives an
   expiration at or after the start of ``D``, the nearest expiration (ties: lower id);
3. **by records** — when no expiration is known, the outright with the most records on ``D``.

The choice is recorded in the partition manifest's counts:
``front_month_instrument_id`` and one of ``front_month_by_volume``,
``front_month_by_expiry``, ``front_month_by_records`` (= 1); the rows of other outrights
are counted in ``front_month_filtered``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from rst.sources.dbn_file import iter_batches

VOLUME_LOOKBACK = dt.timedelta(days=7)


def by_volume(daily: pl.DataFrame | None, day: dt.date) -> int | None:
    """Highest-volume outright of the latest daily-bar date in ``[day - VOLUME_LOOKBACK, day)``."""
    if daily is None or daily.is_empty():
        return None
    bars = daily.with_columns(_date=pl.col("ts_event").dt.date()).filter(
        pl.col("_date").is_between(day - VOLUME_LOOKBACK, day, closed="left")
    )
    if bars.is_empty():
        return None
    last = bars.get_column("_date").max()
    top = (
        bars.filter(pl.col("_date") == last)
        .group_by("instrument_id")
        .agg(pl.col("volume").sum())
        .sort(["volume", "instrument_id"], descending=[True, False])
    )
    return int(top.get_column("instrument_id")[0])


def expirations(definition_paths: list[Path]) -> pl.DataFrame:
    """Latest known ``expiration`` per instrument in the given raw definition files.

    Streamed: each batch is reduced to its latest defined expiration per instrument, so memory
    grows with the instruments, not with the records.
    """
    frames = [
        latest_expiration(pl.DataFrame(pl.from_arrow(batch.select(["ts_recv", "instrument_id", "expiration"]))))
        for p in definition_paths
        for batch in iter_batches(p)
    ]
    if not frames:
        return pl.DataFrame(schema={"instrument_id": pl.UInt32, "expiration": pl.Datetime("ns", "UTC")})
    return latest_expiration(pl.concat(frames)).drop("ts_recv")


def latest_expiration(definitions: pl.DataFrame) -> pl.DataFrame:
    """Per instrument, the ``expiration`` of its latest definition (by ``ts_recv``) that defines one."""
    return (
        definitions.filter(pl.col("expiration").is_not_null())
        .sort("ts_recv")
        .group_by("instrument_id")
        .agg(pl.col("ts_recv").last(), pl.col("expiration").last())
    )


def by_expiry(record_counts: pl.DataFrame, expiry: pl.DataFrame, day: dt.date) -> int | None:
    """Nearest expiration at or after ``day`` among instruments of ``record_counts``."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    joined = (
        record_counts.join(expiry, on="instrument_id", how="inner")
        .filter(pl.col("expiration").is_not_null() & (pl.col("expiration") >= start))
        .sort(["expiration", "instrument_id"])
    )
    return None if joined.is_empty() else int(joined.get_column("instrument_id")[0])


def by_records(record_counts: pl.DataFrame) -> int | None:
    """The instrument with the most records (ties: lower id)."""
    if record_counts.is_empty():
        return None
    top = record_counts.sort(["records", "instrument_id"], descending=[True, False])
    return int(top.get_column("instrument_id")[0])

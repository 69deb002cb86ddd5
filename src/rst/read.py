"""Reading the lake: complete partitions only, as polars frames.

A partition exists for readers exactly when its ``_SUCCESS`` matches its
manifest (:func:`rst.framework.manifest.read_manifest`); staging dirs, trash and
half-written partitions are never read. Partitions are selected by their key
range, rows by their date column, so ``start``/``end`` cost no more I/O than
the partitions they touch.

Dates are *inclusive* on both ends (``start=2024-03-01, end=2024-03-31`` is the
whole of March), and are trading dates where the table has a ``trading_date``
column, else the UTC date of ``ts_event``/``ts_recv``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl

from rst.errors import InputMissing
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.partition import PartitionKey

DATE_COLUMNS = ("trading_date", "ts_event", "ts_recv")
"""Row date column, in order of preference: trading date, else UTC date of the timestamp."""


def _lake(lake: Lake | str | os.PathLike[str] | None) -> Lake:
    return lake if isinstance(lake, Lake) else Lake.resolve(lake)


def complete_partitions(
    lake: Lake, layer: Layer, symbol: str, table: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[Path]:
    """Directories of the complete partitions of a table overlapping ``[start, end]``, sorted by key."""
    root = lake.table_dir(layer, symbol, table)
    if not root.is_dir():
        return []
    found: list[tuple[PartitionKey, Path]] = []
    for child in root.iterdir():
        try:
            key = PartitionKey.parse(child.name)
        except ValueError:
            continue
        if start is not None and key.end <= start:
            continue
        if end is not None and key.start > end:
            continue
        if read_manifest(child) is not None:
            found.append((key, child))
    return [path for _, path in sorted(found)]


def partition_files(directory: Path) -> list[Path]:
    """The Parquet parts of one partition directory, in part order."""
    return sorted(directory.glob("part-*.parquet"))


def scan_partitions(directories: list[Path]) -> pl.LazyFrame | None:
    """A lazy scan of the Parquet parts of ``directories`` (None when there are none).

    Columns are exactly the table's contract: the hive path segments
    (``product_type=``, ``symbol=``, ``table=``, the partition key) are not added,
    since the rows already carry their dates and a path segment such as
    ``symbol=ES`` would clash with a data column of the same name.
    """
    if not directories:
        return None
    globs = [str(d / "**" / "*.parquet") for d in directories]
    return pl.scan_parquet(globs, hive_partitioning=False)


def read_partitions(directories: list[Path], columns: list[str] | None = None) -> pl.DataFrame | None:
    """Read the parts of ``directories`` eagerly (no hive columns); None when there are none."""
    scan = scan_partitions(directories)
    if scan is None:
        return None
    if columns is not None:
        scan = scan.select(columns)
    return scan.collect()


def _date_filter(schema: pl.Schema, start: dt.date | None, end: dt.date | None) -> pl.Expr | None:
    if start is None and end is None:
        return None
    for name in DATE_COLUMNS:
        if name in schema:
            col = pl.col(name) if schema[name] == pl.Date else pl.col(name).dt.convert_time_zone("UTC").dt.date()
            break
    else:
        return None
    lo = pl.lit(start if start is not None else dt.date.min)
    hi = pl.lit(end if end is not None else dt.date.max)
    return col.is_between(lo, hi, closed="both")


def read_table(
    layer: Layer | str,
    symbol: str,
    table: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lake: Lake | str | os.PathLike[str] | None = None,
) -> pl.DataFrame:
    """Rows of one table of one symbol between ``start`` and ``end`` (inclusive), complete partitions only.

    Parameters
    ----------
    layer
        ``bronze``, ``silver`` or ``gold``.
    symbol
        Parent symbol (``ES``).
    table
        Table name (``ohlcv_1d``, ``continuous_es_front``).
    start, end
        Inclusive dates (trading dates where the table has ``trading_date``); None = open.
    lake
        Lake root (default ``$RST_LAKE`` or ``./lake``).

    Raises
    ------
    InputMissing
        When the table has no complete partition at all.
    """
    the_lake = _lake(lake)
    layer = Layer(layer)
    directories = complete_partitions(the_lake, layer, symbol, table, start, end)
    scan = scan_partitions(directories)
    if scan is None:
        if not complete_partitions(the_lake, layer, symbol, table):
            raise InputMissing(
                the_lake.table_dir(layer, symbol, table), f"no complete partition of {layer.value}/{symbol}/{table}"
            )
        return _empty(the_lake, layer, symbol, table)
    condition = _date_filter(scan.collect_schema(), start, end)
    if condition is not None:
        scan = scan.filter(condition)
    return scan.collect()


def _empty(lake: Lake, layer: Layer, symbol: str, table: str) -> pl.DataFrame:
    """An empty frame with the table's columns (taken from any complete partition)."""
    any_partition = complete_partitions(lake, layer, symbol, table)
    scan = scan_partitions(any_partition[:1])
    assert scan is not None
    return scan.head(0).collect()


def read_series(
    series_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lake: Lake | str | os.PathLike[str] | None = None,
) -> pl.DataFrame:
    """The gold continuous series ``series_id`` between ``start`` and ``end`` (inclusive trading dates).

    One row per trading date, sorted; columns as :mod:`rst.stages.gold.continuous`
    writes them (prices unadjusted int64 fixed-point 1e-9, adjusted float64).

    Raises
    ------
    SeriesError
        When no series ``series_id`` is saved in the lake.
    InputMissing
        When the series has not been built yet (``rst run --layer gold``).
    """
    from rst.series.store import SeriesStore
    from rst.stages.gold.continuous import table_name

    the_lake = _lake(lake)
    defn = SeriesStore(the_lake.root).get(series_id)
    df = read_table(Layer.GOLD, defn.parent, table_name(defn.series_id), start, end, the_lake)
    return df.sort("trading_date")

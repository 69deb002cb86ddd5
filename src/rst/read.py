"""Reading the lake: complete partitions only, as polars frames.

A partition exists for readers exactly when its ``_SUCCESS`` matches its
manifest (:func:`rst.framework.manifest.read_manifest`); staging dirs, trash and
half-written partitions (no ``_SUCCESS`` yet) are never read. Readers read exactly
the parts the manifest lists, and refuse with :class:`~rst.errors.PartitionCorrupt`
a partition that claims to be complete but is not what its manifest lists (a file
unlisted, missing or of another size; a part ``rst verify`` found changed; an
invalid manifest): never extra or missing rows. Partitions are selected by their key
range, rows by their date column, so ``start``/``end`` cost no more I/O than
the partitions they touch.

On a lake on object storage (``s3://bucket/prefix``) a partition is what its pointer names
(:mod:`rst.framework.pointer`): readers resolve each pointer, check the manifest against the
SHA256 it names, and read exactly that attempt's parts, fetched into a local content-addressed
cache and verified; a partition being rebuilt meanwhile is read whole in its old or its new
version. :func:`current_files` gives DuckDB and polars the same exact file list.

Dates are *inclusive* on both ends (``start=2024-03-01, end=2024-03-31`` is the
whole of March), and are trading dates where the table has a ``trading_date``
column, else the UTC date of ``ts_event``/``ts_recv``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from rst.errors import InputMissing, PartitionCorrupt
from rst.framework.integrity import lake_of, partition_problem
from rst.framework.lake import Lake, Layer
from rst.framework.listing import table_entries
from rst.framework.manifest import SUCCESS, inspect_manifest, read_manifest

if TYPE_CHECKING:
    from rst.framework.manifest import Manifest
    from rst.framework.objectlake import ObjectStorage

DATE_COLUMNS = ("trading_date", "ts_event", "ts_recv")
"""Row date column, in order of preference: trading date, else UTC date of the timestamp."""


def _lake(lake: Lake | str | os.PathLike[str] | None) -> Lake:
    if isinstance(lake, Lake):
        return lake
    resolved = Lake.resolve(lake)
    if resolved.remote is None:
        return Lake.open(lake)
    from rst.framework.objectlake import ObjectStorage

    storage = resolved.storage  # readers resolve pointers themselves: no mirror refresh, only the documents
    assert isinstance(storage, ObjectStorage)
    storage.pull()
    return resolved


def current_files(
    layer: Layer | str,
    symbol: str,
    table: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lake: Lake | str | os.PathLike[str] | None = None,
) -> list[str]:
    """The exact files of a table's current complete partitions overlapping ``[start, end]``, in key order.

    What to hand DuckDB or polars instead of a glob (a glob over a table would also match a
    partition's superseded or orphan attempts on object storage, and half-written state
    nowhere else):

    >>> files = rst.read.current_files("silver", "ES", "ohlcv_1d", lake="s3://bucket/lake")
    >>> duckdb.sql(f"SELECT * FROM read_parquet({files!r})")            # doctest: +SKIP
    >>> pl.scan_parquet(files, hive_partitioning=False)                   # doctest: +SKIP

    Local lakes give absolute paths; ``s3://`` lakes give ``s3://`` URIs, valid for at least the
    lake's grace period (600 s) even if the partitions are rebuilt meanwhile (credentials and
    endpoint for the reader come from its own AWS configuration). Rows are not filtered by
    date: the files are whole partitions.

    Raises
    ------
    PartitionCorrupt
        As :func:`read_table`.
    """
    the_lake = _lake(lake)
    layer = Layer(layer)
    if the_lake.remote is not None:
        return _object_storage(the_lake).table_files(layer, symbol, table, start, end)
    claimed = [d for d in _partitions(the_lake, layer, symbol, table, start, end) if os.path.lexists(d / SUCCESS)]
    return [str(f) for d in claimed for f in partition_files(d, the_lake)]


def _object_storage(lake: Lake) -> ObjectStorage:
    from rst.framework.objectlake import ObjectStorage

    storage = lake.storage
    assert isinstance(storage, ObjectStorage)
    return storage


def complete_partitions(
    lake: Lake, layer: Layer, symbol: str, table: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[Path]:
    """Directories of the complete partitions of a table overlapping ``[start, end]``, sorted by key.

    Stray entries (``year=2024.bak``, a file named like a partition) are skipped. Whether a
    directory holds exactly what its manifest lists is checked when it is read
    (:func:`partition_files`).
    """
    return [d for d in _partitions(lake, layer, symbol, table, start, end) if read_manifest(d) is not None]


def _partitions(
    lake: Lake, layer: Layer, symbol: str, table: str, start: dt.date | None, end: dt.date | None
) -> list[Path]:
    """The partition directories of a table overlapping ``[start, end]`` (complete or not), sorted by key."""
    found, _ = table_entries(lake.table_dir(layer, symbol, table))
    return [path for key, path in found if (start is None or key.end > start) and (end is None or key.start <= end)]


def partition_files(directory: Path, lake: Lake | None = None) -> list[Path]:
    """The Parquet parts the manifest of partition ``directory`` lists, in part order; nothing else is read.

    ``lake`` defaults to the lake ``directory`` lies in.

    Raises
    ------
    PartitionCorrupt
        When the partition claims to be complete (``_SUCCESS``) but its manifest is invalid or does
        not match, the directory holds a file the manifest does not list, lacks one, or holds one of
        another size, or ``rst verify`` found a part's bytes changed.
    InputMissing
        When ``directory`` is not a complete partition (no ``_SUCCESS``).
    """
    the_lake = lake or lake_of(directory)
    name = the_lake.relative(directory) if the_lake is not None else str(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        _, why = inspect_manifest(directory)
        if os.path.lexists(directory / SUCCESS):
            raise PartitionCorrupt(name, why)
        raise InputMissing(directory, f"not a complete partition: {why}")
    problem = partition_problem(directory, manifest, the_lake)
    if problem and the_lake is not None:
        fetched = _fetch_mirrored(the_lake, directory)
        if fetched is not None:
            manifest, problem = fetched, partition_problem(directory, fetched, the_lake)
    if problem:
        raise PartitionCorrupt(name, problem)
    return [directory / o.path for o in manifest.outputs]


def _fetch_mirrored(lake: Lake, directory: Path) -> Manifest | None:
    """When ``lake`` mirrors an ``s3://`` lake, fetch the partition at ``directory`` whole; its manifest.

    A mirror holds a partition's manifest before its parts (see :mod:`rst.framework.objectlake`):
    the parts come on first read. None for a local lake (nothing to fetch: the problem stands).
    """
    from rst.framework.listing import partition_at
    from rst.framework.storage import object_storage_at

    storage = object_storage_at(lake.root)
    partition = partition_at(lake, directory) if storage is not None else None
    return storage.materialise(partition) if storage is not None and partition is not None else None


def scan_partitions(directories: list[Path], lake: Lake | None = None) -> pl.LazyFrame | None:
    """A lazy scan of the parts ``directories``' manifests list (None when there are none).

    Each partition is checked first (:func:`partition_files`), so a file planted in a
    partition is never read and a missing one is never silently skipped. Columns are
    exactly the table's contract: the hive path segments (``product_type=``,
    ``parent=``, ``table=``, the partition key) are not added, since the rows already
    carry their dates.
    """
    files = [str(f) for d in directories for f in partition_files(d, lake)]
    if not files:
        return None
    return pl.scan_parquet(files, hive_partitioning=False)


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
    PartitionCorrupt
        When a partition in the range claims to be complete but is not exactly what its manifest
        lists (rather than return extra or missing rows).
    """
    the_lake = _lake(lake)
    layer = Layer(layer)
    if the_lake.remote is not None:
        return _read_remote(the_lake, layer, symbol, table, start, end)
    claimed = [d for d in _partitions(the_lake, layer, symbol, table, start, end) if os.path.lexists(d / SUCCESS)]
    scan = scan_partitions(claimed, the_lake)
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


def _read_remote(
    lake: Lake, layer: Layer, symbol: str, table: str, start: dt.date | None, end: dt.date | None
) -> pl.DataFrame:
    """:func:`read_table` on object storage: the parts the pointers name, fetched and verified."""
    storage = _object_storage(lake)
    files = storage.local_table_files(layer, symbol, table, start, end)
    if not files:
        if not storage.table_versions(layer, symbol, table):
            raise InputMissing(
                lake.table_dir(layer, symbol, table),
                f"no complete partition of {layer.value}/{symbol}/{table} in {lake.remote}",
            )
        any_version = storage.local_table_files(layer, symbol, table)[:1]
        return pl.scan_parquet(any_version, hive_partitioning=False).head(0).collect()
    scan = pl.scan_parquet(files, hive_partitioning=False)
    condition = _date_filter(scan.collect_schema(), start, end)
    return (scan.filter(condition) if condition is not None else scan).collect()


def _empty(lake: Lake, layer: Layer, symbol: str, table: str) -> pl.DataFrame:
    """An empty frame with the table's columns (taken from any complete partition)."""
    any_partition = complete_partitions(lake, layer, symbol, table)
    scan = scan_partitions(any_partition[:1], lake)
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

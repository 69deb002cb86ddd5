"""Partition keys and partition addresses.

A table declares its granularity: ``dt`` (one partition per trading date, for
intraday tables) or ``year`` / ``month`` (for tables with one row per contract
per day, so that a 20-year daily history is 20 files, not 5,000). ``--dt`` and
``--dates`` always speak in dates; :func:`keys_for_dates` maps them to the
partitions that contain them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from rst.framework.lake import Lake, Layer


class Granularity(StrEnum):
    """How a table is cut into partitions; the value is the hive key name."""

    DAY = "dt"
    MONTH = "month"
    YEAR = "year"
    ALL = "span"
    """One partition for the whole table (``span=all``): for outputs where any new day
    can change every row, such as a back-adjusted continuous series."""


@dataclass(frozen=True, order=True)
class PartitionKey:
    """One partition of a table, e.g. ``dt=2024-03-01`` or ``year=2024``.

    ``start`` is inclusive, ``end`` exclusive; both are dates (trading dates for
    ``dt``, calendar for month/year).
    """

    granularity: Granularity
    value: str

    @classmethod
    def containing(cls, granularity: Granularity, day: dt.date) -> PartitionKey:
        """The key of the partition that holds ``day``."""
        if granularity is Granularity.DAY:
            return cls(granularity, day.isoformat())
        if granularity is Granularity.MONTH:
            return cls(granularity, f"{day.year:04d}-{day.month:02d}")
        if granularity is Granularity.ALL:
            return cls(granularity, "all")
        return cls(granularity, f"{day.year:04d}")

    @classmethod
    def parse(cls, dirname: str) -> PartitionKey:
        """Parse a directory name such as ``dt=2024-03-01``."""
        name, _, value = dirname.partition("=")
        key = cls(Granularity(name), value)
        _ = key.start  # raises ValueError on a malformed value
        return key

    @property
    def dirname(self) -> str:
        return f"{self.granularity.value}={self.value}"

    @property
    def start(self) -> dt.date:
        if self.granularity is Granularity.ALL:
            if self.value != "all":
                raise ValueError(f"span partition must be 'all', got {self.value!r}")
            return dt.date.min
        if self.granularity is Granularity.DAY:
            return dt.date.fromisoformat(self.value)
        if self.granularity is Granularity.MONTH:
            year, month = self.value.split("-")
            return dt.date(int(year), int(month), 1)
        return dt.date(int(self.value), 1, 1)

    @property
    def end(self) -> dt.date:
        start = self.start
        if self.granularity is Granularity.ALL:
            return dt.date.max
        if self.granularity is Granularity.DAY:
            return start + dt.timedelta(days=1)
        if self.granularity is Granularity.MONTH:
            return dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return dt.date(start.year + 1, 1, 1)

    def __str__(self) -> str:
        return self.dirname


def keys_for_dates(granularity: Granularity, dates: Iterable[dt.date]) -> list[PartitionKey]:
    """The sorted, distinct partitions that contain ``dates``."""
    return sorted({PartitionKey.containing(granularity, d) for d in dates})


def keys_between(granularity: Granularity, first: dt.date, last: dt.date) -> list[PartitionKey]:
    """The partitions holding any date of ``[first, last]`` (both inclusive), in order."""
    keys: list[PartitionKey] = []
    key = PartitionKey.containing(granularity, first)
    while key.start <= last:
        keys.append(key)
        if key.end > last:
            break
        key = PartitionKey.containing(granularity, key.end)
    return keys


@dataclass(frozen=True, order=True)
class Partition:
    """The address of one partition: layer, symbol, table and key."""

    layer: Layer
    symbol: str
    table: str
    key: PartitionKey

    def path(self, lake: Lake) -> Path:
        return _partition_path(lake, self)

    @property
    def label(self) -> str:
        """Short human name used in messages: ``bronze/ES/ohlcv_1d/year=2024``."""
        return f"{self.layer.value}/{self.symbol}/{self.table}/{self.key.dirname}"

    @property
    def slug(self) -> Path:
        """Relative path used for lake-internal files (locks, staging, failures)."""
        return Path(self.layer.value) / self.symbol / self.table / self.key.dirname

    def __str__(self) -> str:
        return self.label


@lru_cache(maxsize=1 << 16)
def _partition_path(lake: Lake, partition: Partition) -> Path:
    """Memoised: planning a large lake asks for the same few thousand paths many times (paths are immutable)."""
    return lake.table_dir(partition.layer, partition.symbol, partition.table) / partition.key.dirname

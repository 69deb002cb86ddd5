"""Where the HTTP API gets its rows: the lake (the embedded default) or PostgreSQL.

Both backends answer the same three questions with the same polars frames as
:func:`rst.read.read_table` / :func:`rst.read.read_series` (prices int64 fixed-point
1e-9, timestamps ``Datetime[ns, UTC]``), so the API renders them identically:
which names exist (for a 404 that lists them), the rows of a table, the rows of a
series. Names reach a backend already validated by pattern (:mod:`rst.serving.api_params`);
a backend checks that they exist. Only ``rst serve`` imports this module, so it imports its
readers eagerly: the first request does not pay for them.

The lake backend reads through :mod:`rst.read` only, so a tampered or half-written
partition is refused (:class:`~rst.errors.PartitionCorrupt`), never served.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from rst.errors import InputMissing, RstError, Transient, UsageError
from rst.framework.lake import Lake, Layer
from rst.ops.names import known_parents, tables_of, unknown
from rst.read import read_series, read_table
from rst.series import SeriesStore


class NotFound(UsageError):
    """A parent, table or series the API was asked for does not exist (HTTP 404); names what does."""


class NotBuilt(NotFound):
    """The table or series is known but has no rows yet (HTTP 404; ``/stats`` answers its empty state)."""


class Unavailable(RstError, Transient):
    """The backend cannot answer now (the database is unreachable): HTTP 503, worth retrying."""


class Backend(Protocol):
    """What the API needs from a store of rows."""

    @property
    def name(self) -> str:
        """``lake`` or ``database`` (reported by ``/health``)."""
        ...

    def warm_up(self) -> None:
        """Load what the first request would otherwise load (imports, the lake's names), before serving."""
        ...

    def table_rows(
        self, layer: Layer, parent: str, table: str, start: dt.date | None, end: dt.date | None
    ) -> pl.DataFrame:
        """Rows of ``layer/parent/table`` between inclusive dates; :class:`NotFound` for unknown names."""
        ...

    def series_rows(self, series_id: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        """Rows of the continuous series ``series_id`` between inclusive trading dates; :class:`NotFound` if unknown."""
        ...


@dataclass(frozen=True)
class LakeBackend:
    """Rows straight from the lake through :mod:`rst.read` (complete, untampered partitions only)."""

    lake: Lake
    name: str = "lake"

    def warm_up(self) -> None:
        known_parents(self.lake)  # imports the stage registry (seconds on a cold start)

    def table_rows(
        self, layer: Layer, parent: str, table: str, start: dt.date | None, end: dt.date | None
    ) -> pl.DataFrame:
        self._check_table(layer, parent, table)
        try:
            return read_table(layer, parent, table, start, end, self.lake)
        except InputMissing:
            raise NotBuilt(
                f"{layer.value}/{parent}/{table} has no data yet (run `rst run --layer {layer.value}`)"
            ) from None

    def series_rows(self, series_id: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        known = [d.series_id for d in SeriesStore(self.lake.root).list()]
        if series_id not in known:
            raise NotFound(str(unknown("series", series_id, known, "series in the lake")))
        try:
            return read_series(series_id, start, end, self.lake)
        except InputMissing:
            raise NotBuilt(f"series {series_id} is not built yet (run `rst run --layer gold`)") from None

    def _check_table(self, layer: Layer, parent: str, table: str) -> None:
        """:class:`NotFound` naming the parents (or the parent's tables) when ``parent``/``table`` is unknown."""
        parents = known_parents(self.lake)
        if parent not in parents:
            raise NotFound(str(unknown("parent", parent, parents, "parents in the lake")))
        tables = tables_of(self.lake, parent, [layer])
        if table not in tables:
            raise NotFound(str(unknown("table", table, tables, f"{layer.value} tables of {parent}")))


@dataclass(frozen=True)
class DatabaseBackend:
    """Rows from PostgreSQL through :mod:`rst.serving.db_query` (tables that ``rst publish`` wrote).

    A table or series never published is :class:`NotBuilt` (as an unbuilt one in the lake);
    a parent with no published rows gets an empty frame. An unreachable database is
    :class:`Unavailable`. The conninfo never appears in a message.
    """

    conninfo: str
    name: str = "database"

    def warm_up(self) -> None:
        from rst.serving import db_query  # noqa: F401  (psycopg and the layouts' code; no connection yet)

    def table_rows(
        self, layer: Layer, parent: str, table: str, start: dt.date | None, end: dt.date | None
    ) -> pl.DataFrame:
        from rst.serving import db_query

        with _database_errors():
            return db_query.query_rows(
                self.conninfo, parent=parent, table=table, start=start, end=end, layer=layer.value
            )

    def series_rows(self, series_id: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        from rst.serving import db_query

        with _database_errors():
            return db_query.query_series(self.conninfo, series_id, start, end)


@contextmanager
def _database_errors() -> Iterator[None]:
    """The serving errors as the API's: never published -> :class:`NotBuilt`, unreachable -> :class:`Unavailable`."""
    from rst.serving.errors import DatabaseError, NotPublished

    try:
        yield
    except NotPublished as exc:
        raise NotBuilt(str(exc)) from None
    except DatabaseError as exc:
        raise Unavailable(str(exc)) from None

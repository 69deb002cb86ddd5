"""Reading published tables back from PostgreSQL, as the exact frames the lake gives.

:func:`query_rows` and :func:`query_series` return the same columns, dtypes and rows (in
the same order, the table's key order) as :func:`rst.read.read_table` and
:func:`rst.read.read_series` on the lake that was published: prices int64 fixed-point 1e-9,
timestamps UTC (or the column's zone) at nanosecond precision, read from the exact ``_ns``
columns, never from the microsecond ``timestamptz`` ones. Dates are inclusive on both ends
and select rows the way the lake reader does (``trading_date`` where the table has it, else
the UTC date of ``ts_event``/``ts_recv``). All values are bound parameters; identifiers come
from the table's recorded layout only.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rst.read import DATE_COLUMNS
from rst.serving.catalog import load_layout
from rst.serving.connection import connect
from rst.serving.schema import NS_PER_DAY, TableLayout

_EPOCH = dt.date(1970, 1, 1)


def query_rows(
    conninfo: str,
    *,
    parent: str,
    table: str,
    start: dt.date | None,
    end: dt.date | None,
    layer: str = "silver",
) -> pl.DataFrame:
    """Rows of published ``layer/table`` for ``parent`` between ``start`` and ``end`` (inclusive; None = open).

    Raises
    ------
    NotPublished
        When the table was never published to this database.
    DatabaseError
        When the database cannot be reached.
    """
    with connect(conninfo, autocommit=True) as conn:
        layout = load_layout(conn, layer, table)
        return _select(conn, layout, parent, start, end)


def query_series(conninfo: str, series_id: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    """The published gold continuous series ``series_id`` between ``start`` and ``end`` (inclusive), by trading date."""
    from rst.stages.gold.continuous import table_name

    with connect(conninfo, autocommit=True) as conn:
        layout = load_layout(conn, "gold", table_name(series_id))
        return _select(conn, layout, None, start, end)


def _select(
    conn: object, layout: TableLayout, parent: str | None, start: dt.date | None, end: dt.date | None
) -> pl.DataFrame:
    from psycopg import sql

    select: list[sql.Composable] = []
    for c in layout.columns:
        ident = sql.Identifier(c.stored)
        if c.kind == "Date":
            select.append(sql.SQL("({} - DATE '1970-01-01') AS {}").format(ident, sql.Identifier(c.name)))
        else:
            select.append(ident)
    where: list[sql.Composable] = []
    params: list[object] = []
    if parent is not None:
        where.append(sql.SQL("parent = %s"))
        params.append(parent)
    names = [c.name for c in layout.columns]
    date_col = next((layout.column(n) for n in DATE_COLUMNS if n in names), None)
    if date_col is not None and date_col.kind == "Date":
        if start is not None:
            where.append(sql.SQL("{} >= %s").format(sql.Identifier(date_col.stored)))
            params.append(start)
        if end is not None:
            where.append(sql.SQL("{} <= %s").format(sql.Identifier(date_col.stored)))
            params.append(end)
    elif date_col is not None:
        if start is not None:
            where.append(sql.SQL("{} >= %s").format(sql.Identifier(date_col.stored)))
            params.append((start - _EPOCH).days * NS_PER_DAY)
        if end is not None:
            where.append(sql.SQL("{} < %s").format(sql.Identifier(date_col.stored)))
            params.append((end - _EPOCH).days * NS_PER_DAY + NS_PER_DAY)
    query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(select), sql.Identifier(layout.db_table))
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    query += sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(sql.Identifier(k) for k in layout.key_stored))
    with conn.cursor(binary=True) as cur:  # type: ignore[attr-defined]
        cur.execute(query, params)
        rows = cur.fetchall()
    return to_lake_frame(rows, layout)


def to_lake_frame(rows: list[tuple[object, ...]], layout: TableLayout) -> pl.DataFrame:
    """Database rows (stored columns in layout order, dates as day numbers) as the lake's frame."""
    wire = {c.name: (pl.Int32() if c.kind == "Date" else c.wire) for c in layout.columns}
    df = pl.DataFrame(rows, schema=wire, orient="row")
    exprs: list[pl.Expr] = []
    for c in layout.columns:
        col = pl.col(c.name)
        if c.is_time:
            ts = col.cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")
            exprs.append(
                ts.dt.convert_time_zone(c.tz) if c.tz and c.tz != "UTC" else ts if c.tz else col.cast(pl.Datetime("ns"))
            )
        else:
            exprs.append(col.cast(c.lake_dtype()))
    return df.select(exprs)

"""``rst db``: read what ``rst publish`` wrote. ``rst db query`` mirrors ``rst query`` over PostgreSQL.

Rows come back exactly as the lake holds them (:mod:`rst.serving.db_query`), so the
same rendering, ``--columns``, ``--float-prices``, ``--csv`` and ``--parquet`` apply.
"""

from __future__ import annotations

from pathlib import Path

import click

from rst.cli.query import date_range, show_or_write
from rst.errors import UsageError
from rst.framework.lake import Layer
from rst.validation import validate_symbol


@click.group("db")
def db() -> None:
    """Query the PostgreSQL copy of the lake (see `rst publish`)."""


@db.command("query")
@click.option("--database-url", "database_url", default=None, help="postgresql:// URL (default: $RST_DATABASE_URL).")
@click.option("--symbol", default=None, help="Parent symbol, e.g. ES.")
@click.option("--table", "table", default=None, help="Table, e.g. ohlcv_1d, ohlcv_1d_session.")
@click.option("--layer", type=click.Choice([layer.value for layer in Layer]), default="silver", show_default=True)
@click.option("--series", "series_id", default=None, help="A continuous series id (instead of --symbol/--table).")
@click.option("--start", default=None, help="First trading date, YYYY-MM-DD (inclusive).")
@click.option("--end", default=None, help="Last trading date, YYYY-MM-DD (inclusive).")
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write CSV here."
)
@click.option(
    "--parquet",
    "parquet_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write Parquet here.",
)
@click.option("--float-prices", "float_prices_flag", is_flag=True, help="Show prices as decimals (display only).")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows printed (files get every row).")
@click.option("--columns", default=None, help="Only these columns, comma-separated.")
def query(
    database_url: str | None, symbol: str | None, table: str | None, layer: str, series_id: str | None,
    start: str | None, end: str | None, csv_path: Path | None, parquet_path: Path | None,
    float_prices_flag: bool, limit: int, columns: str | None,
) -> None:  # fmt: skip
    """Query a published table (--symbol and --table) or series (--series) between dates."""
    from rst.serving.connection import database_url as resolve_url
    from rst.serving.db_query import query_rows, query_series
    from rst.serving.schema import check_ident

    url = resolve_url(database_url)
    first, last = date_range(start, end)
    if series_id:
        if symbol or table:
            raise UsageError("--series: give either --series or --symbol/--table, not both")
        df = query_series(url, check_ident(series_id, "--series"), first, last)
    else:
        if not symbol or not table:
            raise UsageError("--symbol and --table are required (or --series)")
        parent = validate_symbol(symbol, "--symbol")
        df = query_rows(url, parent=parent, table=check_ident(table, "--table"), start=first, end=last, layer=layer)
    show_or_write(df, columns, float_prices_flag, csv_path, parquet_path, limit)

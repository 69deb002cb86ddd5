"""``rst query``: a table of a symbol (or a continuous series) over a date range, shown or written.

Prices stay exact int64 fixed-point 1e-9 unless ``--float-prices`` asks for
decimals (display/export convenience only; the lake is never changed).
Dates are inclusive trading dates.
"""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl
from rich.table import Table

from rst.cli.options import lake_option
from rst.cli.render import err_console, out_console
from rst.errors import UsageError
from rst.framework.lake import Lake, Layer
from rst.read import read_series, read_table
from rst.validation import validate_dt, validate_symbol

PRICE_COLUMNS = ("open", "high", "low", "close", "settlement", "tick_size", "point_value", "price")
"""Columns holding int64 fixed-point 1e-9 prices in rst tables."""


def float_prices(df: pl.DataFrame) -> pl.DataFrame:
    """Price columns (int64 fixed-point 1e-9) as float64 price units, for display."""
    cols = [c for c in PRICE_COLUMNS if c in df.columns and df.schema[c] == pl.Int64]
    return df.with_columns([(pl.col(c) / 1e9).alias(c) for c in cols])


@click.command("query")
@lake_option
@click.option("--symbol", default=None, help="Parent symbol, e.g. ES.")
@click.option("--table", "table", default=None, help="Table, e.g. ohlcv_1d, ohlcv_1d_session, definition.")
@click.option("--layer", type=click.Choice([layer.value for layer in Layer]), default="silver", show_default=True)
@click.option("--series", "series_id", default=None, help="A continuous series id (instead of --symbol/--table).")
@click.option("--start", default=None, help="First trading date, YYYY-MM-DD (inclusive).")
@click.option("--end", default=None, help="Last trading date, YYYY-MM-DD (inclusive).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write CSV here.")
@click.option("--parquet", "parquet_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write Parquet here.")
@click.option("--float-prices", "float_prices_flag", is_flag=True, help="Show prices as decimals (display only; default exact integers, 1e-9).")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows printed (files get every row).")
def query(
    lake: str | None, symbol: str | None, table: str | None, layer: str, series_id: str | None,
    start: str | None, end: str | None, csv_path: Path | None, parquet_path: Path | None,
    float_prices_flag: bool, limit: int,
) -> None:  # fmt: skip
    """Query a table (--symbol and --table) or a continuous series (--series) between dates."""
    the_lake = Lake.resolve(lake)
    first = validate_dt(start, "--start") if start else None
    last = validate_dt(end, "--end") if end else None
    if first and last and last < first:
        raise UsageError(f"--end: {last} is before --start {first}")
    if series_id:
        if symbol or table:
            raise UsageError("--series: give either --series or --symbol/--table, not both")
        df = read_series(series_id, first, last, the_lake)
    else:
        if not symbol or not table:
            raise UsageError("--symbol and --table are required (or --series)")
        df = read_table(Layer(layer), validate_symbol(symbol, "--symbol"), table, first, last, the_lake)
    if float_prices_flag:
        df = float_prices(df)
    if csv_path is not None:
        df.with_columns(pl.col(pl.Categorical).cast(pl.String)).write_csv(csv_path)
        err_console.print(f"wrote {df.height:,} rows to {csv_path}", highlight=False)
    if parquet_path is not None:
        df.write_parquet(parquet_path)
        err_console.print(f"wrote {df.height:,} rows to {parquet_path}", highlight=False)
    if csv_path is None and parquet_path is None:
        out_console.print(render(df, limit))
        if df.height > limit:
            err_console.print(f"{df.height - limit:,} more rows (use --limit, --csv or --parquet)", highlight=False)


def render(df: pl.DataFrame, limit: int) -> Table:
    """The first ``limit`` rows as a rich table (values as polars prints them)."""
    table = Table(caption=f"{df.height:,} rows")
    for name in df.columns:
        table.add_column(name, justify="right" if df.schema[name].is_numeric() else "left")
    for row in df.head(limit).iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    return table

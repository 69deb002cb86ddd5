"""``rst query``: a table of a symbol (or a continuous series) over a date range, shown or written.

Prices stay exact int64 fixed-point 1e-9 unless ``--float-prices`` asks for
decimals (display/export convenience only; the lake is never changed).
Dates are inclusive trading dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rst.cli.options import lake_option
from rst.cli.render import err_console, out_console
from rst.errors import InputMissing, UsageError
from rst.framework.lake import Lake, Layer
from rst.validation import validate_dt, validate_symbol

if TYPE_CHECKING:
    import polars as pl
    from rich.table import Table

PRICE_COLUMNS = ("open", "high", "low", "close", "settlement", "tick_size", "point_value", "price")
"""Columns holding int64 fixed-point 1e-9 prices in rst tables."""


def float_prices(df: pl.DataFrame) -> pl.DataFrame:
    """Price columns (int64 fixed-point 1e-9) as float64 price units, for display."""
    import polars as pl

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
@click.option("--columns", default=None, help="Only these columns, comma-separated, e.g. trading_date,close.")
def query(
    lake: str | None, symbol: str | None, table: str | None, layer: str, series_id: str | None,
    start: str | None, end: str | None, csv_path: Path | None, parquet_path: Path | None,
    float_prices_flag: bool, limit: int, columns: str | None,
) -> None:  # fmt: skip
    """Query a table (--symbol and --table) or a continuous series (--series) between dates."""
    from rst.ops.names import check_parents, check_tables
    from rst.read import read_table

    the_lake = Lake.open(lake)
    first, last = date_range(start, end)
    if series_id:
        if symbol or table:
            raise UsageError("--series: give either --series or --symbol/--table, not both")
        df = series_frame(the_lake, series_id, first, last)
    else:
        if not symbol or not table:
            raise UsageError("--symbol and --table are required (or --series)")
        parent = check_parents(the_lake, [validate_symbol(symbol, "--symbol")])[0]
        name = check_tables(the_lake, [parent], [table], [Layer(layer)])[0]
        df = read_table(Layer(layer), parent, name, first, last, the_lake)
    show_or_write(df, columns, float_prices_flag, csv_path, parquet_path, limit)


def date_range(start: str | None, end: str | None) -> tuple[dt.date | None, dt.date | None]:
    """``--start``/``--end`` as inclusive trading dates (None when not given); end before start is refused."""
    first = validate_dt(start, "--start") if start else None
    last = validate_dt(end, "--end") if end else None
    if first and last and last < first:
        raise UsageError(f"--end: {last} is before --start {first}")
    return first, last


def show_or_write(
    df: pl.DataFrame, columns: str | None, float_prices_flag: bool, csv_path: Path | None, parquet_path: Path | None,
    limit: int,
) -> None:  # fmt: skip
    """Apply ``--columns`` and ``--float-prices``, then write ``--csv``/``--parquet`` or print the first ``limit`` rows."""
    import polars as pl

    if columns:
        df = select_columns(df, columns)
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


def series_frame(lake: Lake, series_id: str, first: dt.date | None, last: dt.date | None) -> pl.DataFrame:
    """The series' rows; a saved series not built yet is built first when its parent's bars are there."""
    from rst.ops.names import unknown
    from rst.ops.series import build_series
    from rst.read import read_series
    from rst.series import SeriesStore

    store = SeriesStore(lake.root)
    known = [d.series_id for d in store.list()]
    if series_id not in known:
        raise unknown("series", series_id, known, f"series of {lake.root}")
    try:
        return read_series(series_id, first, last, lake)
    except InputMissing:
        built = build_series(lake, store.get(series_id))
        if not built.ready:
            raise UsageError(
                f"--series: {series_id} is not built and cannot be yet; run `{built.next_step(lake)}` first"
            ) from None
    return read_series(series_id, first, last, lake)


def select_columns(df: pl.DataFrame, columns: str) -> pl.DataFrame:
    """``--columns a,b``: those columns in that order; an unknown one is a one-line error."""
    from rst.ops.names import unknown

    names = [c.strip() for c in columns.split(",") if c.strip()]
    for name in names:
        if name not in df.columns:
            raise unknown("column", name, df.columns, "columns")
    return df.select(names)


WIDE = 12
"""Columns printed at most; a wider table (MBP-10 has 75) names the rest instead of wrapping each cell."""


def render(df: pl.DataFrame, limit: int) -> Table:
    """The first ``limit`` rows (and at most :data:`WIDE` columns) as a rich table."""
    from rich.table import Table

    caption = f"{df.height:,} rows"
    if df.width > WIDE:
        hidden = df.columns[WIDE:]
        caption += f"; {len(hidden)} more columns not shown ({', '.join(hidden[:6])}, …): use --columns or --csv"
        df = df.select(df.columns[:WIDE])
    table = Table(caption=caption)
    for name in df.columns:
        table.add_column(name, justify="right" if df.schema[name].is_numeric() else "left", no_wrap=True)
    for row in df.head(limit).iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    return table

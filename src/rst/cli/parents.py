"""``rst parents``: list parents and their metadata; ``rst parents show ES``: its contracts by expiry.

Prices are shown as exact decimals (``0.25``), derived from int64 fixed-point 1e-9.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click

from rst.cli.options import lake_option
from rst.cli.render import out_console
from rst.framework.lake import Lake
from rst.validation import validate_symbol


def fixed(value: int | None) -> str:
    """An int64 fixed-point 1e-9 value as an exact decimal string (``250000000`` -> ``0.25``)."""
    if value is None:
        return ""
    text = format(Decimal(value).scaleb(-9).normalize(), "f")
    return text


def when(value: dt.datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` for a table cell; "" for None."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


@click.group("parents", invoke_without_command=True)
@lake_option
@click.pass_context
def parents(ctx: click.Context, lake: str | None) -> None:
    """List the parents of the lake (metadata from definitions, overrides from _config/parents.toml)."""
    Lake.resolve(lake).refuse_remote("rst parents")
    ctx.obj = lake
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from rst.parents import list_parents, parent_metadata
    from rst.parents.overrides import PARENTS_FILE

    the_lake = Lake.open(lake)
    names = list_parents(the_lake)
    if not names:
        out_console.print(f"no parents in {the_lake.root} (import definition files and run bronze)")
        return
    table = Table(title=f"parents ({the_lake.root / PARENTS_FILE} overrides)")
    for col in ("parent", "exchange", "timezone", "currency", "tick size", "point value", "months", "contracts"):
        table.add_column(col, justify="right" if col in ("tick size", "point value", "contracts") else "left")
    for name in names:
        meta = parent_metadata(the_lake, name, strict=False)
        zone = meta.timezone or "[red]unknown: set an override[/red]"
        if meta.sources.get("timezone") == "override":
            zone += " *"
        table.add_row(
            name, meta.exchange or "", zone, meta.currency or "", fixed(meta.tick_size),
            fixed(meta.point_value), meta.months, str(meta.contracts),
        )  # fmt: skip
    out_console.print(table)


@parents.command("show")
@click.argument("symbol")
@lake_option
@click.pass_context
def show(ctx: click.Context, symbol: str, lake: str | None) -> None:
    """Show SYMBOL's metadata and its contracts ordered by expiry."""
    from rich.table import Table

    from rst.parents import contracts, parent_metadata

    the_lake = Lake.open(lake or ctx.obj)
    symbol = validate_symbol(symbol, "SYMBOL")
    meta = parent_metadata(the_lake, symbol, strict=False)
    zone = meta.timezone or "unknown (set timezone in _config/parents.toml)"
    out_console.print(
        f"[bold]{symbol}[/bold]  exchange {meta.exchange or '?'}  timezone {zone}  currency {meta.currency or '?'}  "
        f"tick {fixed(meta.tick_size)}  point value {fixed(meta.point_value)}  months {meta.months or '?'}",
        highlight=False,
    )
    overridden = sorted(k for k, v in meta.sources.items() if v == "override")
    if overridden:
        out_console.print(f"overrides: {', '.join(overridden)}", highlight=False)
    frame = contracts(the_lake, symbol)
    table = Table(title=f"{symbol} contracts by expiry")
    for col in ("symbol", "instrument_id", "activation", "expiration", "tick size", "point value", "currency"):
        table.add_column(col, justify="right" if col in ("instrument_id", "tick size", "point value") else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(
            row["symbol"] or "", str(row["instrument_id"]), when(row["activation"]), when(row["expiration"]),
            fixed(row["tick_size"]), fixed(row["point_value"]), row["currency"] or "",
        )  # fmt: skip
    out_console.print(table)

"""``rst invalidate``: remove partitions (trash first, never half-deleted) so the next run rebuilds them."""

from __future__ import annotations

import click
from rich.markup import escape

from rst.cli.options import (
    apply_verbosity,
    dates_options,
    lake_option,
    layers_for,
    parse_dates,
    symbol_option,
    table_option,
    verbosity_options,
)
from rst.cli.render import out_console
from rst.framework.lake import Lake
from rst.ops.invalidate import invalidate as remove
from rst.ops.invalidate import select
from rst.stages.registry import known_symbols


@click.command("invalidate")
@lake_option
@click.option(
    "--layer",
    type=click.Choice(["bronze", "silver", "gold", "all"]),
    required=True,
    help="Layer whose partitions to remove (required: there is no default for a removal).",
)
@symbol_option
@dates_options
@table_option
@click.option("--downstream", is_flag=True, help="Also remove the partitions of later layers that read them.")
@click.option("--dry-run", is_flag=True, help="List what would be removed and change nothing.")
@verbosity_options
def invalidate(
    lake: str | None,
    layer: str,
    symbols: list[str],
    dt_text: str | None,
    dates_text: str | None,
    tables: tuple[str, ...],
    downstream: bool,
    dry_run: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Remove the partitions of LAYER for SYMBOLs, dates and tables; `rst run` rebuilds them."""
    apply_verbosity(verbose, quiet)
    the_lake = Lake.resolve(lake)
    dates = parse_dates(dt_text, dates_text)
    layers = layers_for(layer)
    targets = select(
        the_lake,
        layers,
        symbols or known_symbols(the_lake),
        dates,
        list(tables) or None,
        downstream=downstream,
    )
    if not quiet:
        for t in targets:
            why = f"  (reads {t.because})" if t.because else ""
            verb = "would remove" if dry_run else "remove"
            out_console.print(f"{verb} {escape(t.partition.label)}{escape(why)}", highlight=False, soft_wrap=True)
    if dry_run:
        out_console.print(f"dry run: {len(targets)} partition(s) would be removed; nothing was changed", highlight=False)
        return
    removed = remove(targets)
    out_console.print(
        f"invalidated {len(removed)} partition(s); `rst run` rebuilds them", highlight=False, markup=False
    )

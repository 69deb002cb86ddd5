"""``rst invalidate``: remove partitions (trash first, never half-deleted) so the next run rebuilds them."""

from __future__ import annotations

import sys

import click

from rst.cli.options import (
    apply_verbosity,
    dates_options,
    lake_option,
    select_partitions,
    symbol_option,
    table_option,
    verbosity_options,
)
from rst.cli.render import out_console
from rst.errors import UsageError


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
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation when nothing narrows the removal.")
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
    yes: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Remove the partitions of LAYER for SYMBOLs, dates and tables; `rst run` rebuilds them."""
    from rich.markup import escape

    from rst.ops.invalidate import invalidate as remove
    from rst.ops.invalidate import select

    apply_verbosity(verbose, quiet)
    chosen = select_partitions(lake, layer, symbols, dt_text, dates_text, tables)
    if not (symbols or chosen.dates or chosen.tables or dry_run or yes):
        confirm_everything(layer)
    targets = select(chosen.lake, chosen.layers, chosen.symbols, chosen.dates, chosen.tables or None, downstream=downstream)
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


def confirm_everything(layer: str) -> None:
    """Ask before removing every partition of a layer; without a terminal, require ``--yes``."""
    question = f"remove every partition of layer {layer} (no --symbol, --dt/--dates or --table narrows it)?"
    if not sys.stdin.isatty():
        raise UsageError(f"{question} pass --yes to confirm, or narrow it with --symbol, --dates or --table")
    if not click.confirm(question, default=False, err=True):
        raise UsageError("nothing removed")

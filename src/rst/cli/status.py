"""``rst status``: done / missing / stale / failed for every partition, from the lake alone.

Exit code 0, or 1 when any partition is ``failed`` (so cron can alert on it);
``missing`` and ``stale`` are normal between runs and do not change the exit code.
"""

from __future__ import annotations

import json

import click
from rich.markup import escape
from rich.table import Table

from rst.cli.options import (
    apply_verbosity,
    dates_options,
    lake_option,
    layer_option,
    layers_for,
    parse_dates,
    symbol_option,
    table_option,
    verbosity_options,
)
from rst.cli.render import err_console, out_console
from rst.framework.lake import Lake
from rst.framework.stage import PartitionState
from rst.ops.status import LakeStatus, lake_status
from rst.stages.registry import known_symbols

STYLE = {"done": "green", "missing": "yellow", "stale": "yellow", "failed": "red"}


@click.command("status")
@lake_option
@layer_option
@symbol_option
@dates_options
@table_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (one JSON document on stdout).")
@click.option("--problems", "-p", is_flag=True, help="List only partitions that are not done.")
@verbosity_options
def status(
    lake: str | None,
    layer: str,
    symbols: list[str],
    dt_text: str | None,
    dates_text: str | None,
    tables: tuple[str, ...],
    as_json: bool,
    problems: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Per table and partition: done, missing, stale (and why) or failed (with the error and the command to rerun)."""
    apply_verbosity(verbose, quiet)
    the_lake = Lake.resolve(lake)
    dates = parse_dates(dt_text, dates_text)
    layers = layers_for(layer)
    result = lake_status(the_lake, layers, symbols or known_symbols(the_lake), dates, list(tables) or None)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        render(result, problems_only=problems or quiet, quiet=quiet)
    if result.totals()[PartitionState.FAILED.value]:
        raise SystemExit(1)


def render(result: LakeStatus, *, problems_only: bool, quiet: bool) -> None:
    """Partitions (all, or only the not-done ones), a summary per table, and one final line."""
    if not quiet:
        shown = result.problems() if problems_only else result.partitions
        if shown:
            table = Table(title="partitions")
            for col in ("partition", "state", "reason"):
                table.add_column(col)
            for s in shown:
                table.add_row(escape(s.label), f"[{STYLE[s.state.value]}]{s.state.value}[/]", escape(s.reason))
            out_console.print(table)
        summary = Table(title="status by table")
        for col in ("layer", "symbol", "table", *STYLE):
            summary.add_column(col, justify="right" if col in STYLE else "left")
        for row in result.tables():
            summary.add_row(row["layer"], row["symbol"], row["table"], *(_count(row[s], s) for s in STYLE))
        out_console.print(summary)
    for s in result.partitions:
        if s.state is PartitionState.FAILED:
            err_console.print(f"failed {s.label}: {s.reason}\n  rerun: {s.command}", highlight=False, markup=False,
                              soft_wrap=True)  # fmt: skip
    totals = result.totals()
    pending = totals[PartitionState.MISSING.value] + totals[PartitionState.STALE.value]
    if pending and not quiet:
        out_console.print(f"{pending} partition(s) missing or stale: `rst run` brings them up to date "
                          "(`rst status --json` has the exact command for each)", highlight=False, markup=False)  # fmt: skip
    out_console.print(
        f"status: {len(result.partitions)} partitions: " + ", ".join(f"{totals[s]} {s}" for s in STYLE),
        highlight=False,
    )


def _count(n: int, state: str) -> str:
    return f"[{STYLE[state]}]{n}[/]" if n and state != "done" else str(n)

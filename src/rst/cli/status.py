"""``rst status``: done / missing / stale / failed / corrupt for every partition, from the lake alone.

Exit code 0, or 1 when any partition is ``failed`` or ``corrupt``, a stray entry sits in the
table tree or a raw catalogue entry does not parse (so cron can alert on it); ``missing`` and
``stale`` are normal between runs and do not change the exit code, nor does a damaged run-log
line (reported, but history only).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from rst.cli.options import (
    apply_verbosity,
    dates_options,
    lake_option,
    layer_option,
    select_partitions,
    symbol_option,
    table_option,
    verbosity_options,
)
from rst.cli.render import err_console, out_console

if TYPE_CHECKING:
    from rst.ops.status import LakeStatus

STYLE = {"done": "green", "missing": "yellow", "stale": "yellow", "failed": "red", "corrupt": "red"}


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
    """Per table and partition: done, missing, stale (and why), failed or corrupt (with what is wrong and the command to rerun)."""
    from rst.framework.lake import Lake
    from rst.ops.status import lake_status

    Lake.resolve(lake).refuse_remote("rst status")

    apply_verbosity(verbose, quiet)
    chosen = select_partitions(lake, layer, symbols, dt_text, dates_text, tables)
    result = lake_status(chosen.lake, chosen.layers, chosen.symbols, chosen.dates, chosen.tables or None)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        render(result, problems_only=problems or quiet, quiet=quiet)
    if result.needs_attention():
        raise SystemExit(1)


def render(result: LakeStatus, *, problems_only: bool, quiet: bool) -> None:
    """Partitions (all, or only the not-done ones), a summary per table, and one final line."""
    from rich.markup import escape
    from rich.table import Table

    from rst.framework.stage import PartitionState

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
        if s.state in (PartitionState.FAILED, PartitionState.CORRUPT):
            err_console.print(f"{s.state.value} {s.label}: {s.reason}\n  rerun: {s.command}", highlight=False,
                              markup=False, soft_wrap=True)  # fmt: skip
    for problem in result.lake_problems:
        err_console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    if not quiet:
        for gap in result.gaps:
            out_console.print(f"gap: {gap.describe()} (holidays and weekends are not gaps)", highlight=False,
                              markup=False, soft_wrap=True)  # fmt: skip
        for path in result.unprocessed:
            out_console.print(f"imported, not processed: {path}: no stage reads this schema yet", highlight=False,
                              markup=False, soft_wrap=True)  # fmt: skip
    totals = result.totals()
    pending = totals[PartitionState.MISSING.value] + totals[PartitionState.STALE.value]
    if pending and not quiet:
        out_console.print(f"{pending} partition(s) missing or stale: `rst run` brings them up to date "
                          "(`rst status --json` has the exact command for each)", highlight=False, markup=False)  # fmt: skip
    others = f"; {len(result.lake_problems)} problem(s) outside partitions" if result.lake_problems else ""
    out_console.print(
        f"status: {len(result.partitions)} partitions: " + ", ".join(f"{totals[s]} {s}" for s in STYLE) + others,
        highlight=False,
    )


def _count(n: int, state: str) -> str:
    return f"[{STYLE[state]}]{n}[/]" if n and state != "done" else str(n)

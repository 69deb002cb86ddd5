"""``rst runs``: the recent runs from the run log (``<lake>/_runs/runs.jsonl``), newest last.

Lines of the log that are not readable records (torn by a crash, not UTF-8, not JSON) are
reported on stderr as ``problem: <file> line N: ...``, one line each, never hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from rst.cli.options import lake_option
from rst.cli.render import err_console, out_console
from rst.framework.lake import Lake

if TYPE_CHECKING:
    from rst.framework.runlog import RunLogProblem

STYLE = {"ok": "green", "failed": "red", "interrupted": "yellow"}
"""Colour of each ``RunStatus`` value (plain strings, so this module loads without the run log's imports)."""


@click.command("runs")
@lake_option
@click.option("--last", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line (the log's own format).")
def runs(lake: str | None, last: int, as_json: bool) -> None:
    """Show the last runs: when, command, outcome, partitions built/skipped/failed, rows, seconds."""
    Lake.resolve(lake).refuse_remote("rst runs")
    from rich.markup import escape
    from rich.table import Table

    from rst.framework.runlog import read_run_log, runs_path
    from rst.framework.stage import Outcome

    the_lake = Lake.open(lake)
    records, problems = read_run_log(the_lake)
    records = records[-last:]
    render_problems(problems)
    if as_json:
        for r in records:
            click.echo(r.to_json())
        return
    if not records:
        out_console.print(f"no runs logged in {runs_path(the_lake)}", highlight=False)
        return
    table = Table(title=f"last {len(records)} runs ({runs_path(the_lake)})")
    for col in ("started (UTC)", "command", "status", "built", "skipped", "no input", "failed", "rows", "seconds", "args"):
        table.add_column(col, justify="right" if col in ("built", "skipped", "no input", "failed", "rows", "seconds") else "left")
    for r in records:
        table.add_row(
            r.started_at[:19].replace("T", " "),
            r.command,
            f"[{STYLE[r.status]}]{r.status.value}[/]",
            str(r.count(Outcome.BUILT)),
            str(r.count(Outcome.SKIPPED)),
            str(r.count(Outcome.NO_INPUT)),
            str(r.count(Outcome.FAILED)),
            f"{r.rows_out:,}",
            f"{r.seconds:.1f}",
            escape(" ".join(r.argv[1:])),
        )
    out_console.print(table)
    for r in records:
        for e in r.errors[:3]:
            out_console.print(f"  {r.run_id} {escape(e)}", highlight=False, soft_wrap=True)


def render_problems(problems: list[RunLogProblem]) -> None:
    """One stderr line per unreadable line of the run log."""
    for problem in problems:
        err_console.print(f"problem: {problem}", highlight=False, soft_wrap=True, markup=False)

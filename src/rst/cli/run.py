"""``rst run`` (and ``python -m rst.runner``): bring partitions up to date, layer by layer."""

from __future__ import annotations

import time

import click

from rst.cli.options import dates_options, lake_option, layer_option, parse_dates, symbol_option, verbosity_options
from rst.cli.render import err_console, out_console, progress, summary_table
from rst.errors import UsageError
from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_waves
from rst.framework.stage import Outcome, PartitionResult
from rst.stages.registry import known_symbols, plan
from rst.validation import validate_workers


def layers_for(layer: str) -> list[Layer]:
    """``all`` → bronze, silver, gold; otherwise the one layer."""
    return list(Layer) if layer == "all" else [Layer(layer)]


@click.command("run")
@lake_option
@layer_option
@symbol_option
@dates_options
@click.option("--table", "tables", multiple=True, help="Only these tables (repeatable), e.g. ohlcv_1d.")
@click.option("--workers", "-j", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--force", is_flag=True, help="Rebuild even partitions that are up to date.")
@click.option("--dry-run", is_flag=True, help="Print the plan (what would run and why) and change nothing.")
@verbosity_options
def run(
    lake: str | None,
    layer: str,
    symbols: list[str],
    dt_text: str | None,
    dates_text: str | None,
    tables: tuple[str, ...],
    workers: int,
    force: bool,
    dry_run: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Run the pipeline for SYMBOLs and dates; exit 1 if any partition failed."""
    the_lake = Lake.resolve(lake)
    dates = parse_dates(dt_text, dates_text)
    workers = validate_workers(workers, "--workers")
    symbols = symbols or known_symbols(the_lake)
    if not symbols:
        raise UsageError(f"no symbols given and none found in {the_lake.root} (import raw files first: rst import)")
    waves = plan(the_lake, layers_for(layer), symbols, dates, force=force, tables=list(tables) or None)
    if dry_run:
        _print_plan(waves)
        return
    results = execute(waves, workers=workers, quiet=quiet)
    failed = [r for r in results if r.outcome is Outcome.FAILED]
    if not quiet:
        out_console.print(summary_table(results))
    for r in failed:
        err_console.print(f"[red]FAILED[/red] {r.partition.label}: {r.error}", highlight=False, soft_wrap=True)
    if failed:
        raise SystemExit(1)


def execute(waves: list[list], *, workers: int, quiet: bool) -> list[PartitionResult]:
    """Run the waves with a progress bar; return the results."""
    total = sum(len(w) for w in waves)
    started = time.monotonic()
    rows = 0
    with progress(quiet) as bar:
        task_id = bar.add_task("partitions", total=total, rows_per_s="0")

        def on_result(result: PartitionResult) -> None:
            nonlocal rows
            rows += result.rows_out if result.outcome is Outcome.BUILT else 0
            rate = rows / max(time.monotonic() - started, 1e-9)
            bar.update(task_id, advance=1, rows_per_s=f"{rate:,.0f}")

        return run_waves(waves, workers=workers, on_result=on_result)


def _print_plan(waves: list[list]) -> None:
    for wave in waves:
        for task in wave:
            if task.force:
                why = "forced"
            else:
                state, reason = task.stage.state(task.key)
                if state.value == "done":
                    why = "up to date: would skip"
                else:
                    why = f"{state.value}" + (f": {reason}" if reason else "")
            out_console.print(f"{task.label}  {why}", highlight=False, soft_wrap=True)

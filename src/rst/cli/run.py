"""``rst run`` (and ``python -m rst.runner``): bring partitions up to date, readers after what they read.

Exit codes: 0 all partitions up to date or built, 1 some partition failed (the
others ran), 2 usage error, 130 interrupted (Ctrl-C) or 143 terminated (SIGTERM):
in both cases partitions already committed stay, nothing partial is visible, the
same command resumes. Worker processes die with the command, SIGKILL included.
Every run that starts executing appends one line to the run log (``rst runs``).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

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
from rst.cli.render import err_console, out_console, progress, render_failures, run_line, summary_table
from rst.cluster.options import EXECUTORS
from rst.errors import UsageError
from rst.framework.lake import Lake, Layer
from rst.validation import validate_workers

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from rst.framework.graph import Task
    from rst.framework.runlog import RunStatus
    from rst.framework.stage import PartitionResult

INTERRUPTED_EXIT = 130
TERMINATED_EXIT = 143


@click.command("run")
@lake_option
@layer_option
@symbol_option
@dates_options
@table_option
@click.option(
    "--workers", "-j", type=int, default=1, show_default=True,
    help="Worker processes (of the process pool, or of a local Dask cluster with --executor dask).",
)  # fmt: skip
@click.option(
    "--executor", type=click.Choice(EXECUTORS), default="process", show_default=True,
    help="Where partitions run: a local process pool, or Dask distributed (--scheduler, else a local cluster).",
)  # fmt: skip
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler to run on (--executor dask).")
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
    executor: str,
    scheduler: str | None,
    force: bool,
    dry_run: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Run the pipeline for SYMBOLs and dates; exit 1 if any partition failed."""
    from rst.cluster.options import open_executor, validate_executor_options
    from rst.framework.procguard import Terminated, sigterm_as_interrupt
    from rst.framework.runlog import RunStatus, append_run, new_record
    from rst.framework.stage import Outcome
    from rst.ops.names import check_parents, check_tables
    from rst.ops.pipeline import plan_pipeline
    from rst.stages.registry import known_symbols

    apply_verbosity(verbose, quiet)
    started = dt.datetime.now(dt.UTC)
    the_lake = Lake.open(lake)
    dates = parse_dates(dt_text, dates_text)
    workers = validate_workers(workers, "--workers")
    workers_given = click.get_current_context().get_parameter_source("workers") is not ParameterSource.DEFAULT
    scheduler = validate_executor_options(executor, scheduler, workers_given=workers_given)
    symbols = check_parents(the_lake, symbols) or known_symbols(the_lake)
    if not symbols:
        raise UsageError(f"no symbols given and none found in {the_lake.root} (import raw files first: rst import)")
    checked = check_tables(the_lake, symbols, tables, layers_for(layer))
    if dry_run:
        tasks = plan_pipeline(the_lake, symbols, layers=layers_for(layer), dates=dates, force=force, tables=checked or None)
        print_plan(the_lake, tasks, quiet=quiet)
        return
    params = {
        "layer": layer,
        "symbols": symbols,
        "dt": dt_text,
        "dates": dates_text,
        "tables": list(tables),
        "workers": workers,
        "executor": executor,
        "scheduler": scheduler,
        "force": force,
    }
    results: list[PartitionResult] = []
    status: RunStatus | None = None
    t0 = time.monotonic()
    stopped_by: KeyboardInterrupt | None = None
    try:
        with sigterm_as_interrupt(), open_executor(executor, scheduler, workers) as pool:
            selection = Selection(the_lake, symbols, layers_for(layer), dates, force, checked or None)
            execute(selection, workers=workers, quiet=quiet, results=results, executor=pool)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as Terminated
        status, stopped_by = RunStatus.INTERRUPTED, exc
    append_run(the_lake, new_record("run", sys.argv, params, results, started_at=started, status=status))
    if not quiet:
        out_console.print(summary_table(results))
    render_failures(results, verbose=verbose)
    line = run_line("run", results, time.monotonic() - t0)
    if stopped_by is not None:
        terminated = isinstance(stopped_by, Terminated)
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        err_console.print(
            f"{what}: {line}; committed partitions stay, nothing partial is visible; rerun to finish",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(TERMINATED_EXIT if terminated else INTERRUPTED_EXIT)
    out_console.print(line, highlight=False, soft_wrap=True)
    if any(r.outcome is Outcome.FAILED for r in results):
        raise SystemExit(1)


@dataclass(frozen=True)
class Selection:
    """What a run covers: parents, layers, dates (None: all the inputs allow), tables (None: all)."""

    lake: Lake
    parents: Sequence[str]
    layers: Sequence[Layer]
    dates: Sequence[dt.date] | None
    force: bool = False
    tables: Sequence[str] | None = None


def execute(
    selection: Selection,
    *,
    workers: int,
    quiet: bool,
    results: list[PartitionResult] | None = None,
    executor: Executor | None = None,
) -> list[PartitionResult]:
    """Run the selection through the pipeline with a progress bar; return the results.

    The bar's total grows as each parent's layers are planned. ``results``, when given, receives
    each result as it arrives, so a caller interrupted by Ctrl-C still knows what finished.
    """
    from rst.framework.stage import Outcome
    from rst.ops.pipeline import run_pipeline

    started = time.monotonic()
    rows = 0
    collected = results if results is not None else []
    with progress(quiet) as bar:
        task_id = bar.add_task("partitions", total=0, rows_per_s="0")

        def on_result(result: PartitionResult) -> None:
            nonlocal rows
            collected.append(result)
            rows += result.rows_out if result.outcome is Outcome.BUILT else 0
            rate = rows / max(time.monotonic() - started, 1e-9)
            bar.update(task_id, advance=1, rows_per_s=f"{rate:,.0f}")

        def on_planned(n: int) -> None:
            bar.update(task_id, total=(bar.tasks[0].total or 0) + n)

        run_pipeline(
            selection.lake,
            selection.parents,
            layers=selection.layers,
            dates=selection.dates,
            force=selection.force,
            tables=selection.tables,
            workers=workers,
            executor=executor,
            on_result=on_result,
            on_planned=on_planned,
        )
    return collected


def print_plan(lake: Lake, tasks: Sequence[Task], *, quiet: bool = False) -> None:
    """One line per task: ``build``/``skip``, the partition and why; then a count. Reads only."""
    from rst.framework.graph import planning
    from rst.framework.stage import PartitionState
    from rst.ops.status import StatusResolver

    resolver = StatusResolver(lake)
    counts = {"build": 0, "skip": 0, "none": 0}
    for task in tasks:
        if not task.stage.inputs(task.key):
            with planning(t.partition for t in tasks):  # will an earlier task of this run write its input?
                later = bool(task.stage.inputs(task.key))
            verb, why = ("build", "once an earlier task of this run writes its input") if later else ("none", "no input")
        elif task.force:
            verb, why = "build", "forced"
        else:
            st = resolver.status(task.stage, task.key)
            if st.state is PartitionState.DONE:
                verb, why = "skip", "up to date"
            else:
                verb, why = "build", st.state.value + (f": {st.reason}" if st.reason else "")
        counts[verb] += 1
        if not quiet:
            out_console.print(f"{verb:<5}  {task.label}  ({why})", highlight=False, soft_wrap=True)
    out_console.print(
        f"dry run: {counts['build']} to build, {counts['skip']} up to date, {counts['none']} without input; "
        "nothing was changed",
        highlight=False,
    )

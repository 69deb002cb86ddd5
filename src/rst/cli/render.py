"""Rendering shared by commands: the run summary table and the progress bar (stderr, so stdout stays data)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # rich, polars and pyarrow load when a command renders, not for ``--help``
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from rst.framework.stage import PartitionResult


class _LazyConsole:
    """A rich ``Console`` created (and rich imported) on first use, so importing a command stays fast."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def real(self) -> Console:
        """The rich console itself (for rich APIs that take one)."""
        if self._console is None:
            from rich.console import Console

            stream = sys.stderr if self._stderr else sys.stdout
            self._console = Console(stderr=self._stderr, width=None if stream.isatty() else 200)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


err_console = cast("Console", _LazyConsole(stderr=True))
out_console = cast("Console", _LazyConsole(stderr=False))


def progress(quiet: bool) -> Progress:
    """A partitions-done/total bar with rows/s and ETA; disabled when quiet or not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rows_per_s]} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=cast(_LazyConsole, err_console).real(),
        disable=quiet or not err_console.is_terminal,
        transient=True,
    )


def summary_table(results: Iterable[PartitionResult]) -> Table:
    """One row per layer/table: partitions by outcome, rows, quarantined, seconds."""
    from rich.table import Table

    from rst.framework.stage import Outcome

    table = Table(title="run summary")
    for col in ("table", "built", "skipped", "no input", "failed", "rows out", "quarantined", "seconds"):
        table.add_column(col, justify="left" if col == "table" else "right")
    groups: dict[str, list[PartitionResult]] = {}
    for r in results:
        groups.setdefault(f"{r.partition.layer.value}/{r.partition.table}", []).append(r)
    for name in sorted(groups, key=_layer_order):
        rs = groups[name]
        counts = Counter(r.outcome for r in rs)
        table.add_row(
            name,
            str(counts[Outcome.BUILT]),
            str(counts[Outcome.SKIPPED]),
            str(counts[Outcome.NO_INPUT]),
            f"[red]{counts[Outcome.FAILED]}[/red]" if counts[Outcome.FAILED] else "0",
            f"{sum(r.rows_out for r in rs if r.outcome is Outcome.BUILT):,}",
            f"{sum(r.rows_quarantined for r in rs):,}",
            f"{sum(r.seconds for r in rs):.2f}",
        )
    return table


def _layer_order(name: str) -> tuple[int, str]:
    layer = name.split("/", 1)[0]
    return ({"bronze": 0, "silver": 1, "gold": 2}.get(layer, 3), name)


def run_line(what: str, results: Iterable[PartitionResult], seconds: float) -> str:
    """The final line of a run: ``run: 12 built, 3 up to date, 0 without input, 1 failed; 4,321 rows in 2.1s``."""
    from rst.framework.stage import Outcome

    results = list(results)
    counts = Counter(r.outcome for r in results)
    rows = sum(r.rows_out for r in results if r.outcome is Outcome.BUILT)
    return (
        f"{what}: {counts[Outcome.BUILT]} built, {counts[Outcome.SKIPPED]} up to date, "
        f"{counts[Outcome.NO_INPUT]} without input, {counts[Outcome.FAILED]} failed; {rows:,} rows in {seconds:.1f}s"
    )


def render_failures(results: Iterable[PartitionResult], *, verbose: bool = False) -> None:
    """One stderr line per failed partition (its traceback too with ``verbose``)."""
    from rich.markup import escape

    from rst.framework.stage import Outcome

    for r in results:
        if r.outcome is not Outcome.FAILED:
            continue
        if verbose and r.traceback:
            err_console.print(r.traceback, highlight=False, soft_wrap=True, markup=False)
        err_console.print(
            f"[red]FAILED[/red] {escape(r.partition.label)}: {escape(str(r.error))}", highlight=False, soft_wrap=True
        )

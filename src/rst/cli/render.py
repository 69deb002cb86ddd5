"""Rendering shared by commands: the run summary table and the progress bar (stderr, so stdout stays data)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from rst.framework.stage import Outcome, PartitionResult

import sys

err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
out_console = Console(width=None if sys.stdout.isatty() else 200)


def progress(quiet: bool) -> Progress:
    """A partitions-done/total bar with rows/s and ETA; disabled when quiet or not a terminal."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rows_per_s]} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,
        transient=True,
    )


def summary_table(results: Iterable[PartitionResult]) -> Table:
    """One row per layer/table: partitions by outcome, rows, quarantined, seconds."""
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

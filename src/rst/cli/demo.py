"""``rst demo``: generate sample data for four parents and run bronze → silver → gold, then show what was written."""

from __future__ import annotations

import datetime as dt
import sys

import click
import polars as pl
from rich.table import Table

from rst.cli.options import lake_option
from rst.cli.render import out_console, summary_table
from rst.demo import DEMO_PARENTS, run_demo
from rst.framework.lake import Lake
from rst.framework.runlog import append_run, new_record
from rst.framework.stage import Outcome
from rst.validation import validate_workers


@click.command("demo")
@lake_option
@click.option("--workers", "-j", type=int, default=2, show_default=True, help="Worker processes.")
def demo(lake: str | None, workers: int) -> None:
    """Run the whole pipeline on synthetic sample data (ES, NQ, CL, GC; 2023–2024)."""
    the_lake = Lake.resolve(lake)
    started = dt.datetime.now(dt.UTC)
    workers = validate_workers(workers, "--workers")
    result = run_demo(the_lake, workers=workers)
    append_run(the_lake, new_record("demo", sys.argv, {"workers": workers}, result.results, started_at=started))
    out_console.print(f"lake: {the_lake.root}", highlight=False)
    out_console.print(f"raw files imported: {len(result.raw_files)} for {', '.join(DEMO_PARENTS)}", highlight=False)
    out_console.print(summary_table(result.results))
    out_console.print(tables_written(the_lake))
    series = series_overview(the_lake)
    if series is not None:
        out_console.print(series)
    failed = [r for r in result.results if r.outcome is Outcome.FAILED]
    for r in failed:
        out_console.print(f"[red]FAILED[/red] {r.partition.label}: {r.error}", highlight=False, soft_wrap=True)
    if failed:
        raise SystemExit(1)


def tables_written(lake: Lake) -> Table:
    """Every table in the lake: layer, symbol, table, partitions and rows (from manifests)."""
    from rst.framework.manifest import read_manifest
    from rst.framework.verify import partition_dirs

    counts: dict[tuple[str, str, str], list[int]] = {}
    for directory in partition_dirs(lake):
        manifest = read_manifest(directory)
        if manifest is None:
            continue
        key = (manifest.layer, manifest.symbol, manifest.table)
        parts, rows = counts.get(key, [0, 0])
        counts[key] = [parts + 1, rows + manifest.rows_out]
    table = Table(title="tables written")
    for col in ("layer", "symbol", "table", "partitions", "rows"):
        table.add_column(col, justify="right" if col in ("partitions", "rows") else "left")
    order = {"bronze": 0, "silver": 1, "gold": 2}
    for (layer, symbol, name), (parts, rows) in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1:])):
        table.add_row(layer, symbol, name, str(parts), f"{rows:,}")
    return table


def series_overview(lake: Lake) -> Table | None:
    """Each saved series: path, rows, first/last date and roll dates."""
    try:
        from rst.read import read_series
        from rst.series import SeriesStore
    except ImportError:
        return None
    table = Table(title="continuous series (gold)")
    for col in ("series", "path", "rows", "first", "last", "rolls"):
        table.add_column(col)
    for defn in SeriesStore(lake.root).list():
        df = read_series(defn.series_id, lake=lake.root)
        if df.is_empty():
            continue
        rolls = df.filter(pl.col("is_roll"))["trading_date"].to_list()
        shown = ", ".join(d.isoformat() for d in rolls[:8]) + (" …" if len(rolls) > 8 else "")
        from rst.framework.lake import Layer

        path = lake.relative(lake.table_dir(Layer.GOLD, defn.parent, f"continuous_{defn.series_id}"))
        table.add_row(
            defn.series_id, path, f"{df.height:,}", str(df["trading_date"].min()), str(df["trading_date"].max()), shown
        )
    return table

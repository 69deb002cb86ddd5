"""``rst demo``: generate sample data for four parents and run bronze → silver → gold, then show what was written."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING

import click

from rst.cli.options import lake_option
from rst.cli.render import err_console, out_console, progress, summary_table
from rst.framework.lake import Lake
from rst.validation import validate_symbol, validate_workers

if TYPE_CHECKING:
    from rich.table import Table


@click.command("demo")
@lake_option
@click.option("--workers", "-j", type=int, default=2, show_default=True, help="Worker processes.")
@click.option("--parents", "parents_text", default="ES,NQ,CL,GC", show_default=True,
              help="Parents to generate, comma-separated (any of ES, NQ, ZN, CL, GC, 6E).")
def demo(lake: str | None, workers: int, parents_text: str) -> None:
    """Run the whole pipeline on synthetic sample data (ES, NQ, CL, GC by default; 2023–2024)."""
    from rst.demo import run_demo
    from rst.framework.runlog import append_run, new_record
    from rst.framework.stage import Outcome
    from rst.ops.names import unknown
    from rst.sources.synthetic.parents import REGISTRY

    started = dt.datetime.now(dt.UTC)
    workers = validate_workers(workers, "--workers")
    parents = tuple(dict.fromkeys(validate_symbol(p, "--parents") for p in parents_text.split(",") if p.strip()))
    for parent in parents:
        if parent not in REGISTRY:
            raise unknown("parent", parent, REGISTRY, "--parents of the demo")
    the_lake, created = Lake.create(lake)
    if created:
        out_console.print(f"created lake {the_lake.root}", highlight=False)
    with progress(quiet=False) as bar:
        task_id = bar.add_task("partitions", total=None, rows_per_s="-")

        def step(line: str) -> None:
            err_console.print(line, highlight=False, soft_wrap=True)

        result = run_demo(
            the_lake, parents=parents, workers=workers, on_step=step, on_result=lambda _: bar.update(task_id, advance=1)
        )
    append_run(the_lake, new_record("demo", sys.argv, {"workers": workers}, result.results, started_at=started))
    out_console.print(f"lake: {the_lake.root}", highlight=False)
    if result.new_files:
        imported = f"raw files imported: {result.new_files} new for {', '.join(parents)}"
    else:
        imported = f"raw files: nothing new imported (all {len(result.raw_files)} already in the raw zone)"
    out_console.print(imported, highlight=False)
    out_console.print(summary_table(result.results))
    failed = [r for r in result.results if r.outcome is Outcome.FAILED]
    if failed:  # the first failure's cause, not the later "input missing" of every table built on it
        first = failed[0]
        click.echo(f"error: {len(failed)} of {len(result.results)} partitions failed; the first, "
                   f"{first.partition.label}: {first.error}", err=True)
        raise SystemExit(1)
    out_console.print(tables_written(the_lake))
    series = series_overview(the_lake)
    if series is not None:
        out_console.print(series)
    out_console.print(next_steps(the_lake), highlight=False, markup=False)


def next_steps(lake: Lake) -> str:
    """What to try next on the demo lake, as commands to copy."""
    at = f"--lake {lake.root}"
    return "\n".join([
        "next:",
        f"  rst query --series es_front_ratio --start 2024-01-01 --csv es.csv {at}   # a continuous series to CSV",
        f"  rst query --symbol ES --table ohlcv_1d --start 2024-12-02 {at}           # daily bars, exact prices",
        f"  rst status {at}                                                          # what is done, stale, failed",
        f"  rst parents {at}                                                         # parents and their metadata",
        f"  rst series add --id es_c0 --parent ES --roll-offset-days 5 {at}          # your own roll rule",
        "  (`rst` is `.venv/bin/rst`; `. .venv/bin/activate` puts it on the PATH)",
    ])  # fmt: skip


def tables_written(lake: Lake) -> Table:
    """Every table in the lake: layer, symbol, table, partitions and rows (from manifests)."""
    from rich.table import Table

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
    import polars as pl
    from rich.table import Table

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

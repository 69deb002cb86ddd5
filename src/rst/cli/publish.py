"""``rst publish``: copy chosen lake partitions to PostgreSQL, idempotently, with an audit row each.

Chooses partitions like ``rst run`` (``--layer``, ``--symbol``, ``--table``, ``--dt``/``--dates``);
``--layer all`` (the default) means silver and gold. A partition whose ``_SUCCESS`` hash was
already published is skipped unread; ``--force`` republishes it (still writing only the rows
that differ). Exit code 1 when any partition failed (each failure is in ``ingest_runs``).
"""

from __future__ import annotations

import time

import click

from rst.cli.options import (
    apply_verbosity,
    dates_options,
    lake_option,
    layer_option,
    parse_dates,
    symbol_option,
    table_option,
    verbosity_options,
)  # fmt: skip
from rst.cli.render import err_console, out_console, progress
from rst.framework.lake import Lake, Layer


@click.command("publish")
@lake_option
@click.option("--database-url", "database_url", default=None, help="postgresql:// URL (default: $RST_DATABASE_URL).")
@layer_option
@symbol_option
@table_option
@dates_options
@click.option("--force", is_flag=True, help="Republish partitions already published (only differing rows are written).")
@verbosity_options
def publish(
    lake: str | None, database_url: str | None, layer: str, symbols: list[str], tables: tuple[str, ...],
    dt_text: str | None, dates_text: str | None, force: bool, verbose: bool, quiet: bool,
) -> None:  # fmt: skip
    """Publish silver and gold partitions to PostgreSQL (upserts, one transaction per partition)."""
    Lake.resolve(lake).refuse_remote("rst publish")
    from rst.ops.names import check_parents
    from rst.serving.connection import database_url as resolve_url
    from rst.serving.publish import DEFAULT_LAYERS, Outcome, PartitionReport, plan
    from rst.serving.publish import publish as run_publish

    apply_verbosity(verbose, quiet)
    url = resolve_url(database_url)
    the_lake = Lake.open(lake)
    layers = list(DEFAULT_LAYERS) if layer == "all" else [Layer(layer)]
    parents = check_parents(the_lake, symbols) if symbols else None
    partitions = plan(the_lake, layers, parents, list(tables) or None, parse_dates(dt_text, dates_text))
    started = time.monotonic()
    rows = 0
    with progress(quiet) as bar:
        task = bar.add_task("publish", total=len(partitions), rows_per_s="0")

        def on_partition(result: PartitionReport) -> None:
            nonlocal rows
            rows += result.rows
            if result.outcome is Outcome.FAILED:
                err_console.print(f"[red]failed[/red] {result.error}", highlight=False)
            bar.update(task, advance=1, rows_per_s=f"{rows / max(time.monotonic() - started, 1e-9):,.0f}")

        report = run_publish(the_lake, url, partitions, force=force, on_partition=on_partition)
    published, skipped, failed = (report.count(o) for o in (Outcome.PUBLISHED, Outcome.SKIPPED, Outcome.FAILED))
    ins, upd, dele = (report.total(n) for n in ("inserted", "updated", "deleted"))
    if published == 0 and failed == 0:
        line = f"nothing to publish: {skipped} partition(s) already published, unchanged"
    else:
        line = (
            f"published {published} partition(s) ({report.total('rows'):,} rows: {ins:,} inserted, {upd:,} updated, "
            f"{report.total('unchanged'):,} unchanged, {dele:,} deleted); {skipped} already published; {failed} failed"
        )
    out_console.print(line, highlight=False)
    if failed:
        raise SystemExit(1)

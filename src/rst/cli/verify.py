"""``rst verify``: re-hash every output and raw file; exit 1 when anything does not match."""

from __future__ import annotations

import click
from rich.markup import escape

from rst.cli.options import apply_verbosity, lake_option, layers_for, verbosity_options
from rst.cli.render import err_console, out_console
from rst.framework.lake import Lake
from rst.framework.verify import partition_dirs, verify_lake


@click.command("verify")
@lake_option
@click.option("--layer", type=click.Choice(["bronze", "silver", "gold", "all"]), default="all", show_default=True)
@click.option("--no-raw", is_flag=True, help="Skip re-hashing the raw zone.")
@verbosity_options
def verify(lake: str | None, layer: str, no_raw: bool, verbose: bool, quiet: bool) -> None:
    """Re-hash partitions against their manifests and raw files against the catalogue."""
    apply_verbosity(verbose, quiet)
    the_lake = Lake.resolve(lake)
    layers = layers_for(layer)
    problems = verify_lake(the_lake, layers, raw=not no_raw)
    checked = sum(1 for _ in partition_dirs(the_lake, layers))
    for p in problems:
        err_console.print(f"[red]{p.kind}[/red] {escape(p.path)}: {escape(p.detail)}", highlight=False, soft_wrap=True)
    out_console.print(f"verified {checked} partitions: {len(problems)} problem(s)", highlight=False)
    if problems:
        raise SystemExit(1)

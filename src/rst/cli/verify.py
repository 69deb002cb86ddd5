"""``rst verify``: re-hash every output and raw file; exit 1 when anything does not match.

Parts whose bytes changed are recorded (``<lake>/_verify/``), so ``rst status`` shows their
partitions ``corrupt``, readers refuse them and ``rst run`` rebuilds them; ``--repair``
rebuilds every damaged partition at once and verifies it again.
"""

from __future__ import annotations

import click

from rst.cli.options import apply_verbosity, lake_option, layers_for, verbosity_options
from rst.cli.render import err_console, out_console
from rst.framework.lake import Lake
from rst.framework.verify import Problem, partition_dirs, verify_lake


@click.command("verify")
@lake_option
@click.option("--layer", type=click.Choice(["bronze", "silver", "gold", "all"]), default="all", show_default=True)
@click.option("--no-raw", is_flag=True, help="Skip re-hashing the raw zone.")
@click.option("--repair", "do_repair", is_flag=True, help="Rebuild the damaged partitions now (as `rst run` would).")
@verbosity_options
def verify(lake: str | None, layer: str, no_raw: bool, do_repair: bool, verbose: bool, quiet: bool) -> None:
    """Re-hash partitions against their manifests and raw files against the catalogue."""
    Lake.resolve(lake).refuse_remote("rst verify")
    from rich.markup import escape

    from rst.ops.repair import failed, repair

    apply_verbosity(verbose, quiet)
    the_lake = Lake.open(lake)
    layers = layers_for(layer)
    problems = verify_lake(the_lake, layers, raw=not no_raw)
    checked = sum(1 for _ in partition_dirs(the_lake, layers))
    _print(problems)
    out_console.print(f"verified {checked} partitions: {len(problems)} problem(s)", highlight=False)
    if problems and do_repair:
        result = repair(the_lake, problems)
        for r in failed(result):
            err_console.print(f"[red]rebuild failed[/red] {escape(r.partition.label)}: {escape(r.error or '')}",
                              highlight=False, soft_wrap=True)  # fmt: skip
        _print(result.remaining)
        rebuilt = len(result.results) - len(failed(result))
        problems = result.remaining + result.unrepairable
        out_console.print(f"repaired: {rebuilt} partition(s) rebuilt; {len(problems)} problem(s) left "
                          "(raw files, stray entries and tables no stage builds are not repaired)",
                          highlight=False, soft_wrap=True)  # fmt: skip
    if problems:
        raise SystemExit(1)


def _print(problems: list[Problem]) -> None:
    from rich.markup import escape

    for p in problems:
        err_console.print(f"[red]{p.kind}[/red] {escape(p.path)}: {escape(p.detail)}", highlight=False, soft_wrap=True)

"""``rst import PATH…``: place DBN files into the immutable raw zone (directories are searched recursively)."""

from __future__ import annotations

from pathlib import Path

import click

from rst.cli.options import lake_option
from rst.cli.render import err_console, out_console
from rst.errors import RstError, UsageError
from rst.framework.lake import Lake
from rst.sources.raw_zone import RawZone
from rst.validation import validate_symbol

DBN_SUFFIXES = (".dbn", ".dbn.zst")


def dbn_files(paths: list[Path]) -> list[Path]:
    """The DBN files named by ``paths`` (files as given, directories searched recursively), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.name.endswith(DBN_SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"PATH: {path} does not exist")
    return found


@click.command("import")
@lake_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--symbol", default=None, help="Parent to file them under when their metadata names several, e.g. ES.")
def import_raw(lake: str | None, paths: tuple[Path, ...], symbol: str | None) -> None:
    """Import DBN files into the raw zone: verified, hashed, read-only, never overwritten."""
    zone = RawZone(Lake.resolve(lake).root)
    parent = validate_symbol(symbol, "--symbol") if symbol else None
    failures = 0
    for path in dbn_files(list(paths)):
        try:
            entry = zone.import_file(path, symbol=parent)
        except RstError as exc:
            failures += 1
            err_console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
            continue
        out_console.print(f"{entry.path}  {entry.schema}  sha256={entry.sha256[:12]}…", highlight=False)
    if failures:
        raise SystemExit(1)

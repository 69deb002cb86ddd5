"""``rst import PATH…``: place DBN files into the immutable raw zone (directories are searched recursively)."""

from __future__ import annotations

from pathlib import Path

import click

from rst.cli.options import lake_option
from rst.cli.render import err_console, out_console
from rst.errors import RstError, UsageError
from rst.framework.lake import Lake
from rst.ops.importing import DBN_SUFFIXES, dbn_files_under
from rst.validation import validate_symbol


def dbn_files(paths: list[Path]) -> list[Path]:
    """The DBN files named by ``paths`` (files as given, directories searched recursively), sorted.

    Whatever carries a DBN suffix and is not a directory is returned, FIFOs and sockets
    included, so that the import refuses each by name instead of skipping it silently.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(dbn_files_under(path))
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
    from rich.markup import escape

    from rst.sources.raw_zone import RawZone

    parent = validate_symbol(symbol, "--symbol") if symbol else None
    files = dbn_files(list(paths))
    if not files:
        shown = ", ".join(str(p) for p in paths[:3])
        raise UsageError(f"PATH: nothing to import: no {' or '.join(DBN_SUFFIXES)} file in {shown}")
    the_lake, created = Lake.create(lake)
    if created:
        out_console.print(f"created lake {the_lake.root}", highlight=False)
    zone = RawZone(the_lake.root)
    present = {e.path for e in zone.files()}
    imported = skipped = refused = 0
    with zone.batch():  # catalogue entries written together when the loop ends (fewer fsyncs)
        for path in files:
            try:
                entry = zone.import_file(path, symbol=parent)
            except RstError as exc:
                refused += 1
                err_console.print(f"[red]refused[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
                continue
            if entry.path in present:
                skipped += 1
                out_console.print(f"already present  {entry.path}", highlight=False)
            else:
                imported += 1
                present.add(entry.path)
                out_console.print(f"imported  {entry.path}  {entry.schema}  sha256={entry.sha256[:12]}…", highlight=False)
    line = f"{imported} imported, {skipped} already present, {refused} refused"
    if refused:
        err_console.print(f"error: {line}", highlight=False)
        raise SystemExit(1)
    out_console.print(line, highlight=False)

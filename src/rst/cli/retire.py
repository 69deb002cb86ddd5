"""``rst retire RAWFILE``: move a bad raw file (and its catalogue entry) into ``<lake>/_rejected/``, then replan."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from rst.cli.options import lake_option
from rst.cli.render import out_console
from rst.framework.lake import Lake


@click.command("retire")
@lake_option
@click.argument("rawfile", type=click.Path(path_type=Path))
@click.option("--reason", default="", help="Why the file is retired (kept in _rejected/…/retired.json).")
def retire(lake: str | None, rawfile: Path, reason: str) -> None:
    """Retire RAWFILE: out of the raw zone with its catalogue entry, kept under _rejected/; nothing is deleted."""
    Lake.resolve(lake).refuse_remote("rst retire")
    from rich.markup import escape

    from rst.framework.partition import Granularity
    from rst.ops.retire import retire as retire_file

    the_lake = Lake.resolve(lake)
    result = retire_file(the_lake, rawfile, reason)
    done = result.retired
    what = "file and catalogue entry" if done.entry is not None and done.moved_file else (
        "catalogue entry (the file was already gone)" if done.entry is not None else "uncatalogued file"
    )
    say = out_console.print
    say(f"retired {escape(done.path)} ({what}) -> {escape(the_lake.relative(done.destination))}", highlight=False, soft_wrap=True)
    for s in result.plan:
        say(f"{s.state.value:<8}{escape(s.label)}  ({escape(s.reason)})", highlight=False, soft_wrap=True)
    for p in result.orphaned:
        command = ["rst", "invalidate", "--lake", str(the_lake.root), "--layer", p.layer.value, "--symbol", p.symbol,
                   "--table", p.table]  # fmt: skip
        if p.key.granularity is not Granularity.ALL:
            command += ["--dt", p.key.start.isoformat()]
        say(
            f"kept    {escape(p.label)}: no raw file left to rebuild it from; it keeps its data until "
            f"`{escape(shlex.join(command))}`",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    if result.plan:
        say(f"{len(result.plan)} partition(s) not up to date; `rst run` rebuilds them", highlight=False, markup=False)
    else:
        say("no partition to rebuild", highlight=False)

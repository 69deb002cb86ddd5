"""``rst migrate``: bring a lake of an older layout to the current one."""

from __future__ import annotations

import click

from rst.cli.options import lake_option
from rst.framework.lake import Lake
from rst.framework.layout import LAYOUT_VERSION, migrate


@click.command("migrate")
@lake_option
def migrate_cmd(lake: str | None) -> None:
    """Rename an old-layout lake's `symbol=` directories to `parent=`; derived layers are rebuilt by the next run."""
    Lake.resolve(lake).refuse_remote("rst migrate")
    the_lake = Lake.resolve(lake)
    done = migrate(the_lake)
    if done.from_version == LAYOUT_VERSION:
        click.echo(f"lake {the_lake.root} already has layout {LAYOUT_VERSION}; nothing to do")
        return
    click.echo(
        f"migrated {the_lake.root} from layout {done.from_version} to {LAYOUT_VERSION}: "
        f"{done.raw_dirs_renamed} raw directories renamed, {done.catalogue_entries_rewritten} catalogue entries rewritten"
    )
    if done.derived_moved_aside:
        click.echo(
            f"moved aside {', '.join(done.derived_moved_aside)} (into _trash); rebuild with "
            f"`rst run --layer all --lake {the_lake.root}`"
        )

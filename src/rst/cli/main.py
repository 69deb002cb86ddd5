"""The ``rst`` command group: one module per command, loaded lazily, errors rendered as one line.

Any :class:`rst.errors.RstError` escaping a command becomes ``error: <message>``
on stderr and exit code 1 (2 for usage errors); ``--verbose`` shows the
traceback too. Library code never prints; commands render.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from typing import Any

import click

from rst.errors import RstError, UsageError

COMMANDS: dict[str, str] = {
    "run": "rst.cli.run:run",
    "import": "rst.cli.import_raw:import_raw",
    "demo": "rst.cli.demo:demo",
    "verify": "rst.cli.verify:verify",
    "status": "rst.cli.status:status",
    "invalidate": "rst.cli.invalidate:invalidate",
    "runs": "rst.cli.runs:runs",
    "parents": "rst.cli.parents:parents",
    "series": "rst.cli.series:series",
    "query": "rst.cli.query:query",
    "download": "rst.cli.download:download",
    "update": "rst.cli.update:update",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used; errors become one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # command not shipped yet
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RstError as exc:
            verbose = bool(ctx.meta.get("rst.verbose")) or "--verbose" in sys.argv or "-v" in sys.argv
            if verbose:
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2 if isinstance(exc, UsageError) else 1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Logs and tracebacks.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """rst — a medallion lakehouse for Databento futures data."""
    ctx.meta["rst.verbose"] = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="rst")

"""``python -m rst.runner …`` is ``rst run …``: the medallion runner of SPEC §5."""

from __future__ import annotations

import sys

import click

from rst.cli.main import cli
from rst.cli.main import main as main_entry

PROG = "python -m rst.runner"


class _RunnerContext(click.Context):
    """The ``run`` command's context when started as this module: usage and hints name ``python -m rst.runner``."""

    @property
    def command_path(self) -> str:
        return PROG


def main() -> None:
    """``rst run`` with the group's options, setup and one-line errors, under this module's name."""
    run = cli.get_command(click.Context(cli), "run")
    assert run is not None
    previous, run.context_class = run.context_class, _RunnerContext
    try:
        main_entry(["run", *sys.argv[1:]], prog_name=PROG)
    finally:
        run.context_class = previous


if __name__ == "__main__":
    main()

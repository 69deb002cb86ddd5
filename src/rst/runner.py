"""``python -m rst.runner …`` is ``rst run …``: the medallion runner of SPEC §5."""

from __future__ import annotations

import sys

from rst.cli.main import cli


def main() -> None:
    cli(args=["run", *sys.argv[1:]], prog_name="python -m rst.runner")


if __name__ == "__main__":
    main()

"""``--help`` loads no heavy library: ``rst --help``, every ``rst <cmd> [<sub>] --help`` and ``python -m rst.runner
--help`` stay fast because polars, pyarrow, numpy, databento, rich… load only inside the commands that use them.
(The startup times themselves are measured by ``python -m benchmarks --only startup``, not asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("polars", "pyarrow", "numpy", "pandas", "databento", "fastavro", "rich", "zstandard", "distributed", "dask")

PROBE = """
import contextlib, io, json, sys
import click
from rst.cli.main import cli
from rst import runner

def helps(group, path):
    ctx = click.Context(group, info_name="rst")
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield [*path, name]
        if isinstance(command, click.Group):
            yield from helps(command, [*path, name])

seen = {}
for args in [[], *helps(cli, [])]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.main([*args, "--help"], prog_name="rst", standalone_mode=False)
    seen[" ".join(args)] = out.getvalue().splitlines()[0]
sys.argv = ["rst.runner", "--help"]
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    runner.main()
seen["python -m rst.runner"] = out.getvalue().splitlines()[0]
print(json.dumps({"usage": seen, "heavy": sorted(m for m in HEAVY if m in sys.modules)}))
"""


def test_every_help_imports_no_heavy_library() -> None:
    proc = subprocess.run([sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report["usage"]) > 10, report["usage"]  # the group, every command, subcommands, the runner
    assert report["heavy"] == [], f"--help imported {report['heavy']}"
    assert report["usage"]["python -m rst.runner"] == "Usage: python -m rst.runner [OPTIONS]"
    assert report["usage"]["run"] == "Usage: rst run [OPTIONS]"

"""A newcomer's first hour, played as subprocesses from a fresh directory.

The demo, then the README's "Everyday use" block exactly as printed (on the demo's lake),
then the typos and mistakes a newcomer makes: each must exit non-zero with exactly one line
on stderr (``error: …``) that says what exists or what to do, and no traceback.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
README_LAKE = "/tmp/rst-demo"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RST_", "DATABENTO"))}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", COLUMNS="200")
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


@pytest.fixture(scope="module")
def first_hour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """A fresh working directory and the lake ``rst demo`` made there."""
    cwd = tmp_path_factory.mktemp("newcomer")
    env = _env(cwd)
    lake = cwd / "rst-demo"
    demo = _run(["rst", "demo", "--lake", str(lake), "--parents", "ES,NQ"], cwd, env, timeout=600)
    assert demo.returncode == 0, demo.stderr
    assert f"created lake {lake}" in demo.stdout
    assert "next:" in demo.stdout and "rst query --series es_front_ratio" in demo.stdout
    assert not (lake / "_demo-incoming").exists(), "the demo's temporary inputs are removed"
    yield cwd, lake, env


def _everyday_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Everyday use.*?```bash\n(.*?)```", text, re.S)
    assert block is not None, "README has an Everyday use block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def test_demo_rerun_imports_nothing_new_and_quarantines_nothing(first_hour: tuple[Path, Path, dict[str, str]]) -> None:
    cwd, lake, env = first_hour
    again = _run(["rst", "demo", "--lake", str(lake), "--parents", "ES,NQ"], cwd, env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "nothing new imported" in again.stdout
    assert "created lake" not in again.stdout
    assert not list(lake.glob("silver/**/table=*_quarantine")), "the demo's data quarantines nothing"
    assert not list(lake.glob("bronze/**/table=*_quarantine"))


def test_readme_everyday_use_works_as_printed(first_hour: tuple[Path, Path, dict[str, str]]) -> None:
    cwd, lake, env = first_hour
    env = dict(env)
    lines = _everyday_lines()
    assert lines[0].startswith("export RST_LAKE=") and README_LAKE in lines[0]
    assert len(lines) >= 12
    for line in lines:
        line = line.replace(README_LAKE, str(lake)).replace("config/update.example.toml", str(ROOT / "config/update.example.toml"))
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value
            continue
        args = shlex.split(line)
        if args[0] == "python":
            args[0] = sys.executable
        result = _run(args, cwd, env)
        assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, line
    assert (cwd / "es.csv").read_text().startswith("trading_date,")


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


MISTAKES: list[tuple[str, list[str], str]] = [
    ("missing lake (status)", ["status", "--lake", "{cwd}/no-such-lake"], "no lake at"),
    ("missing lake (verify)", ["verify", "--lake", "{cwd}/no-such-lake"], "no lake at"),
    ("not a lake", ["run", "--lake", "{cwd}"], "is not an rst lake"),
    ("unknown parent", ["run", "--symbol", "EZ", "--lake", "{lake}"], "did you mean ES?"),
    ("unknown table", ["status", "--table", "ohlcv-1x", "--lake", "{lake}"], "did you mean ohlcv_1"),
    ("unknown series", ["query", "--series", "es_front_ratoi", "--lake", "{lake}"], "did you mean es_front_ratio?"),
    ("unknown column", ["query", "--symbol", "ES", "--table", "ohlcv_1d", "--columns", "clsoe", "--lake", "{lake}"],
     "did you mean close?"),
    ("bad date", ["query", "--symbol", "ES", "--table", "ohlcv_1d", "--start", "2024-13-01", "--lake", "{lake}"],
     "--start"),
    ("implausible date", ["run", "--dt", "1900-01-01", "--lake", "{lake}"], "--dt"),
    ("roll offset out of range", ["series", "add", "--id", "x", "--parent", "ES", "--roll-offset-days", "9999",
                                  "--lake", "{lake}"], "roll_offset_days"),
    ("missing output folder", ["query", "--symbol", "ES", "--table", "ohlcv_1d", "--csv", "{cwd}/nowhere/es.csv",
                               "--lake", "{lake}"], "nowhere"),
    ("invalidate everything without --yes", ["invalidate", "--layer", "gold", "--lake", "{lake}"], "--yes"),
    ("empty import folder", ["import", "{cwd}/empty", "--lake", "{lake}"], "nothing to import"),
    ("bad schema before any key check", ["download", "--symbol", "ES", "--schema", "mbp-11", "--start", "2024-01-01",
                                         "--end", "2024-02-01", "--lake", "{lake}"], "did you mean mbp-1?"),
    ("no API key", ["download", "--symbol", "ES", "--schema", "ohlcv_1d", "--start", "2024-01-01", "--end",
                    "2024-02-01", "--estimate", "--lake", "{lake}"], "DATABENTO_API_KEY"),
    ("unknown option", ["status", "--bogus", "--lake", "{lake}"], "--bogus"),
]


@pytest.mark.parametrize(("args", "needle"), [pytest.param(a, n, id=i) for i, a, n in MISTAKES])
def test_mistakes_fail_with_one_line(first_hour: tuple[Path, Path, dict[str, str]], args: list[str], needle: str) -> None:
    cwd, lake, env = first_hour
    (cwd / "empty").mkdir(exist_ok=True)
    line = _one_line_error(_run(["rst", *(a.format(cwd=cwd, lake=lake) for a in args)], cwd, env))
    assert needle in line
    assert not re.search(r"\b[a-z_]+=(True|False|None|')", line), "messages name flags, not Python keywords"


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize(("args", "needle"), [pytest.param(a, n, id=i) for i, a, n in MISTAKES[3:6]])
def test_verbose_anywhere_shows_the_traceback(
    first_hour: tuple[Path, Path, dict[str, str]], args: list[str], needle: str, where: str
) -> None:
    cwd, lake, env = first_hour
    argv = [a.format(cwd=cwd, lake=lake) for a in args]
    argv = ["--verbose", *argv] if where == "before" else [*argv, "--verbose"]
    result = _run(["rst", *argv], cwd, env)
    assert result.returncode != 0
    assert needle in result.stderr and "Traceback" in result.stderr

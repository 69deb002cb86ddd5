"""Fixtures for the operations tests: small synthetic lakes, built once per session and copied per test.

``demo_lake``: ``run_demo`` for ES over two months (raw files split by year), every layer built.
``raw_lake``: ES raw files split by month (Jan-Mar 2024) imported and a series saved, nothing built.
Copies keep mtimes (``copy2``), so the manifests' size+mtime records still hold.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rst.cli.main import cli
from rst.demo import ensure_demo_series, run_demo
from rst.framework.lake import Lake
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dataset

PARENTS = ("ES",)
SCHEMAS = ("definition", "ohlcv-1d", "ohlcv-1h")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = Lake(tmp_path_factory.mktemp("demo") / "lake")
    result = run_demo(lake, parents=PARENTS, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 1))
    assert not [r for r in result.results if r.outcome.value == "failed"]
    shutil.rmtree(lake.internal("demo-incoming"), ignore_errors=True)
    return lake.root


@pytest.fixture(scope="session")
def raw_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("raw")
    lake = Lake(base / "lake")
    paths = write_dataset(base / "incoming", list(PARENTS), list(SCHEMAS), dt.date(2024, 1, 1), dt.date(2024, 4, 1),
                          split="month", seed=11)  # fmt: skip
    zone = RawZone(lake.root)
    for p in paths:
        zone.import_file(p)
    ensure_demo_series(lake, PARENTS)
    return lake.root


def _copy(template: Path, tmp_path: Path) -> Lake:
    dest = tmp_path / "lake"
    shutil.copytree(template, dest, symlinks=True)
    return Lake(dest)


@pytest.fixture
def demo_lake(demo_template: Path, tmp_path: Path) -> Lake:
    return _copy(demo_template, tmp_path)


@pytest.fixture
def raw_lake(raw_template: Path, tmp_path: Path) -> Lake:
    return _copy(raw_template, tmp_path)


@pytest.fixture
def cli_run() -> Callable[..., Result]:
    """``cli_run(lake, "status", "--json")``: invoke the CLI in-process with ``--lake``; returns click's Result."""
    runner = CliRunner()

    def invoke(lake: Lake, command: str, *args: str) -> Result:
        return runner.invoke(cli, [command, "--lake", str(lake.root), *args], catch_exceptions=False)

    return invoke

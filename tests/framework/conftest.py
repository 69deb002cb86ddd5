"""Fixtures for the framework tests: a tmp lake, the toy stage and its tmp contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from toystage import QUARANTINE, SYMBOL, TABLE, ToyStage, install_schemas, write_raw

from rst.framework.contract import SCHEMAS_ENV, load_contract
from rst.framework.lake import Lake, Layer
from rst.framework.partition import Granularity, PartitionKey

HERE = Path(__file__).parent
WORKER = HERE / "toy_worker.py"
DAY = "2024-03-01"
RAW_A = [5, 7, 11, 13, 17, 19]
RAW_B = [2, 4, -6, 8, 10]  # one negative value: one quarantined row


@pytest.fixture
def schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy contracts in a tmp schemas dir, selected with ``$RST_SCHEMAS``."""
    root = install_schemas(tmp_path / "schemas")
    monkeypatch.setenv(SCHEMAS_ENV, str(root))
    load_contract.cache_clear()
    yield root
    load_contract.cache_clear()


@pytest.fixture
def lake(tmp_path: Path, schemas: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def key() -> PartitionKey:
    return PartitionKey(Granularity.DAY, DAY)


@pytest.fixture
def raw(lake: Lake, key: PartitionKey) -> list[Path]:
    """Two raw input files for ``key``; one holds a negative value (quarantined)."""
    return [write_raw(lake, key, "a.txt", RAW_A), write_raw(lake, key, "b.txt", RAW_B)]


@pytest.fixture
def make_stage(lake: Lake) -> Callable[..., ToyStage]:
    """``make_stage(params=None, cls=ToyStage)``: a toy stage on the tmp lake."""

    def make(params: dict[str, Any] | None = None, cls: type[ToyStage] = ToyStage) -> ToyStage:
        return cls(lake, SYMBOL, params or {})

    return make


@pytest.fixture
def stage(make_stage: Callable[..., ToyStage], raw: list[Path]) -> ToyStage:
    return make_stage()


@pytest.fixture
def table_dir(lake: Lake) -> Path:
    return lake.table_dir(Layer.BRONZE, SYMBOL, TABLE)


@pytest.fixture
def quarantine_dir(lake: Lake) -> Path:
    return lake.table_dir(Layer.BRONZE, SYMBOL, QUARANTINE)


@pytest.fixture
def part_dir(table_dir: Path, key: PartitionKey) -> Path:
    return table_dir / key.dirname


@pytest.fixture
def run_worker(lake: Lake, schemas: Path) -> Callable[..., subprocess.Popen[bytes]]:
    """``run_worker(args, env=None)``: start ``toy_worker.py`` on the tmp lake; returns the Popen."""

    def start(args: dict[str, Any], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        full = {"lake": str(lake.root), "key": DAY, **args}
        environ = {**os.environ, SCHEMAS_ENV: str(schemas), **(env or {})}
        return subprocess.Popen([sys.executable, str(WORKER), json.dumps(full)], env=environ)

    return start

"""Fixtures for stage tests: a fresh lake, and a helper that imports files and runs layers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_tasks
from rst.framework.stage import PartitionResult
from rst.sources.raw_zone import RawZone
from rst.stages.registry import plan


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


RunLayers = Callable[..., list[PartitionResult]]


@pytest.fixture
def run_layers() -> RunLayers:
    """``run_layers(lake, [Layer.BRONZE], ["ES"], dates=None, force=False)`` → results (inline, one worker)."""

    def run(
        lake: Lake,
        layers: Sequence[Layer],
        symbols: Sequence[str],
        dates: Sequence | None = None,
        force: bool = False,
    ) -> list[PartitionResult]:
        return run_tasks(plan(lake, list(layers), list(symbols), dates, force=force))

    return run


@pytest.fixture
def import_files() -> Callable[[Lake, Sequence[Path]], list]:
    """Import raw files into a lake's raw zone; returns the catalogue entries."""

    def do(lake: Lake, paths: Sequence[Path]) -> list:
        zone = RawZone(lake.root)
        return [zone.import_file(p) for p in paths]

    return do

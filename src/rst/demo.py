"""The demo pipeline: synthetic raw data for a few parents, imported and run through every layer.

Used by ``rst demo`` and by the end-to-end tests, so that what the README's
first command shows is exactly what the suite checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_waves
from rst.framework.stage import PartitionResult
from rst.sources.raw_zone import RawFile, RawZone
from rst.sources.synthetic import write_dataset
from rst.stages.registry import plan

DEMO_PARENTS = ("ES", "NQ", "CL", "GC")
DEMO_SCHEMAS = ("definition", "ohlcv-1d", "ohlcv-1h")


@dataclass
class DemoResult:
    """What the demo wrote: the imported raw files and every partition result."""

    lake: Lake
    raw_files: list[RawFile]
    results: list[PartitionResult]


def generate_raw(
    directory: Path,
    parents: tuple[str, ...] = DEMO_PARENTS,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2025, 1, 1),
    seed: int = 7,
) -> list[Path]:
    """Write synthetic GLBX DBN files (one per schema, parent and year) into ``directory``."""
    return write_dataset(directory, list(parents), list(DEMO_SCHEMAS), start, end, split="year", seed=seed)


def run_demo(
    lake: Lake,
    *,
    parents: tuple[str, ...] = DEMO_PARENTS,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2025, 1, 1),
    workers: int = 1,
    layers: tuple[Layer, ...] = tuple(Layer),
) -> DemoResult:
    """Generate, import and run the demo into ``lake`` (idempotent: a rerun skips what is done)."""
    incoming = lake.internal("demo-incoming")
    paths = generate_raw(incoming, parents, start, end)
    zone = RawZone(lake.root)
    raw_files = [zone.import_file(p) for p in paths]
    ensure_demo_series(lake, parents)
    results = run_waves(plan(lake, list(layers), list(parents), None), workers=workers)
    return DemoResult(lake, raw_files, results)


def ensure_demo_series(lake: Lake, parents: tuple[str, ...]) -> None:
    """Save one back-adjusted front-month series per parent, unless already defined."""
    try:
        from rst.series import Adjustment, RollRule, SeriesDefinition, SeriesStore
    except ImportError:  # the series engine is optional for a bronze-only demo
        return
    store = SeriesStore(lake.root)
    existing = {d.series_id for d in store.list()}
    for parent in parents:
        series_id = f"{parent.lower()}_front_ratio"
        if series_id in existing:
            continue
        store.add(
            SeriesDefinition(
                series_id=series_id,
                parent=parent,
                roll_rule=RollRule.DAYS_BEFORE_EXPIRY,
                roll_offset_days=5,
                adjustment=Adjustment.BACKWARD_RATIO,
                contract_rank=0,
            )
        )

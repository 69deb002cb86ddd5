"""The demo pipeline: synthetic raw data for a few parents, imported and run through every layer.

Used by ``rst demo`` and by the end-to-end tests, so that what the README's
first command shows is exactly what the suite checks.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rst.framework.lake import Lake, Layer
from rst.framework.stage import PartitionResult
from rst.ops.pipeline import run_pipeline
from rst.sources.raw_zone import RawFile, RawZone
from rst.sources.synthetic import write_dataset

DEMO_PARENTS = ("ES", "NQ", "CL", "GC")
DEMO_SCHEMAS = ("definition", "ohlcv-1d", "ohlcv-1h")


DEFINITIONS_LEAD = dt.timedelta(days=31)
"""Definitions start this long before the bars, so every bar has a definition as of its time and a
demo lake quarantines nothing (a quarantined row in a user's lake then means something)."""


@dataclass
class DemoResult:
    """What the demo wrote: the imported raw files (``new_files`` of them new) and every partition result."""

    lake: Lake
    raw_files: list[RawFile]
    results: list[PartitionResult]
    new_files: int = 0


def generate_raw(
    directory: Path,
    parents: tuple[str, ...] = DEMO_PARENTS,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2025, 1, 1),
    seed: int = 7,
) -> list[Path]:
    """Write synthetic GLBX DBN files (one per schema, parent and year) into ``directory``.

    Definitions start :data:`DEFINITIONS_LEAD` before ``start``, as a real download would.
    """
    bars = [s for s in DEMO_SCHEMAS if s != "definition"]
    paths = write_dataset(directory, list(parents), ["definition"], start - DEFINITIONS_LEAD, end, split="year", seed=seed)
    return paths + write_dataset(directory, list(parents), bars, start, end, split="year", seed=seed)


def run_demo(
    lake: Lake,
    *,
    parents: tuple[str, ...] = DEMO_PARENTS,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2025, 1, 1),
    workers: int = 1,
    layers: tuple[Layer, ...] = tuple(Layer),
    on_step: Callable[[str], None] | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
) -> DemoResult:
    """Generate, import and run the demo into ``lake`` (idempotent: a rerun imports and builds nothing new).

    ``on_step`` hears one line per step, ``on_result`` each partition's result (for progress).
    The generated files are removed once imported (the raw zone keeps its own copies).
    """
    step = on_step or (lambda _: None)
    incoming = lake.internal("demo-incoming")
    step(f"generating synthetic DBN files for {', '.join(parents)} ({start} .. {end})")
    try:
        paths = generate_raw(incoming, parents, start, end)
        zone = RawZone(lake.root)
        before = {f.sha256 for f in zone.files()}
        step(f"importing {len(paths)} files into {lake.relative(lake.raw)}/")
        raw_files = [zone.import_file(p) for p in paths]
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    ensure_demo_series(lake, parents)
    if lake.remote is not None:  # the series definitions travel with the lake
        from rst.framework.objectlake import publish_documents

        publish_documents(lake)
    step(f"running {' -> '.join(layer.value for layer in layers)}")
    results = run_pipeline(lake, parents, layers=layers, workers=workers, on_result=on_result)
    new = sum(f.sha256 not in before for f in raw_files)
    return DemoResult(lake, raw_files, results, new_files=new)


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

"""A small synthetic lake shared by the silver, gold, parents and CLI tests (built once per test process).

ES over 2023 (definitions, daily and hourly bars) through import → bronze → silver → gold,
with one planted definition change: ESU3 is re-published on 2023-06-01 with a tick size of 0.50
(instead of 0.25) until its next monthly re-publication (2023-07-03). The data starts on
2023-01-01, so the Sunday-evening hourly bars of 2023-01-01 precede every definition and are
quarantined by silver.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome, PartitionResult
from rst.series import SeriesDefinition, SeriesStore
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic.dbn_writer import write_dbn
from rst.sources.synthetic.generate import generate
from rst.sources.synthetic.layout import write_dataset
from rst.stages.registry import plan

PARENT = "ES"
START, END = "2023-01-01", "2024-01-01"
SCHEMAS = ["definition", "ohlcv-1d", "ohlcv-1h"]
CHANGED_ID = 1_202_309  # ESU3
CHANGED_FROM = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
CHANGED_UNTIL = dt.datetime(2023, 7, 3, tzinfo=dt.UTC)  # next monthly re-publication
CHANGED_TICK = 500_000_000
NORMAL_TICK = 250_000_000
SERIES = [
    SeriesDefinition("es_add", PARENT, "days_before_expiry", 5, "backward_additive"),
    SeriesDefinition("es_ratio", PARENT, "volume_crossover", 0, "backward_ratio"),
    SeriesDefinition("es_none", PARENT, "days_before_expiry", 5, "none"),
]

_CACHE: dict[str, Lake] = {}


def run(lake: Lake, layers: list[Layer], force: bool = False) -> list[PartitionResult]:
    """Run ``layers`` for ES inline; fail the test on any failed partition."""
    results = run_tasks(plan(lake, layers, [PARENT], None, force=force))
    failed = [f"{r.partition.label}: {r.error}" for r in results if r.outcome is Outcome.FAILED]
    if failed:
        pytest.fail("\n".join(failed))
    return results


def plant_definition_change(raw_dir: Path) -> None:
    """Rewrite the June definition file: ESU3's 2023-06-01 re-publication gets tick 0.50."""
    path = raw_dir / "glbx-mdp3-ES-definition-20230601-20230630.dbn.zst"
    assert path.exists(), sorted(p.name for p in raw_dir.iterdir())
    data = generate("definition", PARENT, "2023-06-01", "2023-07-01")
    records = data.records.copy()
    ts = int(CHANGED_FROM.timestamp()) * 10**9
    hit = (records["instrument_id"] == CHANGED_ID) & (records["ts_event"] == ts)
    assert hit.sum() == 1
    records["min_price_increment"][hit] = CHANGED_TICK
    write_dbn(path, data.metadata, records)


def write_raw(directory: Path, start: str = START, end: str = END, schemas: list[str] = SCHEMAS) -> list[Path]:
    """Synthetic ES files of ``schemas`` over ``[start, end)``, one per month."""
    return write_dataset(directory, [PARENT], schemas, start, end, split="month")


def build_lake(root: Path) -> Lake:
    raw_dir = root / "downloads"
    paths = write_raw(raw_dir)
    plant_definition_change(raw_dir)
    lake = Lake(root / "lake")
    zone = RawZone(lake.root)
    for path in paths:
        zone.import_file(path)
    store = SeriesStore(lake.root)
    for defn in SERIES:
        store.add(defn)
    run(lake, [Layer.BRONZE, Layer.SILVER, Layer.GOLD])
    return lake


def shared_lake(factory: pytest.TempPathFactory) -> Lake:
    """The shared lake (built on first use in this process; treat it as read-only)."""
    if "lake" not in _CACHE:
        _CACHE["lake"] = build_lake(factory.mktemp("synthetic_lake"))
    return _CACHE["lake"]

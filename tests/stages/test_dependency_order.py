"""Readers after what they read, whatever the workers: the front-month race.

An intraday bronze table kept to the front month ranks contracts by the *bronze daily bars*
of the days before. With a layer-wave runner and two workers, both tasks started together
and the intraday partition was built without the bars it reads (front month by expiry
instead of by volume): its result depended on scheduling. The task graph orders it after
the daily-bars partition; ``invalidate --downstream`` follows the same edge.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from intraday_dbn import NS, book, daily_bars, es_definitions, local_ns, write

from rst.framework.graph import TaskGraph
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome
from rst.ops.invalidate import select
from rst.sources.raw_zone import RawZone
from rst.stages.bronze.bars import OhlcvStage
from rst.stages.registry import plan

DAY = dt.date(2021, 1, 5)  # a Tuesday
MBP = Partition(Layer.BRONZE, "ES", "mbp_10", PartitionKey(Granularity.DAY, DAY.isoformat()))
DAILY = Partition(Layer.BRONZE, "ES", "ohlcv_1d", PartitionKey(Granularity.YEAR, "2021"))


def _at(hh: int) -> int:
    return local_ns(DAY, hh, 0, 0, zone="America/Chicago")


@pytest.fixture
def front_month_lake(lake: Lake, tmp_path: Path) -> Lake:
    """ES definitions, one day of MBP-10 of two contracts, and daily bars saying the second traded most."""
    lake.internal("config").mkdir(parents=True, exist_ok=True)
    (lake.internal("config") / "bronze.toml").write_text("[mbp_10]\nfront_month_only = true\n")
    zone = RawZone(lake.root)
    zone.import_file(es_definitions(tmp_path / "in" / "defs.dbn.zst", DAY))
    ids = np.array([5482, 5483, 5483, 5482], dtype=np.uint32)
    mbp = book("mbp-10", [_at(10) + i for i in range(len(ids))], ids)
    zone.import_file(write(tmp_path / "in" / "b.dbn.zst", "mbp-10", mbp, _at(9), _at(11)), symbol="ES")
    prev = dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(), dt.UTC)
    bars = daily_bars([
        {"ts_event": int(prev.timestamp()) * NS, "instrument_id": 5482, "volume": 100},
        {"ts_event": int(prev.timestamp()) * NS, "instrument_id": 5483, "volume": 900},
    ])  # fmt: skip
    start = int(prev.timestamp()) * NS
    zone.import_file(write(tmp_path / "in" / "d.dbn.zst", "ohlcv-1d", bars, start, start + 86_400 * NS), symbol="ES")
    return lake


def _front_month(lake: Lake) -> tuple[list[int], dict[str, int]]:
    directory = MBP.path(lake)
    manifest = read_manifest(directory)
    assert manifest is not None
    return pl.read_parquet(directory / "*.parquet")["instrument_id"].to_list(), manifest.counts


def test_the_front_month_table_waits_for_the_daily_bars_it_reads(front_month_lake: Lake) -> None:
    graph = TaskGraph()
    graph.add(plan(front_month_lake, [Layer.BRONZE], ["ES"], [DAY]))
    assert DAILY in graph.deps[MBP]  # planned, not yet built: still an edge
    assert MBP in graph.downstream(DAILY)


def test_two_workers_build_the_front_month_from_the_daily_bars(
    front_month_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = OhlcvStage.transform

    def slowly(self, ctx):  # type: ignore[no-untyped-def]
        time.sleep(0.5)  # the daily bars take a while: a reader dispatched alongside would miss them
        yield from slow(self, ctx)

    monkeypatch.setattr(OhlcvStage, "transform", slowly)
    with ThreadPoolExecutor(2) as two_workers:
        results = run_tasks(plan(front_month_lake, [Layer.BRONZE], ["ES"], [DAY]), executor=two_workers)
    assert not [r.error for r in results if r.outcome is Outcome.FAILED]
    order = [r.partition for r in results]
    assert order.index(DAILY) < order.index(MBP)
    ids, counts = _front_month(front_month_lake)
    assert counts.get("front_month_by_volume") == 1 and counts["front_month_instrument_id"] == 5483
    assert ids == [5483, 5483]


def test_process_pool_gives_the_same_front_month(front_month_lake: Lake) -> None:
    results = run_tasks(plan(front_month_lake, [Layer.BRONZE], ["ES"], [DAY]), workers=2)
    assert not [r.error for r in results if r.outcome is Outcome.FAILED]
    assert _front_month(front_month_lake)[0] == [5483, 5483]


def test_invalidate_downstream_takes_the_same_layer_reader(front_month_lake: Lake) -> None:
    run_tasks(plan(front_month_lake, [Layer.BRONZE], ["ES"], [DAY]))
    targets = select(front_month_lake, [Layer.BRONZE], ["ES"], tables=["ohlcv_1d"], downstream=True)
    by = {t.partition: t.because for t in targets}
    assert DAILY in by and by[MBP] == DAILY.label


def test_status_says_a_reader_built_before_its_input_will_be_rebuilt(front_month_lake: Lake) -> None:
    from rst.ops.status import lake_status

    run_tasks(plan(front_month_lake, [Layer.BRONZE], ["ES"], [DAY], tables=["mbp_10", "definition"]))
    assert _front_month(front_month_lake)[1].get("front_month_by_expiry") == 1  # no daily bars yet
    states = {p.partition: p for p in lake_status(front_month_lake, [Layer.BRONZE], ["ES"]).partitions}
    assert states[DAILY].state.value == "missing"
    assert states[MBP].state.value == "stale" and states[MBP].reason == f"upstream {DAILY.label} is missing"
    results = run_tasks(plan(front_month_lake, [Layer.BRONZE], ["ES"], [DAY]))
    assert {r.partition: r.outcome for r in results}[MBP] is Outcome.BUILT  # as status said
    assert _front_month(front_month_lake)[0] == [5483, 5483]

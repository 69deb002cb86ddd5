"""MBO through bronze and silver: real samples equal DBNStore's, Databento's MBO semantics in the quarantine rules,
and ``rst status`` reports the mbo partitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from intraday_dbn import MID, TICK, UNDEF_PRICE, empty, es_definitions, local_ns, write
from samples import DEFINITION, reference
from samples import read_table as read

from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome, PartitionState
from rst.ops.status import lake_status
from rst.sources.raw_zone import RawZone
from rst.stages.registry import plan

SAMPLES = ["dbn/test_data.mbo.dbn", "dbn/test_data.mbo.v3.dbn", "dbn/test_data.mbo.v3.dbn.zst",
           "databento-python/GLBX.MDP3/test_data.mbo.dbn.zst"]  # fmt: skip
ACTION = {"A": "add", "C": "cancel", "M": "modify", "R": "clear", "T": "trade", "F": "fill", "N": "none"}
SIDE = {"A": "ask", "B": "bid", "N": "none"}
FLAGS = {"is_last": 128, "is_top_of_book": 64, "is_snapshot": 32, "is_mbp": 16, "is_bad_ts_recv": 8,
         "is_maybe_bad_book": 4}  # fmt: skip
DAY = dt.date(2021, 1, 5)  # a Tuesday


@pytest.mark.parametrize("relative", SAMPLES)
def test_mbo_sample_equals_databento(
    sample_file: Callable[[str], Path], lake: Lake, import_files, run_layers, relative: str
) -> None:
    path = sample_file(relative)
    _, entry = import_files(lake, [sample_file(DEFINITION), path])
    results = run_layers(lake, [Layer.BRONZE, Layer.SILVER], ["ES"])
    assert all(r.outcome is not Outcome.FAILED for r in results), [r.error for r in results]

    got = read(lake, Layer.BRONZE, "mbo")
    want = reference(path)
    assert got.height == want.height > 0
    for col in ("ts_recv", "ts_event"):
        assert got[col].dt.epoch("ns").to_list() == want[col].cast(pl.Int64).to_list(), col
    for col in ("rtype", "publisher_id", "instrument_id", "price", "size", "channel_id", "order_id", "flags",
                "ts_in_delta", "sequence"):  # fmt: skip
        assert got[col].to_list() == want[col].to_list(), col
    assert got["price"].dtype == pl.Int64
    assert got["symbol"].cast(pl.String).to_list() == want["symbol"].to_list() == ["ESH1"] * want.height
    assert got["action"].cast(pl.String).to_list() == [ACTION[a] for a in want["action"]]
    assert got["side"].cast(pl.String).to_list() == [SIDE[s] for s in want["side"]]
    for name, bit in FLAGS.items():
        assert got[name].to_list() == [(f & bit) != 0 for f in want["flags"]], name
    assert set(got["source_file"].cast(pl.String)) == {entry.path}

    silver = read(lake, Layer.SILVER, "mbo")
    assert silver.height == got.height
    assert silver["order_id"].to_list() == got["order_id"].to_list()
    assert silver["trading_date"].cast(pl.String).to_list() == ["2020-12-28"] * got.height
    statuses = lake_status(lake, [Layer.BRONZE, Layer.SILVER], ["ES"]).partitions
    mbo = [s for s in statuses if s.partition.table == "mbo"]
    assert {s.partition.layer for s in mbo} == {Layer.BRONZE, Layer.SILVER}
    assert all(s.state is PartitionState.DONE for s in mbo), [(s.label, s.reason) for s in mbo]


def _events(rows: list[tuple[bytes, bytes, int, int, int]], instrument: list[int] | None = None) -> np.ndarray:
    """MBO records from (action, side, price, size, flags), one microsecond apart at 10:00 Chicago on DAY."""
    rec = empty("mbo", len(rows))
    ts = local_ns(DAY, 10, 0, zone="America/Chicago") + np.arange(len(rows), dtype=np.int64) * 1_000
    rec["ts_recv"], rec["ts_event"] = ts, ts - 500
    rec["instrument_id"] = instrument or 5482
    rec["order_id"] = np.arange(len(rows)) + 1_000
    rec["channel_id"] = 3
    rec["sequence"] = np.arange(len(rows)) + 1
    for i, (action, side, price, size, flags) in enumerate(rows):
        rec["action"][i], rec["side"][i], rec["price"][i], rec["size"][i], rec["flags"][i] = (
            action, side, price, size, flags
        )
    return rec


def test_mbo_quarantine_follows_databento_semantics(lake: Lake, tmp_path: Path) -> None:
    kept = [
        (b"A", b"B", MID - TICK, 5, 128),  # an add
        (b"R", b"N", UNDEF_PRICE, 0, 128 | 32 | 8),  # a snapshot's clear: no side, no price, size 0
        (b"A", b"A", UNDEF_PRICE, 0, 128 | 64),  # top-of-book add: the ask side is now empty
        (b"C", b"B", MID - TICK, 0, 128),  # a cancel as the venue sent it (rst does not replay the book)
        (b"T", b"A", MID, 2, 0),
        (b"F", b"B", MID - TICK, 2, 128),
        (b"N", b"N", UNDEF_PRICE, 0, 128),
    ]
    bad = [
        ((b"A", b"B", UNDEF_PRICE, 5, 128), "undefined price on an add or modify"),
        ((b"M", b"A", UNDEF_PRICE, 5, 128), "undefined price on an add or modify"),
        ((b"A", b"B", MID, 0, 128), "size 0 on an add or modify"),
        ((b"M", b"B", MID, 0, 128), "size 0 on an add or modify"),
        ((b"F", b"B", UNDEF_PRICE, 1, 128), "undefined trade price"),
        ((b"T", b"A", MID, 0, 128), "non-positive trade size"),
        ((b"X", b"A", MID, 1, 128), "unknown action character"),
        ((b"A", b"Q", MID, 1, 128), "unknown side character"),
    ]
    unknown = (b"A", b"B", MID, 1, 128)
    spread = (b"A", b"B", TICK, 1, 128)
    rows = [*kept, *(r for r, _ in bad), unknown, spread]
    rec = _events(rows, instrument=[5482] * (len(kept) + len(bad)) + [77_777, 9001])
    start = local_ns(DAY, 9, 0, zone="America/Chicago")
    zone = RawZone(lake.root)
    zone.import_file(es_definitions(tmp_path / "in" / "defs.dbn.zst", DAY))
    zone.import_file(write(tmp_path / "in" / "mbo.dbn.zst", "mbo", rec, start, start + 3600 * 10**9), symbol="ES")
    results = run_tasks(plan(lake, [Layer.BRONZE], ["ES"], [DAY]))
    assert [r.outcome for r in results if r.partition.table == "mbo"] == [Outcome.BUILT]

    part = lake.table_dir(Layer.BRONZE, "ES", "mbo") / f"dt={DAY}"
    good = pl.read_parquet(part / "*.parquet")
    assert good["order_id"].to_list() == [1_000 + i for i in range(len(kept))]
    assert good["action"].cast(pl.String).to_list() == ["add", "clear", "add", "cancel", "trade", "fill", "none"]
    assert good["price"].to_list() == [None if p == UNDEF_PRICE else p for _, _, p, _, _ in kept]
    assert good["channel_id"].to_list() == [3] * len(kept)
    assert good["is_snapshot"].to_list() == [False, True, False, False, False, False, False]
    quarantined = pl.read_parquet(lake.table_dir(Layer.BRONZE, "ES", "mbo_quarantine") / f"dt={DAY}" / "*.parquet")
    reasons = dict(zip(quarantined["order_id"].to_list(), quarantined["reason"].to_list(), strict=True))
    first_bad = 1_000 + len(kept)
    assert [reasons[first_bad + i] for i in range(len(bad))] == [why for _, why in bad]
    assert reasons[first_bad + len(bad)].startswith("unknown instrument")
    manifest = read_manifest(part)
    assert manifest is not None
    assert (manifest.rows_in, manifest.rows_out, manifest.rows_quarantined) == (len(rows), len(kept), len(bad) + 1)
    assert manifest.counts["spreads_filtered"] == 1

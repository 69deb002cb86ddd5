"""Intraday bronze on hand-made DBN files: flag bits, action/side words, quarantine rules, overlap policy,
front-month selection, streaming in bounded batches, and the trading-date window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from intraday_dbn import MID, NS, TICK, book, daily_bars, es_definitions, local_ns, trades, write

from rst.errors import ConfigError
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.partition import PartitionKey
from rst.framework.sessions import trading_date_expr
from rst.framework.stage import Outcome, StageContext
from rst.sources.raw_zone import RawZone
from rst.stages.bronze import BRONZE_STAGES, Mbp10Stage, bronze_stages, intraday
from rst.stages.bronze.config import stage_params
from rst.stages.registry import plan

DAY = dt.date(2021, 1, 5)  # a Tuesday
KEY = PartitionKey.parse(f"dt={DAY}")


def at(hh: int, mm: int, ss: int = 0, day: dt.date = DAY) -> int:
    return local_ns(day, hh, mm, ss, zone="America/Chicago")


def window(hours: tuple[int, int], day: dt.date = DAY) -> tuple[int, int]:
    return at(hours[0], 0, day=day), at(hours[1], 0, day=day)


def build(lake: Lake, tmp: Path, files: dict[str, tuple[str, np.ndarray, tuple[int, int]]], **kw) -> None:
    """Import the ES definitions and ``files`` (name -> (schema, records, window)), run bronze."""
    zone = RawZone(lake.root)
    zone.import_file(es_definitions(tmp / "in" / "defs.dbn.zst", DAY))
    for name, (schema, rec, (start, end)) in files.items():
        zone.import_file(write(tmp / "in" / name, schema, rec, start, end, **kw.get(name, {})), symbol="ES")
    from rst.framework.runner import run_tasks

    results = run_tasks(plan(lake, [Layer.BRONZE], ["ES"], [DAY]))
    assert all(r.outcome is not Outcome.FAILED for r in results), [r.error for r in results]


def table(lake: Lake, name: str) -> pl.DataFrame:
    return pl.read_parquet(lake.table_dir(Layer.BRONZE, "ES", name) / f"dt={DAY}" / "*.parquet")


def counts(lake: Lake, name: str) -> dict[str, int]:
    manifest = read_manifest(lake.table_dir(Layer.BRONZE, "ES", name) / f"dt={DAY}")
    assert manifest is not None
    return {"rows_in": manifest.rows_in, "rows_out": manifest.rows_out, "quarantined": manifest.rows_quarantined,
            **manifest.counts}  # fmt: skip


def test_flag_bits_become_named_booleans(lake: Lake, tmp_path: Path) -> None:
    flags = [0, 128, 64, 32, 16, 8, 4, 2, 1, 255, 130]
    rec = trades([at(10, 0) + i for i in range(len(flags))])
    rec["flags"] = flags
    build(lake, tmp_path, {"t.dbn.zst": ("trades", rec, window((9, 11)))})
    got = table(lake, "trades")
    assert got["flags"].to_list() == flags
    for name, bit in [("is_last", 128), ("is_top_of_book", 64), ("is_snapshot", 32), ("is_mbp", 16),
                      ("is_bad_ts_recv", 8), ("is_maybe_bad_book", 4)]:  # fmt: skip
        assert got[name].to_list() == [bool(f & bit) for f in flags], name
    assert got.filter(pl.col("flags") == 130)["is_last"].to_list() == [True]
    assert got.filter(pl.col("flags") == 130)["is_top_of_book"].to_list() == [False]


def test_action_and_side_words(lake: Lake, tmp_path: Path) -> None:
    actions = [b"A", b"C", b"M", b"R", b"T", b"F", b"N", b"X"]
    sides = [b"B", b"A", b"N", b"N", b"A", b"B", b"N", b"B"]
    rec = book("mbp-1", [at(10, 0) + i for i in range(len(actions))])
    rec["action"], rec["side"] = actions, sides
    build(lake, tmp_path, {"b.dbn.zst": ("mbp-1", rec, window((9, 11)))})
    got = table(lake, "mbp_1")
    assert got["action"].cast(pl.String).to_list() == ["add", "cancel", "modify", "clear", "trade", "fill", "none"]
    assert got["side"].cast(pl.String).to_list() == ["bid", "ask", "none", "none", "ask", "bid", "none"]
    bad = table(lake, "mbp_1_quarantine")
    assert bad["reason"].to_list() == ["unknown action character"]
    assert bad["action"].to_list() == [None]


def test_book_validation_spreads_and_row_accounting(lake: Lake, tmp_path: Path) -> None:
    rec = book("mbp-10", [at(10, 0) + i for i in range(8)])
    rec["bid_px_00"][1] = MID + 2 * TICK  # crossed: bid above ask
    rec["bid_px_00"][2] = MID + 2 * TICK  # crossed but a snapshot: kept
    rec["flags"][2] = 32
    rec["bid_px_00"][3] = np.iinfo(np.int64).max  # empty bid side: not crossed
    rec["action"][4], rec["size"][4] = b"T", 0  # trade of size 0
    rec["action"][5], rec["price"][5] = b"T", np.iinfo(np.int64).max  # trade without price
    rec["instrument_id"][6] = 9001  # spread ESH1-ESM1
    rec["instrument_id"][7] = 7777  # no definition, no mapping
    build(lake, tmp_path, {"b.dbn.zst": ("mbp-10", rec, window((9, 11)))})
    got = table(lake, "mbp_10")
    assert got["sequence"].to_list() == [1, 3, 4]
    assert got["bid_px_00"].to_list()[2] is None
    assert got["is_snapshot"].to_list() == [False, True, False]
    bad = table(lake, "mbp_10_quarantine").sort("sequence")
    assert bad["reason"].to_list() == [
        "crossed top of book: bid_px_00 > ask_px_00 (not a snapshot)",
        "non-positive trade size",
        "undefined trade price",
        "unknown instrument: no definition and no symbol mapping (cannot tell outright from spread)",
    ]
    c = counts(lake, "mbp_10")
    assert c["spreads_filtered"] == 1
    assert c["rows_in"] == 8 == c["rows_out"] + c["quarantined"] + c["spreads_filtered"]


def test_overlapping_files_of_one_request_keep_each_instant_once(lake: Lake, tmp_path: Path) -> None:
    first = trades([at(9, 30), at(10, 30), at(11, 30)])
    second = trades([at(10, 30), at(11, 30), at(12, 30)])  # a re-download overlapping the first
    other = trades([at(10, 30)], instrument_id=5483)  # another request (ESM1 by raw symbol): not a duplicate
    raw = {"symbols": ["ESM1"], "stype_in": __import__("databento_dbn").SType.RAW_SYMBOL}
    build(
        lake,
        tmp_path,
        {
            "a.dbn.zst": ("trades", first, window((9, 12))),
            "b.dbn.zst": ("trades", second, window((10, 13))),
            "c.dbn.zst": ("trades", other, window((10, 11))),
        },
        **{"c.dbn.zst": raw},
    )
    got = table(lake, "trades").sort("ts_recv", "instrument_id")
    ts = got.filter(pl.col("instrument_id") == 5482)["ts_recv"].dt.epoch("ns").to_list()
    assert ts == [at(9, 30), at(10, 30), at(11, 30), at(12, 30)]
    assert got.filter(pl.col("instrument_id") == 5483).height == 1
    sources = got.filter(pl.col("instrument_id") == 5482)["source_file"].cast(pl.String).str.split("/").list.last()
    assert sources.to_list() == ["a.dbn.zst", "a.dbn.zst", "a.dbn.zst", "b.dbn.zst"]
    assert counts(lake, "trades")["overlap_dropped"] == 2


def _front_month_lake(lake: Lake, tmp_path: Path, with_daily: bool) -> None:
    lake.internal("config").mkdir(parents=True, exist_ok=True)
    (lake.internal("config") / "bronze.toml").write_text("[mbp_10]\nfront_month_only = true\n")
    ids = np.array([5482, 5483, 5483, 9001, 5482], dtype=np.uint32)
    rec = book("mbp-10", [at(10, 0) + i for i in range(len(ids))], ids)
    files = {"b.dbn.zst": ("mbp-10", rec, window((9, 11)))}
    if with_daily:
        prev = dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(), dt.UTC)
        older = prev - dt.timedelta(days=1)
        bars = daily_bars([
            {"ts_event": int(prev.timestamp()) * NS, "instrument_id": 5482, "volume": 100},
            {"ts_event": int(prev.timestamp()) * NS, "instrument_id": 5483, "volume": 900},
            {"ts_event": int(older.timestamp()) * NS, "instrument_id": 5482, "volume": 5000},
        ])  # fmt: skip
        start = int(older.timestamp()) * NS
        files = {"d.dbn.zst": ("ohlcv-1d", bars, (start, start + 2 * 86_400 * NS)), **files}
    build(lake, tmp_path, files)


def test_front_month_by_nearest_expiry_without_daily_bars(lake: Lake, tmp_path: Path) -> None:
    _front_month_lake(lake, tmp_path, with_daily=False)
    assert table(lake, "mbp_10")["instrument_id"].to_list() == [5482, 5482]
    c = counts(lake, "mbp_10")
    assert c["front_month_instrument_id"] == 5482 and c["front_month_by_expiry"] == 1
    assert c["front_month_filtered"] == 2 and c["spreads_filtered"] == 1
    manifest = read_manifest(lake.table_dir(Layer.BRONZE, "ES", "mbp_10") / f"dt={DAY}")
    assert manifest is not None and manifest.params == {"front_month_only": True}


def test_front_month_by_previous_day_volume(lake: Lake, tmp_path: Path) -> None:
    _front_month_lake(lake, tmp_path, with_daily=True)
    assert table(lake, "mbp_10")["instrument_id"].to_list() == [5483, 5483]
    c = counts(lake, "mbp_10")
    assert c["front_month_instrument_id"] == 5483 and c["front_month_by_volume"] == 1
    manifest = read_manifest(lake.table_dir(Layer.BRONZE, "ES", "mbp_10") / f"dt={DAY}")
    assert manifest is not None and any("table=ohlcv_1d" in i.path for i in manifest.inputs)


def test_bronze_config_is_validated(lake: Lake) -> None:
    assert stage_params(lake, "mbp_10") == {}
    lake.internal("config").mkdir(parents=True)
    path = lake.internal("config") / "bronze.toml"
    path.write_text("[mbp_10]\nfront_month_only = true\n")
    assert stage_params(lake, "mbp_10") == {"front_month_only": True}
    path.write_text("[mbp_10]\nfront_month = true\n")
    with pytest.raises(ConfigError, match="unknown key 'front_month'"):
        stage_params(lake, "mbp_10")
    path.write_text("[statistics]\nfront_month_only = true\n")
    with pytest.raises(ConfigError, match="applies to"):
        stage_params(lake, "statistics")


def test_every_intraday_schema_is_registered(lake: Lake, tmp_path: Path) -> None:
    assert {s: BRONZE_STAGES[s].table for s in ("mbp-10", "mbp-1", "tbbo", "trades", "statistics", "status")} == {
        "mbp-10": "mbp_10", "mbp-1": "mbp_1", "tbbo": "tbbo", "trades": "trades", "statistics": "statistics",
        "status": "status",
    }  # fmt: skip
    zone = RawZone(lake.root)
    zone.import_file(write(tmp_path / "t.dbn.zst", "trades", trades([at(10, 0)]), *window((9, 11))), symbol="ES")
    zone.import_file(es_definitions(tmp_path / "d.dbn.zst", DAY))
    assert [s.table for s in bronze_stages(lake, "ES")] == ["definition", "trades"]


def test_transform_streams_bounded_batches(lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-batch file comes out in several bounded tables (the transform never holds the file)."""
    n, batch, out_rows = 20_000, 1_000, 3_000
    monkeypatch.setattr(Mbp10Stage, "batch_records", batch)
    monkeypatch.setattr(intraday, "OUTPUT_ROWS", out_rows)
    ts = at(9, 0) + np.arange(n, dtype=np.int64) * 100_000_000
    zone = RawZone(lake.root)
    zone.import_file(es_definitions(tmp_path / "d.dbn.zst", DAY))
    zone.import_file(write(tmp_path / "m.dbn.zst", "mbp-10", book("mbp-10", ts), *window((9, 11))), symbol="ES")
    stage = Mbp10Stage(lake, "ES")
    ctx = StageContext(lake, stage.partition(KEY), stage.params, stage.inputs(KEY))
    sizes = [t.num_rows for t in stage.transform(ctx)]
    assert sum(sizes) == n == ctx.rows_in
    assert len(sizes) >= n // (out_rows + batch)
    assert max(sizes) < out_rows + batch


@pytest.mark.parametrize(
    "day", [dt.date(2021, 3, 15), dt.date(2021, 3, 12), dt.date(2021, 11, 8), dt.date(2021, 11, 5), DAY]
)
def test_partition_window_is_the_trading_date(day: dt.date) -> None:
    """The integer window bronze filters on equals trading_date_expr, around both DST changes."""
    stage = Mbp10Stage(Lake(Path("/nonexistent")), "ES")
    lo, hi = stage.window_ns(PartitionKey.parse(f"dt={day}"))
    start = lo - 2 * 86_400 * NS
    grid = np.concatenate([np.arange(start, hi + 86_400 * NS, 15 * 60 * NS), [lo - 1, lo, hi - 1, hi]])
    df = pl.DataFrame({"ts": pl.Series(grid).cast(pl.Datetime("ns", "UTC"))})
    by_expr = df.select(trading_date_expr(pl.col("ts")) == day).to_series()
    by_window = pl.Series((grid >= lo) & (grid < hi))
    assert by_expr.to_list() == by_window.to_list()
    assert by_window.sum() > 0

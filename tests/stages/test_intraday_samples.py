"""Real Databento intraday samples through import, bronze and silver: rows and prices equal DBNStore's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from samples import DEFINITION, reference
from samples import read_table as read

from rst.framework.lake import Lake, Layer
from rst.framework.manifest import read_manifest
from rst.framework.stage import Outcome
from rst.sources.raw_zone import RawZone

SCHEMAS = {"mbp-10": "mbp_10", "mbp-1": "mbp_1", "tbbo": "tbbo", "trades": "trades", "statistics": "statistics", "status": "status"}
SAMPLES = [
    (f"{prefix}{schema}{suffix}", table)
    for schema, table in SCHEMAS.items()
    for prefix, suffix in (
        ("dbn/test_data.", ".dbn"),
        ("dbn/test_data.", ".v3.dbn.zst"),
        ("databento-python/GLBX.MDP3/test_data.", ".dbn.zst"),
    )
    if not (schema == "statistics" and prefix == "dbn/test_data.")  # instrument 146945: see the quarantine test
]
ACTION = {"A": "add", "C": "cancel", "M": "modify", "R": "clear", "T": "trade", "F": "fill", "N": "none"}
SIDE = {"A": "ask", "B": "bid", "N": "none"}
UNDEF_QUANTITY = 2**63 - 1






def _ns(col: pl.Series) -> list[int]:
    return col.dt.epoch("ns").to_list() if col.dtype != pl.Int64 else col.to_list()


@pytest.mark.parametrize(("relative", "table"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_intraday_sample_equals_databento(
    sample_file: Callable[[str], Path], lake: Lake, import_files, run_layers, relative: str, table: str
) -> None:
    path = sample_file(relative)
    _, entry = import_files(lake, [sample_file(DEFINITION), path])
    results = run_layers(lake, [Layer.BRONZE, Layer.SILVER], ["ES"])
    assert all(r.outcome is not Outcome.FAILED for r in results), [r.error for r in results]

    got = read(lake, Layer.BRONZE, table)
    want = reference(path)
    assert got.height == want.height > 0
    assert _ns(got["ts_recv"]) == want["ts_recv"].cast(pl.Int64).to_list()
    assert _ns(got["ts_event"]) == want["ts_event"].cast(pl.Int64).to_list()
    assert got["instrument_id"].to_list() == want["instrument_id"].to_list()
    assert got["symbol"].cast(pl.String).to_list() == want["symbol"].to_list() == ["ESH1"] * want.height
    assert set(got["source_file"].cast(pl.String)) == {entry.path}
    price_cols = [c for c in want.columns if c == "price" or c.startswith(("bid_px_", "ask_px_"))]
    size_cols = [c for c in want.columns if c in ("size", "quantity") or c[:7] in ("bid_sz_", "ask_sz_", "bid_ct_", "ask_ct_")]
    assert table == "status" or price_cols
    for col in [*price_cols, *size_cols, "sequence"] if table != "status" else []:
        expected = want[col].to_list()
        if col == "quantity":  # databento keeps the undefined sentinel; rst says null
            expected = [None if q == UNDEF_QUANTITY else q for q in expected]
        assert got[col].to_list() == expected, col
    if "flags" in want.columns:
        assert got["flags"].to_list() == want["flags"].to_list()
        assert got["is_last"].to_list() == [(f & 128) != 0 for f in want["flags"].to_list()]
        assert got["action"].cast(pl.String).to_list() == [ACTION[a] for a in want["action"].to_list()]
        assert got["side"].cast(pl.String).to_list() == [SIDE[s] for s in want["side"].to_list()]
    if table == "statistics":
        assert got["stat_type"].to_list() == want["stat_type"].to_list()
        names = {5: "trading_session_high_price", 8: "highest_bid", 4: "trading_session_low_price", 7: "lowest_offer"}
        assert got["stat_name"].cast(pl.String).to_list() == [names[t] for t in want["stat_type"].to_list()]

    silver = read(lake, Layer.SILVER, table)
    assert silver.height == got.height
    assert silver["symbol"].cast(pl.String).to_list() == ["ESH1"] * got.height
    assert silver["trading_date"].cast(pl.String).to_list() == ["2020-12-28"] * got.height


def test_statistics_of_an_undefined_instrument_are_quarantined(
    sample_file: Callable[[str], Path], lake: Lake, import_files, run_layers
) -> None:
    """dbn/test_data.statistics.dbn: instrument 146945, no mappings, no definition, an open-ended window."""
    import_files(lake, [sample_file(DEFINITION)])
    RawZone(lake.root).import_file(sample_file("dbn/test_data.statistics.dbn"), symbol="ES")
    results = run_layers(lake, [Layer.BRONZE], ["ES"])
    stats = [r for r in results if r.partition.table == "statistics"]
    assert [r.outcome for r in stats] == [Outcome.BUILT]
    assert stats[0].partition.key.value == "2023-04-24"  # Sunday 17:05 UTC -> Monday's session
    assert (stats[0].rows_in, stats[0].rows_out, stats[0].rows_quarantined) == (2, 0, 2)
    bad = read(lake, Layer.BRONZE, "statistics_quarantine")
    assert bad["instrument_id"].to_list() == [146945, 146945]
    assert bad["reason"].str.contains("unknown instrument").all()
    assert bad["price"].to_list() == [100_000_000_000] * 2
    manifest = read_manifest(lake.table_dir(Layer.BRONZE, "ES", "statistics") / "dt=2023-04-24")
    assert manifest is not None and manifest.rows_quarantined == 2


def test_v2_and_v3_mbp10_twins_give_identical_bronze(
    sample_file: Callable[[str], Path], tmp_path: Path, import_files, run_layers
) -> None:
    tables = []
    for name in ("dbn/test_data.mbp-10.dbn", "dbn/test_data.mbp-10.v3.dbn.zst"):
        lake = Lake(tmp_path / name.replace("/", "_"))
        import_files(lake, [sample_file(DEFINITION), sample_file(name)])
        run_layers(lake, [Layer.BRONZE], ["ES"])
        tables.append(read(lake, Layer.BRONZE, "mbp_10").drop("source_file"))
    assert tables[0].height == 2
    assert tables[0].equals(tables[1])

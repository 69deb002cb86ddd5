"""Real Databento samples through import and bronze: rows and prices equal DBNStore's fixed-price frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from samples import DEFINITION, read_table, reference

from rst.framework.lake import Lake, Layer
from rst.framework.stage import Outcome

BAR_SAMPLES = [
    ("databento-python/GLBX.MDP3/test_data.ohlcv-1d.dbn.zst", "ohlcv_1d"),
    ("databento-python/GLBX.MDP3/test_data.ohlcv-1h.dbn.zst", "ohlcv_1h"),
    ("databento-python/GLBX.MDP3/test_data.ohlcv-1m.dbn.zst", "ohlcv_1m"),
    ("databento-python/GLBX.MDP3/test_data.ohlcv-1s.dbn.zst", "ohlcv_1s"),
    ("dbn/test_data.ohlcv-1h.dbn", "ohlcv_1h"),
    ("dbn/test_data.ohlcv-1m.dbn", "ohlcv_1m"),
    ("dbn/test_data.ohlcv-1s.dbn", "ohlcv_1s"),
    ("dbn/test_data.ohlcv-1h.v3.dbn.zst", "ohlcv_1h"),
    ("dbn/test_data.ohlcv-1m.v3.dbn.zst", "ohlcv_1m"),
    ("dbn/test_data.ohlcv-1s.v3.dbn.zst", "ohlcv_1s"),
]
PRICE_COLUMNS = ["open", "high", "low", "close"]






@pytest.mark.parametrize(("relative", "table"), BAR_SAMPLES, ids=[s[0] for s in BAR_SAMPLES])
def test_bars_equal_databento_fixed_prices(
    sample_file: Callable[[str], Path], lake: Lake, import_files, run_layers, relative: str, table: str
) -> None:
    path = sample_file(relative)
    _, entry = import_files(lake, [sample_file(DEFINITION), path])
    results = run_layers(lake, [Layer.BRONZE], ["ES"])
    assert all(r.outcome is not Outcome.FAILED for r in results), [r.error for r in results]

    got = read_table(lake, Layer.BRONZE, table).sort("ts_event", "instrument_id")
    want = reference(path).sort("ts_event", "instrument_id")
    assert got.height == want.height > 0
    for col in PRICE_COLUMNS:
        assert got[col].to_list() == want[col].to_list(), col
    assert got["volume"].to_list() == want["volume"].to_list()
    assert got["instrument_id"].to_list() == want["instrument_id"].to_list()
    assert got["ts_event"].dt.epoch("ns").to_list() == want["ts_event"].cast(pl.Int64).to_list()
    assert got["symbol"].cast(pl.String).to_list() == want["symbol"].to_list()
    assert set(got["source_file"].cast(pl.String)) == {entry.path}


@pytest.mark.parametrize(
    "relative",
    ["databento-python/GLBX.MDP3/test_data.definition.dbn.zst"],
)
def test_definitions_keep_every_field_exactly(
    sample_file: Callable[[str], Path], lake: Lake, import_files, run_layers, relative: str
) -> None:
    path = sample_file(relative)
    import_files(lake, [path])
    results = run_layers(lake, [Layer.BRONZE], ["ES"])
    assert [r.outcome for r in results] == [Outcome.BUILT]

    got = read_table(lake, Layer.BRONZE, "definition")
    want = reference(path)
    assert got.height == want.height == 1
    for col in ("instrument_id", "min_price_increment", "unit_of_measure_qty", "high_limit_price", "low_limit_price"):
        assert got[col].to_list() == want[col].to_list(), col
    assert got["raw_symbol"].cast(pl.String).to_list() == want["raw_symbol"].to_list() == ["ESH1"]
    assert got["expiration"].dt.epoch("ns").to_list() == want["expiration"].cast(pl.Int64).to_list()


def test_v2_and_v3_twins_give_identical_bronze(
    sample_file: Callable[[str], Path], tmp_path: Path, import_files, run_layers
) -> None:
    tables = []
    for name in ("dbn/test_data.ohlcv-1m.dbn", "dbn/test_data.ohlcv-1m.v3.dbn.zst"):
        lake = Lake(tmp_path / name.replace("/", "_"))
        import_files(lake, [sample_file(DEFINITION), sample_file(name)])
        run_layers(lake, [Layer.BRONZE], ["ES"])
        tables.append(read_table(lake, Layer.BRONZE, "ohlcv_1m").drop("source_file"))
    assert tables[0].height == 2
    assert tables[0].equals(tables[1])


def test_manifest_says_how_much_of_the_window_no_file_covers(
    sample_file: Callable[[str], Path], lake: Lake, import_files, run_layers
) -> None:
    """The v2 minute-bar sample was requested for 13:00-24:00 UTC of Monday 2020-12-28. Trading date
    2020-12-28 holds every instant from Friday 17:00 CT (2020-12-25 23:00 UTC) to Monday 16:00 CT
    (22:00 UTC), 71 hours; the file covers 9 of them."""
    from rst.framework.manifest import read_manifest

    import_files(lake, [sample_file(DEFINITION), sample_file("dbn/test_data.ohlcv-1m.dbn")])
    run_layers(lake, [Layer.BRONZE], ["ES"])
    part = lake.table_dir(Layer.BRONZE, "ES", "ohlcv_1m") / "dt=2020-12-28"
    manifest = read_manifest(part)
    assert manifest is not None
    assert manifest.counts["window_uncovered_s"] == (71 - 9) * 3600
    definitions = read_manifest(lake.table_dir(Layer.BRONZE, "ES", "definition") / "year=2020")
    assert definitions is not None and definitions.counts["window_uncovered_s"] > 300 * 86400  # one day of a year

"""Files written by the generator read back through databento.DBNStore as generated."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from databento.common.symbology import InstrumentMap
from databento_dbn import Schema, SType
from synthetic_helpers import WriteFile, read_store, to_df

from rst.sources.synthetic import generate

SCHEMAS = ["ohlcv-1d", "ohlcv-1h", "definition"]


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("schema", SCHEMAS)
def test_file_reads_back_as_generated(write_file: WriteFile, schema: str, version: int) -> None:
    expected = generate(schema, "ES", "2024-02-01", "2024-03-01", dbn_version=version).records
    store = read_store(write_file(schema, dbn_version=version))

    assert len(expected) > 0
    array = store.to_ndarray()
    assert len(array) == len(expected)
    for field in ("instrument_id", "ts_event"):
        np.testing.assert_array_equal(array[field], expected[field])
    if schema.startswith("ohlcv"):
        for field in ("open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(array[field], expected[field])
    else:
        for field in ("raw_symbol", "expiration", "min_price_increment", "high_limit_price"):
            np.testing.assert_array_equal(array[field], expected[field])
    assert sum(1 for _ in store) == len(expected)


@pytest.mark.parametrize("version", [2, 3])
def test_metadata_describes_a_parent_request(write_file: WriteFile, version: int) -> None:
    metadata = read_store(write_file("ohlcv-1d", ["ES", "CL"], dbn_version=version)).metadata

    assert metadata.version == version
    assert metadata.dataset == "GLBX.MDP3"
    assert metadata.schema == Schema.OHLCV_1D
    assert metadata.stype_in == SType.PARENT
    assert metadata.stype_out == SType.INSTRUMENT_ID
    assert metadata.symbols == ["ES.FUT", "CL.FUT"]
    assert pd.Timestamp(metadata.start, tz="UTC") == pd.Timestamp("2024-02-01", tz="UTC")
    assert pd.Timestamp(metadata.end, tz="UTC") == pd.Timestamp("2024-03-01", tz="UTC")
    assert set(metadata.mappings) == {"ES.FUT", "CL.FUT"}


def test_every_record_resolves_through_the_mappings(write_file: WriteFile) -> None:
    store = read_store(write_file("ohlcv-1d", ["ES", "6E"]))
    instrument_map = InstrumentMap()
    instrument_map.insert_metadata(store.metadata)
    array = store.to_ndarray()
    dates = pd.to_datetime(array["ts_event"], utc=True).date

    resolved = {instrument_map.resolve(int(i), d) for i, d in zip(array["instrument_id"], dates, strict=True)}

    assert resolved == {"ES.FUT", "6E.FUT"}


def test_mapping_intervals_are_instrument_ids_within_the_request(write_file: WriteFile) -> None:
    store = read_store(write_file("definition"))
    intervals = store.metadata.mappings["ES.FUT"]
    ids = {int(i["symbol"]) for i in intervals}

    assert ids == set(store.to_ndarray()["instrument_id"].tolist())
    for interval in intervals:
        assert dt.date(2024, 2, 1) <= interval["start_date"] < interval["end_date"] <= dt.date(2024, 3, 1)


def test_to_df_fills_the_symbol_column(write_file: WriteFile) -> None:
    df = to_df(read_store(write_file("ohlcv-1h", "NQ")), map_symbols=True)

    assert len(df) > 0
    assert (df["symbol"] == "NQ.FUT").all()


def test_to_df_prices_are_the_fixed_point_values(write_file: WriteFile) -> None:
    store = read_store(write_file("ohlcv-1d", "ZN"))
    df = to_df(store, price_type="fixed")
    array = store.to_ndarray()

    np.testing.assert_array_equal(df["close"].to_numpy(), array["close"])
    assert (df["close"] % 15_625_000 == 0).all()  # 1/64 tick

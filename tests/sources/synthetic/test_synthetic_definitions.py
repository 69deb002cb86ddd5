"""Instrument definitions: CME-like fields, spreads, re-publication with changing limits."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from synthetic_helpers import WriteFile, read_store, to_df

from rst.sources.synthetic import generate, get_parent
from rst.sources.synthetic.contracts import make_contract

I32_UNDEF = 2**31 - 1


def test_es_outright_fields_look_like_cme(write_file: WriteFile) -> None:
    df = to_df(read_store(write_file("definition", "ES", "2024-01-01", "2024-04-01")), price_type="fixed")
    esh4 = df[df["raw_symbol"] == "ESH4"].iloc[0]

    assert esh4["instrument_class"] == "F"
    assert esh4["security_type"] == "FUT"
    assert esh4["exchange"] == "XCME"
    assert esh4["asset"] == "ES"
    assert esh4["currency"] == "USD"
    assert esh4["cfi"] == "FFIXSX"
    assert esh4["min_price_increment"] == 250_000_000
    assert esh4["unit_of_measure_qty"] == 50 * 10**9
    assert esh4["contract_multiplier"] == I32_UNDEF
    assert esh4["display_factor"] == 10**9
    assert (esh4["maturity_year"], esh4["maturity_month"]) == (2024, 3)
    assert esh4["expiration"] == pd.Timestamp("2024-03-15 13:30", tz="UTC")  # third Friday
    assert pd.Timedelta(days=360) < esh4["expiration"] - esh4["activation"] < pd.Timedelta(days=370)


def test_point_values_and_ticks_of_the_real_parents() -> None:
    expected = {
        "ES": (0.25, 50, "XCME"), "NQ": (0.25, 20, "XCME"), "ZN": (1 / 64, 1_000, "XCBT"),
        "CL": (0.01, 1_000, "XNYM"), "GC": (0.10, 100, "XCEC"), "6E": (0.00005, 125_000, "XCME"),
    }
    records = generate("definition", list(expected), "2024-02-01", "2024-02-06").records
    for root, (tick, point_value, exchange) in expected.items():
        rows = records[records["asset"] == root.encode()]
        assert len(rows) > 0
        assert set(rows["min_price_increment"].tolist()) == {round(tick * 1e9)}
        assert set(rows["unit_of_measure_qty"].tolist()) == {point_value * 10**9}
        assert set(rows["exchange"].tolist()) == {exchange.encode()}


def test_spreads_are_defined_with_class_s_and_legs_in_v3() -> None:
    records = generate("definition", "ES", "2024-02-01", "2024-02-06", dbn_version=3).records
    spreads = records[records["instrument_class"] == b"S"]

    assert len(spreads) > 0
    assert set(spreads["raw_symbol"].tolist()) >= {b"ESH4-ESM4", b"ESM4-ESU4"}
    assert (spreads["security_type"] == b"FUT").all()
    esh4_esm4 = spreads[spreads["raw_symbol"] == b"ESH4-ESM4"]
    assert esh4_esm4["leg_raw_symbol"].tolist() == [b"ESH4", b"ESM4"]
    assert esh4_esm4["leg_side"].tolist() == [b"B", b"A"]
    assert (esh4_esm4["leg_count"] == 2).all()


def test_v2_spreads_have_one_record_per_publication() -> None:
    v2 = generate("definition", "ES", "2024-02-01", "2024-02-06", dbn_version=2).records
    v3 = generate("definition", "ES", "2024-02-01", "2024-02-06", dbn_version=3).records
    n_spread_v2 = int((v2["instrument_class"] == b"S").sum())

    assert n_spread_v2 > 0
    assert int((v3["instrument_class"] == b"S").sum()) == 2 * n_spread_v2


def test_definitions_are_republished_monthly_with_changing_limits() -> None:
    records = generate("definition", "CL", "2024-01-01", "2024-07-01").records
    contract = make_contract(get_parent("CL"), 2024, 8)  # listed in late January
    rows = records[records["instrument_id"] == contract.instrument_id]
    ts = pd.to_datetime(rows["ts_event"], utc=True)

    assert rows["security_update_action"].tolist()[0] == b"A"
    assert set(rows["security_update_action"].tolist()[1:]) == {b"M"}
    assert ts[0] == pd.Timestamp(contract.activation, tz="UTC")
    assert len(rows) >= 4
    assert len(set(rows["high_limit_price"].tolist())) > 1
    assert (rows["high_limit_price"] > rows["low_limit_price"]).all()
    assert (np.diff(records["ts_recv"].astype(np.int64)) >= 0).all()


def test_daily_cadence_publishes_every_weekday() -> None:
    records = generate("definition", "NQ", "2024-02-05", "2024-02-10", definition_cadence="day").records
    days = pd.to_datetime(records["ts_event"], utc=True).normalize().unique()

    assert len(days) == 5


def test_expiry_rules() -> None:
    cl = make_contract(get_parent("CL"), 2024, 3)
    gc = make_contract(get_parent("GC"), 2024, 4)
    zn = make_contract(get_parent("ZN"), 2024, 3)
    six_e = make_contract(get_parent("6E"), 2024, 3)
    nq = make_contract(get_parent("NQ"), 2024, 9)

    def date(ns: int) -> dt.date:
        return pd.Timestamp(ns, tz="UTC").date()

    assert date(cl.expiration) == dt.date(2024, 2, 20)  # 3 business days before 25 Feb (a Sunday -> 23rd)
    assert date(gc.expiration) == dt.date(2024, 3, 27)  # third-last business day of March
    assert date(zn.expiration) == dt.date(2024, 3, 20)  # 7 business days before Friday 29 March
    assert date(six_e.expiration) == dt.date(2024, 3, 18)  # 2 business days before 20 March
    assert date(nq.expiration) == dt.date(2024, 9, 20)
    assert (cl.raw_symbol, gc.raw_symbol, six_e.raw_symbol) == ("CLH4", "GCJ4", "6EH4")
    assert date(cl.expiration) - date(cl.activation) < dt.timedelta(days=200)

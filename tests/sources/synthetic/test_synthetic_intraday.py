"""Intraday schemas of the synthetic generator: MBP-10, MBP-1, TBBO, trades, statistics."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_helpers import WriteFile, read_store, to_df

from rst.sources.synthetic import generate
from rst.sources.synthetic.book import F_BAD_TS_RECV, F_LAST, F_MBP, F_SNAPSHOT, F_TOB
from rst.sources.synthetic.contracts import SPREAD_ID_OFFSET

UNDEF = np.iinfo(np.int64).max
TICK = 250_000_000  # ES
DAY = {"start": "2024-03-04", "end": "2024-03-06"}  # Sunday evening's session through Tuesday's


@pytest.fixture(scope="module")
def mbp10() -> np.ndarray:
    return generate("mbp-10", "ES", DAY["start"], DAY["end"], seed=3).records


@pytest.mark.parametrize("schema", ["mbp-10", "mbp-1", "tbbo", "trades", "statistics"])
@pytest.mark.parametrize("version", [2, 3])
def test_round_trips_through_dbnstore_without_warnings(write_file: WriteFile, schema: str, version: int) -> None:
    path = write_file(schema, start="2024-03-05", end="2024-03-06", dbn_version=version, intraday_scale=0.2)
    store = read_store(path)
    df = to_df(store, price_type="fixed", pretty_ts=False, map_symbols=False)
    assert len(df) > 0
    assert str(store.schema) == schema
    assert store.metadata.version == version
    assert (np.diff(df.index.to_numpy().astype(np.int64)) >= 0).all()  # sorted by ts_recv


def test_book_levels_are_consistent(mbp10: np.ndarray) -> None:
    r = mbp10
    bid = np.stack([r[f"bid_px_{i:02d}"] for i in range(10)], axis=1)
    ask = np.stack([r[f"ask_px_{i:02d}"] for i in range(10)], axis=1)
    for side, px in (("bid", bid), ("ask", ask)):
        sz = np.stack([r[f"{side}_sz_{i:02d}"] for i in range(10)], axis=1).astype(np.int64)
        ct = np.stack([r[f"{side}_ct_{i:02d}"] for i in range(10)], axis=1).astype(np.int64)
        defined = px != UNDEF
        assert ((sz > 0) == defined).all() and ((ct >= 1) == defined).all()
        assert (ct <= sz).all()
        assert (np.diff(defined.astype(int), axis=1) <= 0).all()  # undefined levels only at the tail
        outright = (r["instrument_id"] % 1_000_000) < SPREAD_ID_OFFSET
        assert (px[defined & outright[:, None]] % TICK == 0).all()
        both = defined[:, :-1] & defined[:, 1:]
        step = np.diff(px, axis=1)
        assert ((step < 0) if side == "bid" else (step > 0))[both].all()
    top = (bid[:, 0] != UNDEF) & (ask[:, 0] != UNDEF)
    assert (bid[top, 0] < ask[top, 0]).all()
    assert top.mean() > 0.99


def test_times_sequence_and_flags(mbp10: np.ndarray) -> None:
    r = mbp10
    assert (np.diff(r["ts_recv"].astype(np.int64)) >= 0).all()
    assert (r["ts_event"] <= r["ts_recv"]).all()
    assert (r["ts_in_delta"] > 0).all()
    for iid in np.unique(r["instrument_id"]):
        s = r[r["instrument_id"] == iid]
        assert (np.diff(s["sequence"].astype(np.int64)) >= 0).all()
        assert (np.diff(s["ts_event"].astype(np.int64)) >= 0).all()
    flags = r["flags"]
    assert (flags & F_SNAPSHOT).any() and (flags & F_BAD_TS_RECV).any()
    assert (r["action"][(flags & F_SNAPSHOT) > 0] != b"T").all()
    trades = r["action"] == b"T"
    assert trades.any()
    assert ((flags[trades] & F_LAST) == 0).all()  # a trade is followed by its book change
    assert ((flags[~trades] & F_MBP) > 0).all()
    assert set(np.unique(r["action"]).tolist()) == {b"A", b"C", b"M", b"R", b"T"}


def test_calendar_spreads_appear_sometimes() -> None:
    ids = generate("mbp-10", "ES", "2024-02-05", "2024-02-17", intraday_scale=0.05).records["instrument_id"]
    assert ((ids % 1_000_000) >= SPREAD_ID_OFFSET).any()
    assert len(np.unique(ids[(ids % 1_000_000) < SPREAD_ID_OFFSET])) == 2  # front and next


def test_mbp1_and_tbbo_follow_the_book(mbp10: np.ndarray) -> None:
    mbp1 = generate("mbp-1", "ES", DAY["start"], DAY["end"], seed=3).records
    tbbo = generate("tbbo", "ES", DAY["start"], DAY["end"], seed=3).records
    trades = generate("trades", "ES", DAY["start"], DAY["end"], seed=3).records
    t10 = mbp10[mbp10["action"] == b"T"]
    assert len(tbbo) == len(trades) == len(t10)
    assert (tbbo["price"] == trades["price"]).all() and (tbbo["bid_px_00"] == t10["bid_px_00"]).all()
    assert ((tbbo["flags"] & F_LAST) > 0).all() and ((trades["flags"] & F_LAST) > 0).all()
    buy = tbbo["side"] == b"B"
    assert (tbbo["price"][buy] == tbbo["ask_px_00"][buy]).all()
    assert (tbbo["price"][~buy] == tbbo["bid_px_00"][~buy]).all()
    assert len(t10) < len(mbp1) < len(mbp10)
    assert ((mbp1["flags"][mbp1["action"] != b"T"] & F_TOB) > 0).all()
    assert (mbp1["bid_px_00"] < mbp1["ask_px_00"])[(mbp1["bid_px_00"] != UNDEF) & (mbp1["ask_px_00"] != UNDEF)].all()


def test_statistics_types_per_contract_and_day() -> None:
    stats = generate("statistics", "ES", "2024-02-04", "2024-02-10").records
    trades = generate("trades", "ES", "2024-02-04", "2024-02-10").records
    outright = (stats["instrument_id"] % 1_000_000) < SPREAD_ID_OFFSET
    for iid in np.unique(stats["instrument_id"][outright]):
        s = stats[stats["instrument_id"] == iid]
        assert {1, 3, 4, 5, 6, 9} <= set(s["stat_type"].tolist())
        settle = s[s["stat_type"] == 3]
        assert set(settle["stat_flags"].tolist()) == {2, 3}
        assert (settle["ts_ref"] % 86_400_000_000_000 == 0).all()
        hi, lo = s[s["stat_type"] == 5]["price"], s[s["stat_type"] == 4]["price"]
        tp = trades[trades["instrument_id"] == iid]["price"]
        assert hi.max() == tp.max() and lo.min() == tp.min()
    assert (stats["quantity"][stats["stat_type"] == 9] > 0).all()
    assert (stats["price"][stats["stat_type"] == 9] == UNDEF).all()
    # five weekday settlements each (Mon..Fri sessions)
    assert (stats["stat_type"] == 3).sum() >= 2 * 5 * 2


def test_deterministic_and_window_independent() -> None:
    a = generate("mbp-10", "ES", "2024-03-05", "2024-03-06", seed=5, intraday_scale=0.3).records
    b = generate("mbp-10", "ES", "2024-03-05", "2024-03-06", seed=5, intraday_scale=0.3).records
    assert a.tobytes() == b.tobytes()
    wide = generate("mbp-10", "ES", "2024-03-04", "2024-03-07", seed=5, intraday_scale=0.3).records
    cut = wide[(wide["ts_recv"] >= 1709596800 * 10**9) & (wide["ts_recv"] < 1709683200 * 10**9)]
    assert cut.tobytes() == a.tobytes()
    other = generate("mbp-10", "ES", "2024-03-05", "2024-03-06", seed=6, intraday_scale=0.3).records
    assert other.tobytes() != a.tobytes()


def test_scale_multiplies_events() -> None:
    small = generate("trades", "CL", "2024-03-05", "2024-03-06", intraday_scale=0.5).records
    big = generate("trades", "CL", "2024-03-05", "2024-03-06", intraday_scale=2.0).records
    assert 3 < len(big) / len(small) < 5

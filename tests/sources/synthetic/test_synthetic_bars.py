"""OHLCV bars: tick grid, consistent high/low, Globex hours, hourly-daily agreement, volume migration, spreads."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rst.sources.synthetic import default_parents, generate, get_parent
from rst.sources.synthetic.contracts import SPREAD_ID_OFFSET, make_contract


def _frame(records: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({k: records[k] for k in ("instrument_id", "ts_event", "open", "high", "low", "close", "volume")})
    df["ts"] = pd.to_datetime(df["ts_event"], utc=True)
    df["outright"] = (df["instrument_id"] % 1_000_000) < SPREAD_ID_OFFSET
    return df


@settings(max_examples=12, deadline=None)
@given(
    number=st.integers(min_value=1, max_value=20),
    seed=st.integers(min_value=0, max_value=2**40),
    start=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1)),
    days=st.integers(min_value=1, max_value=40),
    schema=st.sampled_from(["ohlcv-1d", "ohlcv-1h"]),
)
def test_bars_are_on_the_tick_grid_and_consistent(
    number: int, seed: int, start: dt.date, days: int, schema: str
) -> None:
    parent = default_parents(number)[-1]
    end = start + dt.timedelta(days=days)
    r = generate(schema, parent, start, end, seed=seed).records
    outright = (r["instrument_id"] % 1_000_000) < SPREAD_ID_OFFSET

    for field in ("open", "high", "low", "close"):
        assert (r[field] % parent.tick == 0).all()
    assert (r["high"] >= np.maximum(r["open"], r["close"])).all()
    assert (r["low"] <= np.minimum(r["open"], r["close"])).all()
    assert (r["low"][outright] > 0).all()
    assert (r["volume"] > 0).all()
    ts = r["ts_event"].astype(np.int64)
    assert (np.diff(ts) >= 0).all()
    assert ((ts >= pd.Timestamp(start, tz="UTC").value) & (ts < pd.Timestamp(end, tz="UTC").value)).all()


def test_daily_bars_are_on_weekdays_at_midnight_utc() -> None:
    df = _frame(generate("ohlcv-1d", "CL", "2024-03-01", "2024-04-01").records)

    assert (df["ts"].dt.day_of_week < 5).all()
    assert (df["ts"] == df["ts"].dt.normalize()).all()
    assert df["ts"].dt.day_of_week.nunique() == 5


def test_hourly_bars_follow_globex_hours_across_dst() -> None:
    """The front trades 115 hours a week; the 16:00 Chicago break is 22:00 UTC in winter, 21:00 in summer."""
    for start, break_utc in (("2024-01-07", 22), ("2024-07-07", 21)):
        start_ts = pd.Timestamp(start, tz="UTC")  # a Sunday
        r = generate("ohlcv-1h", "ES", start_ts.date(), (start_ts + pd.Timedelta(days=7)).date()).records
        df = _frame(r)
        front = df[df["instrument_id"] == df.groupby("instrument_id")["volume"].sum().idxmax()]
        assert len(front) == 115
        weekdays = front[front["ts"].dt.day_of_week < 4]
        assert break_utc not in set(weekdays["ts"].dt.hour)
        assert (front["ts"].dt.day_of_week != 5).all()


def test_hourly_bars_aggregate_to_the_daily_bar() -> None:
    hourly = _frame(generate("ohlcv-1h", ["GC", "ZN"], "2024-05-06", "2024-05-11").records)
    daily = _frame(generate("ohlcv-1d", ["GC", "ZN"], "2024-05-06", "2024-05-11").records)
    daily = daily[daily["outright"]].set_index(["instrument_id", "ts"]).sort_index()
    hourly["day"] = hourly["ts"].dt.floor("D")
    agg = hourly.sort_values("ts").groupby(["instrument_id", "day"]).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last"),
        volume=("volume", "sum"),
    )
    agg.index.names = ["instrument_id", "ts"]

    assert len(daily) > 20
    pd.testing.assert_frame_equal(agg.loc[daily.index], daily[["open", "high", "low", "close", "volume"]])


def test_contracts_differ_in_price_so_rolls_have_gaps() -> None:
    df = _frame(generate("ohlcv-1d", "ES", "2024-03-04", "2024-03-05").records)
    closes = df[df["outright"]].set_index("instrument_id")["close"]

    assert closes.nunique() == len(closes) >= 3


def test_front_volume_share_falls_ahead_of_expiry() -> None:
    es = get_parent("ES")
    front, nxt = make_contract(es, 2024, 3), make_contract(es, 2024, 6)
    df = _frame(generate("ohlcv-1d", "ES", "2024-02-01", "2024-03-16").records)
    df = df[df["outright"]]
    share = df.pivot_table(index="ts", columns="instrument_id", values="volume", aggfunc="sum")
    share = share.div(share.sum(axis=1), axis=0)
    early = share.loc[: pd.Timestamp("2024-02-16", tz="UTC"), front.instrument_id]
    late = share.loc[pd.Timestamp("2024-03-05", tz="UTC"):, front.instrument_id]

    assert early.min() > 0.6
    assert late.max() < 0.1
    assert share.loc[pd.Timestamp("2024-03-05", tz="UTC"):, nxt.instrument_id].min() > 0.6
    assert (share.fillna(0) > 0).sum(axis=1).min() >= 3  # back months trade, thinly
    assert late.notna().all()  # the rolled-out front still trades until expiry


def test_spreads_get_daily_bars_but_no_hourly_bars() -> None:
    daily = _frame(generate("ohlcv-1d", "ES", "2024-02-20", "2024-03-10").records)
    hourly = _frame(generate("ohlcv-1h", "ES", "2024-02-20", "2024-03-10").records)
    spreads = daily[~daily["outright"]]
    spread_id = make_contract(get_parent("ES"), 2024, 3).instrument_id + SPREAD_ID_OFFSET

    assert spread_id in set(spreads["instrument_id"])
    assert (spreads["low"] < 0).any() or (spreads["high"] > 0).any()
    assert hourly["outright"].all()


def test_twenty_parents_are_distinct_and_generate() -> None:
    parents = default_parents(20)
    records = generate("ohlcv-1d", parents, "2024-01-02", "2024-01-04").records
    roots = {int(i) // 1_000_000 for i in records["instrument_id"]}

    assert len({p.root for p in parents}) == 20
    assert roots == set(range(1, 21))

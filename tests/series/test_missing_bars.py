"""Missing bars: no row instead of a switch, reference day moves back, rolls delay, forced rolls."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings

from rst.series import SeriesDefinition, build, roll_events

from .bars import d, make_bars
from .synth import definitions, histories
from .test_adjustments import TWO, TWO_ROWS

PANAMA = SeriesDefinition("m", "ES", "days_before_expiry", 2, "backward_additive")


def _without(*drop: tuple[int, str]) -> list[tuple[object, ...]]:
    return [r for r in TWO_ROWS if (r[0].day, r[1]) not in drop]  # type: ignore[attr-defined]


def test_live_contract_missing_a_bar_gives_no_row_and_no_switch() -> None:
    bars = make_bars(TWO, _without((12, "ESH4")))
    out = build(bars, PANAMA)
    assert out["trading_date"].to_list() == [d(11), d(13), d(14), d(15), d(18)]
    assert out["symbol"].to_list() == ["ESH4", "ESH4", "ESM4", "ESM4", "ESM4"]
    assert out["is_roll"].to_list() == [False, False, True, False, False]


def test_old_contract_missing_on_reference_day_uses_latest_common_day() -> None:
    bars = make_bars(TWO, _without((13, "ESH4")))
    out = build(bars, PANAMA)
    # D moves from the 13th to the 12th: gap = ESM4(12) - ESH4(12) = 112 - 101 = 11
    assert out["trading_date"].to_list() == [d(11), d(12), d(14), d(15), d(18)]
    assert out["adj_close"].to_list() == [111.0, 112.0, 113.0, 115.0, 116.0]
    ev = roll_events(out, bars, PANAMA)
    assert ev.select("roll_date", "ref_date", "gap").rows() == [(d(14), d(12), 11.0)]


def test_new_contract_missing_on_reference_day_uses_latest_common_day() -> None:
    bars = make_bars(TWO, _without((13, "ESM4")))
    out = build(bars, PANAMA)
    assert out["symbol"].to_list() == ["ESH4"] * 3 + ["ESM4"] * 3
    # gap = 112 - 101 = 11 measured on the 12th; ESH4's close on the 13th (102.5) + 11
    assert out["adj_close"].to_list() == [111.0, 112.0, 113.5, 113.0, 115.0, 116.0]
    # no gap at the reference day: ESH4 adjusted on D equals ESM4 on D
    assert out.filter(pl.col("trading_date") == d(12))["adj_close"][0] == 112.0


def test_new_contract_without_any_earlier_bar_delays_the_roll() -> None:
    bars = make_bars(TWO, _without((11, "ESM4"), (12, "ESM4"), (13, "ESM4")))
    out = build(bars, PANAMA)
    # due on the 14th, but ESM4's first bar is on the 14th: no day to measure the gap before it,
    # so ESH4 stays live on the 14th and the roll happens on the 15th with D = 14th (113 - 103 = 10)
    assert out["symbol"].to_list() == ["ESH4"] * 4 + ["ESM4"] * 2
    assert out["trading_date"].to_list() == [d(11), d(12), d(13), d(14), d(15), d(18)]
    assert out["is_roll"].to_list() == [False] * 4 + [True, False]
    assert out["adj_close"].to_list() == [110.0, 111.0, 112.5, 113.0, 115.0, 116.0]


def test_forced_roll_without_overlap_is_not_adjusted() -> None:
    keep = {(11, "ESH4"), (12, "ESH4"), (18, "ESM4")}
    rows = [r for r in TWO_ROWS if (r[0].day, r[1]) in keep]  # type: ignore[attr-defined]
    bars = make_bars(TWO, rows)
    # N=0: the calendar is the dates in the data (11, 12, 18), so ESH4 is held to its last bar
    defn = SeriesDefinition("m", "ES", "days_before_expiry", 0, "backward_additive")
    out = build(bars, defn)
    assert out["symbol"].to_list() == ["ESH4", "ESH4", "ESM4"]
    assert out["is_roll"].to_list() == [False, False, True]
    assert out["adjustment"].to_list() == [0.0, 0.0, 0.0]
    ev = roll_events(out, bars, defn)
    assert ev["ref_date"].to_list() == [None] and ev["from_price"].to_list() == [None]


def test_null_settlement_on_reference_day_moves_it_back() -> None:
    missing = (d(13), "ESM4")
    rows = [(*r, 100, None, None if (r[0], r[1]) == missing else r[2]) for r in TWO_ROWS]
    bars = make_bars(TWO, rows)
    defn = SeriesDefinition("m", "ES", "days_before_expiry", 2, "backward_additive", price_field="settlement")
    ev = roll_events(build(bars, defn), bars, defn)
    assert ev.select("ref_date", "gap").rows() == [(d(12), 11.0)]


@settings(max_examples=60, deadline=None)
@given(hist=histories(), defn=definitions())
def test_no_duplicate_or_dropped_dates(hist, defn) -> None:  # type: ignore[no-untyped-def]
    """Dates unique and increasing; no date on which the held contract has a bar is skipped;
    expirations never go back."""
    out = build(hist.bars, defn)
    dates = out["trading_date"].to_list()
    assert dates == sorted(set(dates))
    has_bar = set(zip(hist.bars["trading_date"].to_list(), hist.bars["instrument_id"].to_list(), strict=True))
    calendar = sorted({x for x in hist.bars["trading_date"].to_list() if defn.start is None or x >= defn.start})
    held = out.select("trading_date", "instrument_id").rows()
    for (day, iid), nxt in zip(held, [*held[1:], (None, None)], strict=False):
        between = [x for x in calendar if x > day and (nxt[0] is None or x < nxt[0])]
        assert not any((x, iid) in has_bar for x in between), (day, iid)
    exp = out["expiration"].to_list()
    assert exp == sorted(exp)
    ids = out["instrument_id"].to_list()
    assert out["is_roll"].sum() == sum(a != b for a, b in zip(ids, ids[1:], strict=False))

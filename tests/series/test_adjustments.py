"""Hand-computed rolls for every adjustment method, plus the properties each method promises."""

from __future__ import annotations

from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings

from rst.series import Adjustment, PriceField, SeriesDefinition, build, roll_events

from .bars import d, fx, make_bars
from .synth import definitions, histories

# Two contracts, days_before_expiry N=2. Calendar 11,12,13,14,15,18 March 2024; ESH4 expires on the
# 15th, so on the 13th two trading dates (14, 15) remain and on the 14th only one: the roll is on
# R = 14th, reference day D = 13th. Gap = ESM4(13) - ESH4(13) = 111 - 102.5 = 8.5; ratio = 111/102.5.
TWO = {"ESH4": (1, d(15)), "ESM4": (2, d(21, 6))}
TWO_ROWS = [
    (d(11), "ESH4", "100"), (d(12), "ESH4", "101"), (d(13), "ESH4", "102.5"), (d(14), "ESH4", "103"),
    (d(15), "ESH4", "104"),
    (d(11), "ESM4", "110"), (d(12), "ESM4", "112"), (d(13), "ESM4", "111"), (d(14), "ESM4", "113"),
    (d(15), "ESM4", "115"), (d(18), "ESM4", "116"),
]
TWO_EXPECTED = {
    # adj_close per row (11, 12, 13 | 14, 15, 18), adjustment per row
    Adjustment.BACKWARD_ADDITIVE: ([108.5, 109.5, 111.0, 113.0, 115.0, 116.0], [8.5] * 3 + [0.0] * 3),
    Adjustment.FORWARD_ADDITIVE: ([100.0, 101.0, 102.5, 104.5, 106.5, 107.5], [0.0] * 3 + [-8.5] * 3),
    Adjustment.BACKWARD_RATIO: (
        [100 * 111 / 102.5, 101 * 111 / 102.5, 111.0, 113.0, 115.0, 116.0],
        [111 / 102.5] * 3 + [1.0] * 3,
    ),
    Adjustment.NONE: ([100.0, 101.0, 102.5, 113.0, 115.0, 116.0], [0.0] * 6),
}

# Three contracts, N=1. ESF4 expires Jan 4, ESG4 Jan 9, ESH4 Jan 19. Rolls on Jan 4 (D = Jan 3:
# gap 56 - 52 = 4, ratio 14/13) and Jan 9 (D = Jan 8: gap 66 - 60 = 6, ratio 11/10).
THREE = {"ESF4": (11, d(4, 1)), "ESG4": (12, d(9, 1)), "ESH4": (13, d(19, 1))}
THREE_ROWS = [
    (d(2, 1), "ESF4", 50), (d(3, 1), "ESF4", 52), (d(4, 1), "ESF4", 53),
    (d(2, 1), "ESG4", 55), (d(3, 1), "ESG4", 56), (d(4, 1), "ESG4", 57), (d(5, 1), "ESG4", 58),
    (d(8, 1), "ESG4", 60), (d(9, 1), "ESG4", 61),
    (d(2, 1), "ESH4", 64), (d(3, 1), "ESH4", 63), (d(4, 1), "ESH4", 65), (d(5, 1), "ESH4", 66),
    (d(8, 1), "ESH4", 66), (d(9, 1), "ESH4", 68), (d(10, 1), "ESH4", 70),
]
THREE_EXPECTED = {
    Adjustment.BACKWARD_ADDITIVE: ([60.0, 62.0, 63.0, 64.0, 66.0, 68.0, 70.0], [10.0] * 2 + [6.0] * 3 + [0.0] * 2),
    Adjustment.FORWARD_ADDITIVE: ([50.0, 52.0, 53.0, 54.0, 56.0, 58.0, 60.0], [0.0] * 2 + [-4.0] * 3 + [-10.0] * 2),
    Adjustment.BACKWARD_RATIO: (
        [50 * 77 / 65, 52 * 77 / 65, 57 * 1.1, 58 * 1.1, 60 * 1.1, 68.0, 70.0],
        [77 / 65] * 2 + [1.1] * 3 + [1.0] * 2,
    ),
    Adjustment.NONE: ([50.0, 52.0, 57.0, 58.0, 60.0, 68.0, 70.0], [0.0] * 7),
}


def _defn(adjustment: Adjustment, n_before: int) -> SeriesDefinition:
    return SeriesDefinition("hand", "ES", "days_before_expiry", n_before, adjustment)


@pytest.mark.parametrize("adjustment", list(Adjustment))
def test_two_contracts_by_hand(adjustment: Adjustment) -> None:
    out = build(make_bars(TWO, TWO_ROWS), _defn(adjustment, 2))
    assert out["trading_date"].to_list() == [d(11), d(12), d(13), d(14), d(15), d(18)]
    assert out["symbol"].to_list() == ["ESH4"] * 3 + ["ESM4"] * 3
    assert out["is_roll"].to_list() == [False, False, False, True, False, False]
    assert out["close"].to_list() == [fx(x) for x in ("100", "101", "102.5", "113", "115", "116")]
    closes, adjustments = TWO_EXPECTED[adjustment]
    assert out["adj_close"].to_list() == pytest.approx(closes, rel=1e-15, abs=0)
    assert out["adjustment"].to_list() == pytest.approx(adjustments, rel=1e-15, abs=0)
    # open = close - 0.25 in the fixture: the same shift/scale applies to every price of the row
    if adjustment is Adjustment.BACKWARD_RATIO:
        assert out["adj_open"].to_list() == pytest.approx(
            [(c / 1e9 - 0.25) * a for c, a in zip(out["close"], adjustments, strict=True)], rel=1e-15
        )
    else:
        assert out["adj_open"].to_list() == pytest.approx([c - 0.25 for c in closes], rel=1e-15)


@pytest.mark.parametrize("adjustment", list(Adjustment))
def test_three_contracts_by_hand(adjustment: Adjustment) -> None:
    out = build(make_bars(THREE, THREE_ROWS), _defn(adjustment, 1))
    assert out["symbol"].to_list() == ["ESF4"] * 2 + ["ESG4"] * 3 + ["ESH4"] * 2
    assert out["is_roll"].to_list() == [False, False, True, False, False, True, False]
    closes, adjustments = THREE_EXPECTED[adjustment]
    assert out["adj_close"].to_list() == pytest.approx(closes, rel=1e-15, abs=0)
    assert out["adjustment"].to_list() == pytest.approx(adjustments, rel=1e-15, abs=0)


def test_additive_adjustments_are_exact() -> None:
    """Additive adjusted prices are (int price + int offset) / 1e9: exactly the decimal value."""
    out = build(make_bars(THREE, THREE_ROWS), _defn(Adjustment.BACKWARD_ADDITIVE, 1))
    assert out["adj_close"].to_list() == [60.0, 62.0, 63.0, 64.0, 66.0, 68.0, 70.0]


def test_ratio_factor_is_the_exact_product_rounded_once() -> None:
    out = build(make_bars(THREE, THREE_ROWS), _defn(Adjustment.BACKWARD_RATIO, 1))
    assert out["adjustment"][0] == float(Fraction(56, 52) * Fraction(66, 60))
    assert out["adjustment"][2] == float(Fraction(66, 60))


def test_roll_events_name_the_reference_prices() -> None:
    bars = make_bars(THREE, THREE_ROWS)
    defn = _defn(Adjustment.BACKWARD_RATIO, 1)
    ev = roll_events(build(bars, defn), bars, defn)
    assert ev.select("roll_date", "from_symbol", "to_symbol", "ref_date", "from_price", "to_price").rows() == [
        (d(4, 1), "ESF4", "ESG4", d(3, 1), fx(52), fx(56)),
        (d(9, 1), "ESG4", "ESH4", d(8, 1), fx(60), fx(66)),
    ]
    assert ev["gap"].to_list() == [4.0, 6.0]


def test_settlement_price_field_measures_the_gap_on_settlements() -> None:
    rows = [(*r, 100, None, str(float(r[2]) + (0.5 if r[1] == "ESM4" else 0.0))) for r in TWO_ROWS]
    bars = make_bars(TWO, rows)
    defn = SeriesDefinition("s", "ES", "days_before_expiry", 2, "backward_additive", price_field="settlement")
    out = build(bars, defn)
    assert out["adjustment"].to_list()[:3] == [9.0] * 3  # settlements 111.5 - 102.5


def test_non_positive_reference_price_refuses_ratio() -> None:
    rows = [(r[0], r[1], "-1" if (r[0], r[1]) == (d(13), "ESH4") else r[2]) for r in TWO_ROWS]
    bars = make_bars(TWO, rows)
    with pytest.raises(Exception, match="positive prices"):
        build(bars, _defn(Adjustment.BACKWARD_RATIO, 2))
    assert build(bars, _defn(Adjustment.BACKWARD_ADDITIVE, 2))["adjustment"][0] == 112.0


def _segment_offsets(series: pl.DataFrame) -> dict[int, float]:
    return dict(series.select("instrument_id", "adjustment").unique().iter_rows())


@settings(max_examples=40, deadline=None)
@given(hist=histories(), defn=definitions(adjustment=Adjustment.BACKWARD_ADDITIVE))
def test_backward_additive_removes_each_gap_exactly(hist, defn) -> None:  # type: ignore[no-untyped-def]
    """On each reference day D: O's price + O's offset == N's price + N's offset (exact integers)."""
    series = build(hist.bars, defn)
    offsets = {k: round(v * 1e9) for k, v in _segment_offsets(series).items()}
    for ev in roll_events(series, hist.bars, defn).iter_rows(named=True):
        if ev["ref_date"] is None:
            continue
        assert ev["from_price"] + offsets[ev["from_instrument_id"]] == ev["to_price"] + offsets[ev["to_instrument_id"]]
    if series.height:
        assert series.filter(pl.col("instrument_id") == series["instrument_id"][-1])["adjustment"].eq(0.0).all()


@settings(max_examples=40, deadline=None)
@given(hist=histories(), defn=definitions(adjustment=Adjustment.BACKWARD_RATIO))
def test_backward_ratio_preserves_returns(hist, defn) -> None:  # type: ignore[no-untyped-def]
    """Non-roll days: adjusted return == the live contract's return. Roll days (previous row on D,
    price_field close): adjusted return == N's return from D."""
    series = build(hist.bars, defn)
    if series.height < 2:
        return
    bars = hist.bars
    events = {e["roll_date"]: e for e in roll_events(series, bars, defn).iter_rows(named=True)}
    rows = series.rows(named=True)
    for prev, cur in zip(rows, rows[1:], strict=False):
        got = cur["adj_close"] / prev["adj_close"]
        if not cur["is_roll"]:
            assert got == pytest.approx(cur["close"] / prev["close"], rel=1e-12)
            continue
        ev = events[cur["trading_date"]]
        if defn.price_field is PriceField.CLOSE and ev["ref_date"] == prev["trading_date"]:
            assert got == pytest.approx(cur["close"] / ev["to_price"], rel=1e-12)
    assert series["adjustment"][-1] == 1.0


@settings(max_examples=40, deadline=None)
@given(hist=histories(), defn=definitions())
def test_unadjusted_prices_are_the_live_contracts_bars(hist, defn) -> None:  # type: ignore[no-untyped-def]
    series = build(hist.bars, defn)
    joined = series.join(
        hist.bars.with_columns(pl.col("volume").cast(pl.Int64)),
        on=["trading_date", "instrument_id"], how="left", suffix="_bar",
    )
    for col in ("open", "high", "low", "close", "volume", "open_interest", "symbol", "expiration"):
        assert joined[col].equals(joined[f"{col}_bar"]), col
    if defn.adjustment is Adjustment.NONE:
        # numpy division (correctly rounded); polars would multiply by 1e-9 instead
        assert series["adj_close"].to_list() == (series["close"].to_numpy() / 1e9).tolist()

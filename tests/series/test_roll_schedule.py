"""Which contract is live when: days before expiry, crossovers, rank, months, start, input checks."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from rst.errors import SeriesError
from rst.series import SeriesDefinition, build

from .bars import d, make_bars
from .test_adjustments import THREE, THREE_ROWS, TWO, TWO_ROWS

MARCH = [d(11), d(12), d(13), d(14), d(15), d(18)]


def _symbols(out: pl.DataFrame) -> list[str]:
    return out["symbol"].to_list()


def _defn(rule: str = "days_before_expiry", offset: int = 0, **kw: object) -> SeriesDefinition:
    return SeriesDefinition("s", "ES", rule, offset, "none", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n_before", "first_new"),
    [(0, d(18)), (1, d(15)), (2, d(14)), (3, d(13)), (4, d(12))],
)
def test_days_before_expiry_counts_trading_dates(n_before: int, first_new: dt.date) -> None:
    """ESH4 expires Fri 15th; its last live day is the date with n_before trading dates after it."""
    out = build(make_bars(TWO, TWO_ROWS), _defn(offset=n_before))
    assert out["trading_date"].to_list() == MARCH
    assert _symbols(out) == ["ESH4" if x < first_new else "ESM4" for x in MARCH]
    assert out.filter(pl.col("is_roll"))["trading_date"].to_list() == [first_new]


def test_days_before_expiry_counts_missing_calendar_days_as_absent() -> None:
    """With no data at all on the 14th, the 13th has one trading date left (the 15th): N=2 rolls on the 13th."""
    rows = [r for r in TWO_ROWS if r[0] != d(14)]
    out = build(make_bars(TWO, rows), _defn(offset=2))
    assert out.filter(pl.col("is_roll"))["trading_date"].to_list() == [d(13)]


def test_expiry_beyond_the_data_counts_weekdays() -> None:
    """Data ends Tue 12th; Wed-Fri (13-15) are counted as future trading dates, so ESH4 is still held."""
    rows = [r for r in TWO_ROWS if r[0] <= d(12)]
    out = build(make_bars(TWO, rows), _defn(offset=2))
    assert _symbols(out) == ["ESH4", "ESH4"]
    out3 = build(make_bars(TWO, rows), _defn(offset=4))  # 12th: 3 left < 4
    assert _symbols(out3) == ["ESH4", "ESM4"]


def test_rank_one_is_the_second_contract_and_never_rolls_back() -> None:
    out = build(make_bars(THREE, THREE_ROWS), _defn(offset=1, contract_rank=1))
    # Jan 2-3: second = ESG4; from Jan 4 (ESF4 out): second = ESH4; from Jan 9 there is no second
    # contract, and the series keeps ESH4 rather than going back to an earlier expiry.
    assert _symbols(out) == ["ESG4", "ESG4", "ESH4", "ESH4", "ESH4", "ESH4", "ESH4"]


def test_allowed_months_skip_other_contracts() -> None:
    bars = make_bars(THREE, THREE_ROWS)
    out = build(bars, _defn(offset=1, allowed_months="hf"))
    assert _symbols(out) == ["ESF4", "ESF4", "ESH4", "ESH4", "ESH4", "ESH4", "ESH4"]
    # the calendar keeps Jan 4 (ESH4 trades), the roll is measured on Jan 3: 63 - 52
    panama = SeriesDefinition("s", "ES", "days_before_expiry", 1, "backward_additive", allowed_months="FH")
    assert build(bars, panama)["adjustment"].to_list()[:2] == [11.0, 11.0]


def test_start_drops_earlier_dates() -> None:
    out = build(make_bars(THREE, THREE_ROWS), _defn(offset=1, start=dt.date(2024, 1, 4)))
    assert out["trading_date"][0] == dt.date(2024, 1, 4)
    assert not out["is_roll"][0]


VOL = {  # (ESH4 volume, ESM4 volume) per day; ESM4 first exceeds ESH4 on the 13th
    d(11): (900, 100), d(12): (800, 200), d(13): (400, 500), d(14): (900, 600), d(15): (100, 700), d(18): (None, 800),
}


def _vol_bars(vol: dict[dt.date, tuple[int | None, int | None]], oi: bool = False) -> pl.DataFrame:
    rows = []
    for day, (a, b) in vol.items():
        for sym, v in (("ESH4", a), ("ESM4", b)):
            if v is not None or (oi and day != d(18)):
                rows.append((day, sym, 100, 50, v) if oi else (day, sym, 100, v))
    return make_bars(TWO, rows)


@pytest.mark.parametrize(("offset", "first_new"), [(0, d(14)), (1, d(15)), (2, d(18))])
def test_volume_crossover_rolls_the_day_after_plus_offset(offset: int, first_new: dt.date) -> None:
    """ESH4 out-trades ESM4 again on the 14th: no roll back."""
    out = build(_vol_bars(VOL), _defn("volume_crossover", offset))
    assert _symbols(out) == ["ESH4" if x < first_new else "ESM4" for x in MARCH]


def test_volume_crossover_that_never_happens_rolls_after_expiry() -> None:
    vol = {day: (1000, 10) for day in MARCH[:-1]} | {d(18): (None, 10)}
    out = build(_vol_bars(vol), _defn("volume_crossover", 0))
    assert _symbols(out) == ["ESH4"] * 5 + ["ESM4"]
    assert out["is_roll"].to_list() == [False] * 5 + [True]


def test_open_interest_crossover_ignores_null_open_interest() -> None:
    oi = {d(11): (900, 100), d(12): (800, 200), d(13): (400, None), d(14): (300, 600), d(15): (100, 700)}
    out = build(_vol_bars(oi, oi=True), _defn("open_interest_crossover", 0))
    assert out.filter(pl.col("is_roll"))["trading_date"].to_list() == [d(15)]
    # with volume the crossover rule looks at volume (50 each: never crosses) -> roll after expiry
    assert build(_vol_bars(oi, oi=True), _defn("volume_crossover", 0)).height == 5


def test_input_order_does_not_matter() -> None:
    bars = make_bars(THREE, THREE_ROWS)
    defn = SeriesDefinition("s", "ES", "volume_crossover", 1, "backward_ratio")
    assert_frame_equal(build(bars, defn), build(bars.reverse(), defn), check_exact=True)


def test_output_schema_and_days_to_expiry() -> None:
    out = build(make_bars(TWO, TWO_ROWS), _defn(offset=2))
    assert out.schema["expiration"] == pl.Datetime("ns", "UTC")
    assert out.schema["open"] == pl.Int64 and out.schema["adj_open"] == pl.Float64
    assert out["days_to_expiry"].to_list() == [4, 3, 2, 99, 98, 95]
    empty = build(make_bars(TWO, TWO_ROWS).clear(), _defn())
    assert empty.is_empty() and empty.schema == out.schema


def test_bad_input_is_refused_with_a_reason() -> None:
    bars = make_bars(TWO, TWO_ROWS)
    with pytest.raises(SeriesError, match="2 bars for instrument_id 1 on 2024-03-11"):
        build(pl.concat([bars, bars.head(1)]), _defn())
    with pytest.raises(SeriesError, match="missing column.*settlement"):
        build(bars.drop("settlement"), _defn())
    with pytest.raises(SeriesError, match="has no month code"):
        build(bars.with_columns(symbol=pl.lit("ES-CONT")), _defn(allowed_months="H"))
    with pytest.raises(SeriesError, match="'close' has 1 null"):
        build(bars.with_columns(close=pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise("close")), _defn())

"""update(build(bars[:split]), bars) == build(bars), exactly, for random histories and split points."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from rst.errors import SeriesError
from rst.series import DEFAULT_LOOKBACK_DAYS, RollRule, SeriesDefinition, build, update

from .bars import d, make_bars
from .synth import definitions, histories, synth_bars


def _prefix(bars: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    """Bars with trading_date < end (end exclusive)."""
    return bars.filter(pl.col("trading_date") < end)


def _draw_split(data: st.DataObject, dates: list[dt.date], full: pl.DataFrame) -> int:
    """A split index in 1..len(dates)-1; half the time within 3 dates of a roll of ``full``."""
    rolls = [dates.index(x) for x in full.filter(pl.col("is_roll"))["trading_date"].to_list()]
    if rolls and data.draw(st.booleans(), label="near_roll"):
        at = data.draw(st.sampled_from(rolls)) + data.draw(st.integers(-3, 3))
        return min(max(at, 1), len(dates) - 1)
    return data.draw(st.integers(1, len(dates) - 1), label="split")


@settings(max_examples=80, deadline=None)
@given(hist=histories(), defn=definitions(), data=st.data())
def test_update_equals_full_build(hist, defn, data) -> None:  # type: ignore[no-untyped-def]
    """Floats compared exactly (check_exact): update recomputes every float the same way."""
    full = build(hist.bars, defn)
    if len(hist.dates) < 2:
        return
    split = _draw_split(data, hist.dates, full)
    lookback = data.draw(st.integers(0, 12), label="lookback")
    old = build(_prefix(hist.bars, hist.dates[split]), defn)
    got = update(old, hist.bars, defn, lookback_days=lookback)
    assert_frame_equal(got, full, check_exact=True)


@settings(max_examples=30, deadline=None)
@given(hist=histories(), defn=definitions(), data=st.data())
def test_chained_updates_equal_full_build(hist, defn, data) -> None:  # type: ignore[no-untyped-def]
    """Several successive daily-ish updates end where one full build does."""
    if len(hist.dates) < 4:
        return
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(hist.dates) - 1), min_size=1, max_size=4))))
    series = build(_prefix(hist.bars, hist.dates[cuts[0]]), defn)
    for cut in cuts[1:]:
        series = update(series, _prefix(hist.bars, hist.dates[cut]), defn, lookback_days=2)
    series = update(series, hist.bars, defn, lookback_days=2)
    assert_frame_equal(series, build(hist.bars, defn), check_exact=True)


def test_update_with_new_roll_rescales_history() -> None:
    """A roll that arrives with the new data changes the backward-adjusted history (and update sees it)."""
    hist = synth_bars(seed=7, n_contracts=3, n_days=60, spacing=20, p_missing=0.0, p_holiday=0.0, weekends=False)
    defn = SeriesDefinition("p", "ES", "days_before_expiry", 2, "backward_ratio")
    full = build(hist.bars, defn)
    first_roll = full.filter(pl.col("is_roll"))["trading_date"][0]
    old = build(_prefix(hist.bars, first_roll), defn)
    assert not old["is_roll"].any()
    assert (old["adjustment"] == 1.0).all()
    new = update(old, hist.bars, defn)
    assert_frame_equal(new, full, check_exact=True)
    assert (new.filter(pl.col("trading_date") < first_roll)["adjustment"] != 1.0).all()


def test_update_without_lookback_for_dbe_still_covers_roll_offset() -> None:
    """days_before_expiry re-selects at least roll_offset_days dates even with lookback_days=0.

    Near the data's end the trading-day count to an expiry beyond it is provisional
    (weekdays, holidays unknown), so a build on a prefix can hold another contract on
    its last dates than the full build does; the test checks such cases occur.
    """
    provisional_differs = 0
    for seed in range(3):
        hist = synth_bars(
            seed=seed, n_contracts=4, n_days=90, spacing=15, p_missing=0.1, p_holiday=0.15, weekends=False
        )
        for n_before in (3, 5):
            defn = SeriesDefinition("p", "ES", RollRule.DAYS_BEFORE_EXPIRY, n_before, "backward_additive")
            full = build(hist.bars, defn)
            for split in range(1, len(hist.dates)):
                old = build(_prefix(hist.bars, hist.dates[split]), defn)
                same_prefix = full.filter(pl.col("trading_date") < hist.dates[split]).select("instrument_id")
                provisional_differs += not old.select("instrument_id").equals(same_prefix)
                assert_frame_equal(update(old, hist.bars, defn, lookback_days=0), full, check_exact=True)
    assert provisional_differs > 0


def test_update_restarting_inside_a_delayed_roll_keeps_the_old_contract() -> None:
    """Restart date on a day where the roll is delayed: the seed (old contract) stays live.

    ESM4's volume exceeds ESH4's on the 12th, so the roll is due on the 13th, but ESM4 has
    no bar on the 13th: the series stays in ESH4 on the 13th and rolls on the 14th.
    """
    contracts = {"ESH4": (1, d(15)), "ESM4": (2, d(21, 6))}
    rows = [(d(day), "ESH4", 100 + day, 500) for day in (11, 12, 13, 14, 15)]
    rows += [(d(11), "ESM4", 120, 100), (d(12), "ESM4", 121, 900), (d(14), "ESM4", 123, 900)]
    bars = make_bars(contracts, rows)
    defn = SeriesDefinition("p", "ES", "volume_crossover", 0, "backward_additive")
    full = build(bars, defn)
    assert full["symbol"].to_list() == ["ESH4", "ESH4", "ESH4", "ESM4"]
    assert full["trading_date"].to_list() == [d(11), d(12), d(13), d(14)]
    old = build(bars.filter(pl.col("trading_date") <= d(13)), defn)
    assert_frame_equal(update(old, bars, defn, lookback_days=0), full, check_exact=True)


def test_update_of_empty_existing_is_full_build() -> None:
    hist = synth_bars(seed=1, n_contracts=3, n_days=40, spacing=10, p_missing=0.0, p_holiday=0.0, weekends=False)
    defn = SeriesDefinition("p", "ES", "volume_crossover", 0, "backward_additive")
    full = build(hist.bars, defn)
    assert full.height > 0
    assert_frame_equal(update(full.clear(), hist.bars, defn), full, check_exact=True)


def test_update_refuses_bars_that_do_not_cover_existing() -> None:
    hist = synth_bars(seed=2, n_contracts=3, n_days=60, spacing=12, p_missing=0.0, p_holiday=0.0, weekends=False)
    defn = SeriesDefinition("p", "ES", "days_before_expiry", 1, "backward_ratio")
    full = build(hist.bars, defn)
    recent = hist.bars.filter(pl.col("trading_date") >= hist.dates[len(hist.dates) // 2])
    with pytest.raises(SeriesError, match="no bar in `bars`"):
        update(full, recent, defn, lookback_days=DEFAULT_LOOKBACK_DAYS)
    with pytest.raises(SeriesError, match="lookback_days"):
        update(full, hist.bars, defn, lookback_days=-1)

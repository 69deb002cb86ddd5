"""Random synthetic contract histories for property tests (hypothesis draws the shape, numpy the bulk)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from hypothesis import strategies as st

from rst.series import MONTH_CODES, Adjustment, PriceField, RollRule, SeriesDefinition

TICK = 250_000_000  # 0.25 in fixed-point 1e-9
BASE = dt.date(2024, 1, 1)


@dataclass(frozen=True)
class History:
    """Bars plus the calendar they were drawn on (for split points)."""

    bars: pl.DataFrame
    dates: list[dt.date]


def synth_bars(
    seed: int,
    n_contracts: int,
    n_days: int,
    spacing: int,
    p_missing: float,
    p_holiday: float,
    weekends: bool,
) -> History:
    """Contracts expiring every ``spacing`` days, listed 10-80 days earlier; prices on a 0.25 tick grid.

    Volumes peak ~``spacing`` days before expiry, so volume migrates from one contract to the
    next (with noise, so crossovers can flip back); open interest and settlement have ~10% nulls;
    bars are missing with probability ``p_missing``; whole days with ``p_holiday``.
    """
    rng = np.random.default_rng(seed)
    days = [BASE + dt.timedelta(i) for i in range(n_days)]
    days = [x for x in days if (weekends or x.weekday() < 5) and rng.random() >= p_holiday]
    first_exp = BASE + dt.timedelta(int(rng.integers(2, max(3, spacing + 2))))
    common = np.cumsum(rng.integers(-4, 5, size=len(days))) * TICK + 4000 * 10**9
    rows: dict[str, list[object]] = {k: [] for k in (
        "trading_date", "instrument_id", "symbol", "expiration", "open", "high", "low", "close",
        "volume", "open_interest", "settlement",
    )}
    for k in range(n_contracts):
        exp = first_exp + dt.timedelta(spacing * k + int(rng.integers(0, 2)))
        listed = exp - dt.timedelta(int(rng.integers(10, 80)))
        iid = int(rng.integers(1, 2**32 - 1))
        sym = f"ES{MONTH_CODES[exp.month - 1]}{exp.year % 10}"
        basis = int(rng.integers(-40, 41)) * TICK
        for i, day in enumerate(days):
            if not listed <= day <= exp or rng.random() < p_missing:
                continue
            dte = (exp - day).days
            close = int(common[i]) + basis + int(rng.integers(-2, 3)) * TICK
            bump = np.exp(-(((dte - spacing) / (0.7 * spacing + 1)) ** 2))
            vol = max(0, int(1000 * bump) + int(rng.integers(0, 150)))
            rows["trading_date"].append(day)
            rows["instrument_id"].append(iid)
            rows["symbol"].append(sym)
            rows["expiration"].append(dt.datetime(exp.year, exp.month, exp.day, 14, 30, tzinfo=dt.UTC))
            rows["open"].append(close + int(rng.integers(-3, 4)) * TICK)
            rows["high"].append(close + int(rng.integers(4, 8)) * TICK)
            rows["low"].append(close - int(rng.integers(4, 8)) * TICK)
            rows["close"].append(close)
            rows["volume"].append(vol)
            rows["open_interest"].append(None if rng.random() < 0.1 else vol * 3 + int(rng.integers(0, 100)))
            rows["settlement"].append(None if rng.random() < 0.1 else close + int(rng.integers(-1, 2)) * TICK)
    bars = pl.DataFrame(rows, schema={
        "trading_date": pl.Date, "instrument_id": pl.UInt32, "symbol": pl.String,
        "expiration": pl.Datetime("ns", "UTC"), "open": pl.Int64, "high": pl.Int64, "low": pl.Int64,
        "close": pl.Int64, "volume": pl.UInt64, "open_interest": pl.Int64, "settlement": pl.Int64,
    })
    # shuffle: the library must not depend on input order
    bars = bars.sample(fraction=1.0, shuffle=True, seed=seed % 2**32)
    return History(bars, sorted(set(bars["trading_date"].to_list())))


@st.composite
def histories(draw: st.DrawFn) -> History:
    """A random history of 2-6 contracts over 20-120 days."""
    return synth_bars(
        seed=draw(st.integers(0, 2**32 - 1)),
        n_contracts=draw(st.integers(2, 6)),
        n_days=draw(st.integers(20, 120)),
        spacing=draw(st.integers(5, 30)),
        p_missing=draw(st.sampled_from([0.0, 0.05, 0.2, 0.4])),
        p_holiday=draw(st.sampled_from([0.0, 0.05, 0.15])),
        weekends=draw(st.booleans()),
    )


@st.composite
def definitions(draw: st.DrawFn, adjustment: Adjustment | None = None) -> SeriesDefinition:
    """A random series definition (any rule, offset 0-5, rank 0-2, some month filters)."""
    return SeriesDefinition(
        series_id="prop",
        parent="ES",
        roll_rule=draw(st.sampled_from(list(RollRule))),
        roll_offset_days=draw(st.integers(0, 5)),
        adjustment=adjustment or draw(st.sampled_from(list(Adjustment))),
        contract_rank=draw(st.sampled_from([0, 0, 0, 1, 2])),
        allowed_months=draw(st.sampled_from(["", "", "", "FHKNUX", "GJMQVZ"])),
        price_field=draw(st.sampled_from(list(PriceField))),
    )

"""Build and incrementally update a continuous series from per-contract daily bars.

:func:`build` is the definition of the output; :func:`update` must (and, by the
property test ``tests/series/test_incremental_equals_full.py``, does) return
exactly ``build(bars, defn)``, while re-running the roll selection only from a
restart date ``lookback`` trading dates before the existing series' last date.

Output (one row per trading date on which the live contract has a bar, sorted):

=================  ======================  =============================================
column             dtype                   meaning
=================  ======================  =============================================
trading_date       date                    exchange trading date
instrument_id      uint32                  live contract
symbol             str                     live contract, e.g. ``ESH4``
expiration         datetime[ns, UTC]       live contract's expiration
days_to_expiry     int32                   calendar days from trading_date to the
                                           expiration's UTC date
open..close        int64                   live contract's bar, fixed-point 1e-9 (exact)
adj_open..adj_close float64                adjusted, in price units (the one float)
volume             int64                   live contract's volume
open_interest      int64 (nullable)        live contract's open interest
adjustment         float64                 cumulative factor (ratio) or offset in price
                                           units (additive); 1.0 / 0.0 when none
is_roll            bool                    first row of a new live contract
=================  ======================  =============================================

See :mod:`rst.series.roll` for the selection and :mod:`rst.series.adjust` for
which prices on which day set each roll's adjustment.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from rst.calendars import TradingCalendar
from rst.errors import SeriesError
from rst.series.adjust import apply_adjustment, find_rolls
from rst.series.definition import RollRule, SeriesDefinition
from rst.series.roll import Panel, desired_positions, live_positions, prepare

DEFAULT_LOOKBACK_DAYS = 10
"""Trading dates before the existing series' last date that :func:`update` re-selects."""

SERIES_SCHEMA: dict[str, pl.DataType] = {
    "trading_date": pl.Date(),
    "instrument_id": pl.UInt32(),
    "symbol": pl.String(),
    "expiration": pl.Datetime("ns", "UTC"),
    "days_to_expiry": pl.Int32(),
    "open": pl.Int64(),
    "high": pl.Int64(),
    "low": pl.Int64(),
    "close": pl.Int64(),
    "adj_open": pl.Float64(),
    "adj_high": pl.Float64(),
    "adj_low": pl.Float64(),
    "adj_close": pl.Float64(),
    "volume": pl.Int64(),
    "open_interest": pl.Int64(),
    "adjustment": pl.Float64(),
    "is_roll": pl.Boolean(),
}
"""Columns and dtypes of a continuous series, in order."""


def _rows_from_live(panel: Panel, live: np.ndarray, start_t: int = 0) -> tuple[np.ndarray, np.ndarray]:
    ts = np.arange(start_t, panel.n_dates)
    c = live[start_t:]
    keep = (c >= 0) & panel.has_bar[ts, np.maximum(c, 0)]
    return ts[keep].astype(np.int64), c[keep].astype(np.int64)


def _assemble(panel: Panel, rows_t: np.ndarray, rows_c: np.ndarray, defn: SeriesDefinition) -> pl.DataFrame:
    if rows_t.size == 0:
        return pl.DataFrame(schema=SERIES_SCHEMA)
    keys = pl.DataFrame({"_t": rows_t, "_c": rows_c}, schema={"_t": pl.Int64, "_c": pl.Int64})
    rows = (
        keys.join(panel.bars, on=["_t", "_c"], how="left")
        .sort("_t")
        .with_columns(
            days_to_expiry=(pl.col("expiration").dt.date() - pl.col("trading_date")).dt.total_days().cast(pl.Int32),
            is_roll=(pl.col("_c") != pl.col("_c").shift(1)).fill_null(False),
        )
    )
    events = find_rolls(panel, rows_t, rows_c)
    out = apply_adjustment(rows, events, defn, panel)
    return out.select([pl.col(name).cast(dtype) for name, dtype in SERIES_SCHEMA.items()])


def build(bars: pl.DataFrame, defn: SeriesDefinition, calendar: TradingCalendar | None = None) -> pl.DataFrame:
    """The continuous series ``defn`` over ``bars`` (full build).

    ``bars``: per-contract daily bars of ``defn.parent`` (outrights), one row per
    (trading_date, instrument_id); prices int64 fixed-point 1e-9; see
    :data:`rst.series.roll.REQUIRED_COLUMNS`. ``calendar``: the parent's exchange
    calendar, counting ``days_before_expiry`` trading dates after the data's end
    (default :data:`rst.series.roll.DEFAULT_CALENDAR`). Returns a frame with
    :data:`SERIES_SCHEMA`, sorted by ``trading_date``, no duplicate dates.
    """
    panel = prepare(bars, defn, calendar)
    desired = desired_positions(panel, defn)
    live = live_positions(panel, desired)
    rows_t, rows_c = _rows_from_live(panel, live)
    return _assemble(panel, rows_t, rows_c, defn)


def update(
    existing: pl.DataFrame,
    bars: pl.DataFrame,
    defn: SeriesDefinition,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    calendar: TradingCalendar | None = None,
) -> pl.DataFrame:
    """Extend ``existing`` (a previous ``build``/``update`` of ``defn``) with new bars.

    Equals ``build(bars, defn)`` row for row, provided that ``bars`` is the full
    bar history (the same input a full build would get) and that bars before the
    restart date are unchanged since ``existing`` was built.

    The restart date ``S`` is ``lookback_days`` trading dates before the last date
    of ``existing``; for ``days_before_expiry`` it is ``max(lookback_days, N)``
    (``N = roll_offset_days``) when the new dates after that last date are not
    exactly the exchange calendar's trade dates (a missing day, or data on a
    holiday), since ``existing`` counted the calendar's dates beyond its end.
    Rows before ``S`` keep their live contract from ``existing``; the live
    contract from ``S`` on is re-selected, seeded with the live contract of the
    last existing row before ``S``. The adjustment of *all* rows is recomputed
    (vectorised; a new roll rescales history under backward methods), and all
    prices are re-read from ``bars``. Revisions to bars before ``S`` need a full
    :func:`build`.
    """
    if lookback_days < 0:
        raise SeriesError(f"lookback_days: {lookback_days} is not an integer >= 0")
    if existing.height == 0:
        return build(bars, defn, calendar)
    panel = prepare(bars, defn, calendar)
    if panel.n_dates == 0:
        raise SeriesError(f"series '{defn.series_id}': bars are empty but the existing series is not")
    last_old = np.datetime64(existing.get_column("trading_date").max(), "D")  # type: ignore[call-overload]
    idx_old = int(np.searchsorted(panel.dates, last_old))
    if idx_old >= panel.n_dates or panel.dates[idx_old] != last_old:
        raise SeriesError(
            f"series '{defn.series_id}': the existing series ends on {last_old}, a date with no bar in "
            "`bars`; pass the full bar history or run a full build"
        )
    lookback = lookback_days
    if defn.roll_rule is RollRule.DAYS_BEFORE_EXPIRY and not _follows_calendar(panel, idx_old):
        lookback = max(lookback, defn.roll_offset_days)
    start_t = max(0, idx_old - lookback)
    restart = panel.date_at(start_t)

    hist = (
        existing.filter(pl.col("trading_date") < restart)
        .select(
            pl.col("trading_date").cast(pl.Date),
            pl.col("instrument_id").cast(pl.UInt32),
            pl.col("expiration").dt.convert_time_zone("UTC").dt.cast_time_unit("ns"),
        )
        .join(
            panel.bars.select("trading_date", "instrument_id", "expiration", "_t", "_c"),
            on=["trading_date", "instrument_id", "expiration"],
            how="left",
        )
        .sort("trading_date")
    )
    if hist["_t"].null_count():
        bad = hist.filter(pl.col("_t").is_null()).row(0, named=True)
        raise SeriesError(
            f"series '{defn.series_id}': existing row {bad['trading_date']} (instrument_id "
            f"{bad['instrument_id']}) has no bar in `bars`; pass the full bar history or run a full build"
        )
    hist_t = hist["_t"].to_numpy().astype(np.int64)
    hist_c = hist["_c"].to_numpy().astype(np.int64)
    seed = int(hist_c[-1]) if hist_c.size else -1

    desired = desired_positions(panel, defn)
    live = live_positions(panel, desired, start_t=start_t, seed=seed)
    new_t, new_c = _rows_from_live(panel, live, start_t)
    return _assemble(panel, np.concatenate([hist_t, new_t]), np.concatenate([hist_c, new_c]), defn)


def _follows_calendar(panel: Panel, idx_old: int) -> bool:
    """Whether the dates after calendar index ``idx_old`` are exactly the exchange's trade dates up to the end."""
    new = panel.dates[idx_old + 1 :]
    if new.size == 0:
        return True
    days = np.arange(panel.dates[idx_old] + 1, new[-1] + 1, dtype="datetime64[D]")
    return bool(np.array_equal(new, days[panel.exchange_calendar.is_trading_day(days)]))


ROLL_EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "roll_date": pl.Date(),
    "from_instrument_id": pl.UInt32(),
    "from_symbol": pl.String(),
    "to_instrument_id": pl.UInt32(),
    "to_symbol": pl.String(),
    "ref_date": pl.Date(),
    "from_price": pl.Int64(),
    "to_price": pl.Int64(),
    "gap": pl.Float64(),
    "ratio": pl.Float64(),
}
"""Columns of :func:`roll_events`."""


def roll_events(
    series: pl.DataFrame, bars: pl.DataFrame, defn: SeriesDefinition, calendar: TradingCalendar | None = None
) -> pl.DataFrame:
    """One row per roll of ``series`` (a :func:`build` output): which prices on which day set it.

    ``roll_date``: first day of the new contract; ``ref_date``: the roll reference
    day (null for a forced roll without overlap, which is not adjusted);
    ``from_price``/``to_price``: the two contracts' ``price_field`` on ``ref_date``
    (int64 fixed-point 1e-9); ``gap = (to - from) / 1e9`` in price units; ``ratio =
    to / from`` (null when a price is not positive).
    """
    panel = prepare(bars, defn, calendar)
    rows = (
        series.select("trading_date", "instrument_id", "expiration")
        .join(
            panel.bars.select("trading_date", "instrument_id", "expiration", "_t", "_c"),
            on=["trading_date", "instrument_id", "expiration"],
            how="inner",
        )
        .sort("_t")
    )
    if rows.height != series.height:
        raise SeriesError(f"series '{defn.series_id}': some series rows have no bar in `bars`")
    events = find_rolls(panel, rows["_t"].to_numpy(), rows["_c"].to_numpy())
    ids = panel.contracts["instrument_id"].to_list()
    syms = panel.contracts["symbol"].to_list()
    data = {
        "roll_date": [panel.date_at(e.roll_t) for e in events],
        "from_instrument_id": [ids[e.from_c] for e in events],
        "from_symbol": [syms[e.from_c] for e in events],
        "to_instrument_id": [ids[e.to_c] for e in events],
        "to_symbol": [syms[e.to_c] for e in events],
        "ref_date": [panel.date_at(e.ref_t) if e.ref_t is not None else None for e in events],
        "from_price": [e.from_price for e in events],
        "to_price": [e.to_price for e in events],
        "gap": [e.gap / 1e9 if e.ref_t is not None else None for e in events],
        "ratio": [
            e.to_price / e.from_price
            if e.from_price is not None and e.to_price is not None and e.from_price > 0 and e.to_price > 0
            else None
            for e in events
        ],
    }
    return pl.DataFrame(data, schema=ROLL_EVENTS_SCHEMA)

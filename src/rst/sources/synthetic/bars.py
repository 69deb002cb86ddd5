"""OHLCV bars (ohlcv-1h, ohlcv-1d) for a parent's outrights, and daily bars for its calendar spreads.

Built column-wise over a (contract, day) x 24-hour grid, no per-bar Python. Hourly bars exist for
Globex hours in which a contract traded (volume > 0), between its activation and expiration.
The daily bar of a UTC weekday (ts_event 00:00 UTC) aggregates exactly that day's hourly bars:
open of the first, close of the last, max high, min low, summed volume. Sunday-evening hours
have hourly bars but no daily bar (daily bars are weekdays only). Prices are int64 fixed-point
1e-9 on the parent's tick grid; outright prices are positive, spread prices may be negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from databento_dbn import OHLCVMsg, RType

from rst.sources.synthetic import noise, prices, volume
from rst.sources.synthetic.calendar import NS_PER_DAY, NS_PER_HOUR, weekday
from rst.sources.synthetic.contracts import Contract, Spread, contracts_between, spreads_between
from rst.sources.synthetic.parents import Parent

GLBX_PUBLISHER_ID = 1
"""Databento publisher id of GLBX.MDP3 (CME Globex MDP 3.0)."""
OHLCV_DTYPE = np.dtype(OHLCVMsg._dtypes)
"""Record layout of OHLCV bars; identical in DBN v2 and v3."""

STREAM_SPREAD_WICK_HI = 21
STREAM_SPREAD_WICK_LO = 22


@dataclass(frozen=True)
class ContractDays:
    """Hourly grid of a parent's outrights over a day-aligned window.

    Row ``r`` is contract ``contracts[row_contract[r]]`` on day ``days[row_day[r]]``; hourly
    arrays are ``(rows, 24)``: prices in ticks (int64), volume 0 where no bar exists.
    """

    parent: Parent
    contracts: tuple[Contract, ...]
    days: np.ndarray
    row_contract: np.ndarray
    row_day: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    parent_volume: np.ndarray
    """Whole-parent volume per day of ``days`` (float)."""

    @property
    def row_day_number(self) -> np.ndarray:
        """Day number of each row."""
        return self.days[self.row_day]


def day_window(start: int, end: int) -> tuple[int, int]:
    """Day numbers ``[first, last)`` covering ``[start, end)`` UTC ns."""
    return start // NS_PER_DAY, -(-end // NS_PER_DAY)


def contract_days(parent: Parent, seed: int, start: int, end: int) -> ContractDays:
    """The hourly grid of every outright of ``parent`` over the days touching ``[start, end)`` UTC ns.

    Values on a day do not depend on the window (listing uses the day-aligned window).
    """
    first_day, last_day = day_window(start, end)
    days = np.arange(first_day, last_day, dtype=np.int64)
    contracts = contracts_between(parent, first_day * NS_PER_DAY, last_day * NS_PER_DAY)
    parts_c, parts_d = [], []
    for i, c in enumerate(contracts):
        lo = max(first_day, c.activation // NS_PER_DAY)
        hi = min(last_day, (c.expiration - 1) // NS_PER_DAY + 1)
        if hi > lo:
            parts_d.append(np.arange(lo - first_day, hi - first_day, dtype=np.int64))
            parts_c.append(np.full(hi - lo, i, dtype=np.int64))
    row_contract = np.concatenate(parts_c) if parts_c else np.zeros(0, dtype=np.int64)
    row_day = np.concatenate(parts_d) if parts_d else np.zeros(0, dtype=np.int64)

    spot = prices.hourly_spot(parent, seed, days)
    expiration = np.array([c.expiration for c in contracts], dtype=np.int64)[row_contract]
    activation = np.array([c.activation for c in contracts], dtype=np.int64)[row_contract]
    day_ns = days[row_day] * NS_PER_DAY
    hour_ns = day_ns[:, None] + np.arange(24, dtype=np.int64)[None, :] * NS_PER_HOUR
    tradable = spot.open_mask[row_day] & (hour_ns >= activation[:, None]) & (hour_ns < expiration[:, None])

    factor = prices.carry_factor(parent, expiration, day_ns)[:, None]
    o = prices.to_ticks(parent, spot.open[row_day] * factor)
    h = prices.to_ticks(parent, spot.high[row_day] * factor)
    lo_ = prices.to_ticks(parent, spot.low[row_day] * factor)
    c_ = prices.to_ticks(parent, spot.close[row_day] * factor)

    parent_volume = volume.parent_daily_volume(parent, seed, days, spot.open_mask.sum(axis=1))
    shares = volume.contract_shares(contracts, row_contract, row_day, days)
    instrument = np.array([c.instrument_id for c in contracts], dtype=np.int64)[row_contract]
    daily_vol = volume.contract_daily_volume(
        parent, seed, parent_volume[row_day], shares, instrument, days[row_day]
    )
    hourly_vol = volume.split_hourly(daily_vol, volume.intraday_profile(spot.local_hour[row_day], tradable))
    return ContractDays(
        parent=parent,
        contracts=contracts,
        days=days,
        row_contract=row_contract,
        row_day=row_day,
        open=o,
        high=h,
        low=lo_,
        close=c_,
        volume=hourly_vol,
        parent_volume=parent_volume,
    )


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=OHLCV_DTYPE)


def _records(rtype: int, instrument: np.ndarray, ts: np.ndarray, tick: int, o: np.ndarray,
             h: np.ndarray, lo: np.ndarray, c: np.ndarray, vol: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ts), dtype=OHLCV_DTYPE)
    out["length"] = OHLCV_DTYPE.itemsize // 4
    out["rtype"] = rtype
    out["publisher_id"] = GLBX_PUBLISHER_ID
    out["instrument_id"] = instrument
    out["ts_event"] = ts
    out["open"] = o * tick
    out["high"] = h * tick
    out["low"] = lo * tick
    out["close"] = c * tick
    out["volume"] = vol
    return out


def hourly_bars(grid: ContractDays, start: int, end: int) -> np.ndarray:
    """ohlcv-1h records of the outrights with ts_event in ``[start, end)``, sorted by (ts_event, instrument_id)."""
    rows, hours = np.nonzero(grid.volume > 0)
    ts = grid.row_day_number[rows] * NS_PER_DAY + hours * NS_PER_HOUR
    keep = (ts >= start) & (ts < end)
    rows, hours, ts = rows[keep], hours[keep], ts[keep]
    instrument = np.array([c.instrument_id for c in grid.contracts], dtype=np.int64)[grid.row_contract[rows]]
    out = _records(
        int(RType.OHLCV_1H), instrument, ts, grid.parent.tick,
        grid.open[rows, hours], grid.high[rows, hours], grid.low[rows, hours],
        grid.close[rows, hours], grid.volume[rows, hours],
    )
    return out[np.lexsort((out["instrument_id"], out["ts_event"]))]


@dataclass(frozen=True)
class DailyBars:
    """Daily bars of outrights in ticks, one per (contract, weekday) with volume."""

    row: np.ndarray
    """Row of the contract-day grid."""
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def aggregate_daily(grid: ContractDays) -> DailyBars:
    """Daily OHLCV per grid row on weekdays, aggregating the row's hourly bars."""
    traded = grid.volume > 0
    rows = np.nonzero(traded.any(axis=1) & (weekday(grid.row_day_number) < 5))[0]
    t = traded[rows]
    first = np.argmax(t, axis=1)
    last = 23 - np.argmax(t[:, ::-1], axis=1)
    big = np.iinfo(np.int64).max
    return DailyBars(
        row=rows,
        open=grid.open[rows, first],
        high=np.where(t, grid.high[rows], -big).max(axis=1),
        low=np.where(t, grid.low[rows], big).min(axis=1),
        close=grid.close[rows, last],
        volume=grid.volume[rows].sum(axis=1),
    )


def _spread_daily(grid: ContractDays, daily: DailyBars, spreads: tuple[Spread, ...], seed: int
                  ) -> tuple[np.ndarray, ...]:
    """Daily bars of calendar spreads on days both legs have one: instrument, day number, OHLC ticks, volume.

    Priced front minus back (may be negative); volume is heavier while the front leg is the
    parent's front contract, growing through the migration window.
    """
    n_days = len(grid.days)
    lookup = np.full((len(grid.contracts), n_days), -1, dtype=np.int64)
    lookup[grid.row_contract[daily.row], grid.row_day[daily.row]] = np.arange(len(daily.row))
    index = {c.instrument_id: i for i, c in enumerate(grid.contracts)}
    first_day = int(grid.days[0])
    legs: list[tuple[int, int, int]] = []
    pair_parts: list[np.ndarray] = []
    day_parts: list[np.ndarray] = []
    for s in spreads:
        if s.front.instrument_id not in index or s.back.instrument_id not in index:
            continue
        lo = max(0, s.activation // NS_PER_DAY - first_day)
        hi = min(n_days, s.expiration // NS_PER_DAY - first_day + 1)
        if hi > lo:
            pair_parts.append(np.full(hi - lo, len(legs), dtype=np.int64))
            day_parts.append(np.arange(lo, hi, dtype=np.int64))
            legs.append((s.instrument_id, index[s.front.instrument_id], index[s.back.instrument_id]))
    if not legs:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(7))
    ids, front, back = (np.array(col, dtype=np.int64) for col in zip(*legs, strict=True))
    pair, day_idx = np.concatenate(pair_parts), np.concatenate(day_parts)
    fr, br = lookup[front[pair], day_idx], lookup[back[pair], day_idx]
    ok = (fr >= 0) & (br >= 0)
    pair, day_idx, fr, br = pair[ok], day_idx[ok], fr[ok], br[ok]
    inst, days = ids[pair], grid.days[day_idx]
    o = daily.open[fr] - daily.open[br]
    c = daily.close[fr] - daily.close[br]
    wick_hi = np.floor(3 * noise.uniform(seed, STREAM_SPREAD_WICK_HI, inst, days)).astype(np.int64)
    wick_lo = np.floor(3 * noise.uniform(seed, STREAM_SPREAD_WICK_LO, inst, days)).astype(np.int64)
    front_of_day, progress = volume.roll_progress(grid.contracts, grid.days)
    active = front_of_day[day_idx] == front[pair]
    share = np.where(active, 0.003 + 0.06 * progress[day_idx], 0.001)
    jitter = np.exp(0.4 * noise.normal(seed, volume.STREAM_SPREAD_VOLUME, inst, days))
    vol = np.rint(grid.parent_volume[day_idx] * share * jitter).astype(np.int64)
    keep = vol > 0
    return tuple(
        col[keep]
        for col in (inst, days, o, np.maximum(o, c) + wick_hi, np.minimum(o, c) - wick_lo, c, vol)
    )


def daily_bars(grid: ContractDays, start: int, end: int, seed: int, *, spreads: bool = True) -> np.ndarray:
    """ohlcv-1d records with ts_event in ``[start, end)``, outrights and (optionally) spreads.

    Sorted by (ts_event, instrument_id).
    """
    daily = aggregate_daily(grid)
    instrument = np.array([c.instrument_id for c in grid.contracts], dtype=np.int64)[grid.row_contract[daily.row]]
    day_numbers = grid.row_day_number[daily.row]
    cols = [[instrument], [day_numbers], [daily.open], [daily.high], [daily.low], [daily.close], [daily.volume]]
    if spreads:
        first_day, last_day = int(grid.days[0]), int(grid.days[-1]) + 1
        legs = spreads_between(grid.parent, first_day * NS_PER_DAY, last_day * NS_PER_DAY)
        for col, extra in zip(cols, _spread_daily(grid, daily, legs, seed), strict=True):
            col.append(extra)
    inst, dayn, o, h, lo, c, vol = (np.concatenate(col) for col in cols)
    ts = dayn * NS_PER_DAY
    keep = (ts >= start) & (ts < end)
    out = _records(int(RType.OHLCV_1D), inst[keep], ts[keep], grid.parent.tick,
                   o[keep], h[keep], lo[keep], c[keep], vol[keep])
    return out[np.lexsort((out["instrument_id"], out["ts_event"]))]


def ohlcv_records(parent: Parent, seed: int, start: int, end: int, rtype: int) -> np.ndarray:
    """ohlcv-1h (``RType.OHLCV_1H``) or ohlcv-1d (``RType.OHLCV_1D``) records of one parent in ``[start, end)``."""
    if end <= start:
        return _empty()
    grid = contract_days(parent, seed, start, end)
    if len(grid.row_contract) == 0:
        return _empty()
    if rtype == int(RType.OHLCV_1H):
        return hourly_bars(grid, start, end)
    if rtype == int(RType.OHLCV_1D):
        return daily_bars(grid, start, end, seed)
    raise ValueError(f"not an OHLCV rtype this module generates: {rtype}")

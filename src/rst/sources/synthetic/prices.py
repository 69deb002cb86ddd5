"""Price paths: a per-parent spot process, hourly paths within each UTC day, contract prices on the tick grid.

The spot is a mean-reverting random walk in log price (Ornstein-Uhlenbeck around the parent's
``start_price``, half-life ~2.5 years), defined on every UTC day from 1980 to 2100 from
counter-based noise, so any window is a slice of the same history. Within a day the hourly path
is a Brownian bridge between that day's and the next day's spot, moving only in Globex hours.
A contract's price is spot x (1 + carry x years to expiry), rounded to the tick grid.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

import numpy as np

from rst.sources.synthetic import noise
from rst.sources.synthetic.calendar import NS_PER_DAY, day_of, globex_session, weekday
from rst.sources.synthetic.parents import Parent

FIRST_YEAR = 1980
"""Earliest year the generator covers."""
END_YEAR = 2100
"""The generator covers days before 1 January of this year."""
FIRST_DAY = day_of(dt.date(FIRST_YEAR, 1, 1))
END_DAY = day_of(dt.date(END_YEAR, 1, 1))

_TRADING_DAYS_PER_YEAR = 252
_HOURS_PER_TRADING_DAY = 23
_HALF_LIFE_YEARS = 2.5
_BLOCK = 366

# noise streams
STREAM_DAILY = 1
STREAM_HOURLY = 2
STREAM_HIGH = 3
STREAM_LOW = 4


@functools.lru_cache(maxsize=128)
def spot_log_levels(parent: Parent, seed: int) -> np.ndarray:
    """log(spot / start_price) at 00:00 UTC of each day from ``FIRST_DAY`` to ``END_DAY`` inclusive.

    Index ``i`` is day ``FIRST_DAY + i``. The process moves on weekdays only (a weekend day's
    value equals the next Monday's).
    """
    days = np.arange(FIRST_DAY, END_DAY, dtype=np.int64)
    sigma = parent.annual_vol / math.sqrt(_TRADING_DAYS_PER_YEAR)
    trading = weekday(days) < 5
    shocks = np.where(trading, sigma * noise.normal(seed, STREAM_DAILY, parent.number, days), 0.0)
    phi = np.where(trading, math.exp(-math.log(2) / (_HALF_LIFE_YEARS * _TRADING_DAYS_PER_YEAR)), 1.0)
    levels = np.empty(days.size + 1, dtype=np.float64)
    levels[0] = 0.0
    # x[k+1] = phi[k] * x[k] + shock[k], solved in closed form block by block (stable for short blocks)
    for lo in range(0, days.size, _BLOCK):
        hi = min(lo + _BLOCK, days.size)
        cum_phi = np.cumprod(phi[lo:hi])
        levels[lo + 1 : hi + 1] = cum_phi * (levels[lo] + np.cumsum(shocks[lo:hi] / cum_phi))
    levels.flags.writeable = False
    return levels


def daily_spot(parent: Parent, seed: int, days: np.ndarray) -> np.ndarray:
    """Spot price (float, price units) at 00:00 UTC of each day number."""
    days = np.asarray(days, dtype=np.int64)
    return parent.start_price * np.exp(spot_log_levels(parent, seed)[days - FIRST_DAY])


@dataclass(frozen=True)
class HourlySpot:
    """Spot OHLC per UTC hour, arrays shaped ``(len(days), 24)``; hour ``h`` starts at day + h hours.

    Closed hours carry the previous price and ``open_mask`` false.
    """

    days: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    open_mask: np.ndarray
    local_hour: np.ndarray


def hourly_spot(parent: Parent, seed: int, days: np.ndarray) -> HourlySpot:
    """Hourly spot paths for the given (distinct) UTC day numbers."""
    days = np.asarray(days, dtype=np.int64)
    open_mask, local_hour = globex_session(days)
    levels = spot_log_levels(parent, seed)
    x0 = levels[days - FIRST_DAY][:, None]
    x1 = levels[days - FIRST_DAY + 1][:, None]
    sigma_h = parent.annual_vol / math.sqrt(_TRADING_DAYS_PER_YEAR * _HOURS_PER_TRADING_DAY)
    hours = np.arange(24, dtype=np.int64)[None, :]
    eps = noise.normal(seed, STREAM_HOURLY, parent.number, days[:, None], hours) * open_mask
    walk = np.cumsum(eps, axis=1)
    elapsed = np.cumsum(open_mask, axis=1).astype(np.float64)
    total = np.maximum(elapsed[:, -1:], 1.0)
    frac = elapsed / total
    bridge = walk - frac * walk[:, -1:]
    log_close = x0 + frac * (x1 - x0) + sigma_h * bridge
    log_open = np.concatenate([x0, log_close[:, :-1]], axis=1)
    wick_hi = 0.6 * sigma_h * np.abs(noise.normal(seed, STREAM_HIGH, parent.number, days[:, None], hours))
    wick_lo = 0.6 * sigma_h * np.abs(noise.normal(seed, STREAM_LOW, parent.number, days[:, None], hours))
    log_high = np.maximum(log_open, log_close) + wick_hi * open_mask
    log_low = np.minimum(log_open, log_close) - wick_lo * open_mask
    scale = parent.start_price
    return HourlySpot(
        days=days,
        open=scale * np.exp(log_open),
        high=scale * np.exp(log_high),
        low=scale * np.exp(log_low),
        close=scale * np.exp(log_close),
        open_mask=open_mask,
        local_hour=local_hour,
    )


def carry_factor(parent: Parent, expiration: np.ndarray, day_ns: np.ndarray) -> np.ndarray:
    """Contract price over spot: ``1 + carry * years to expiry`` (floored at 0.5)."""
    years = (np.asarray(expiration, dtype=np.int64) - np.asarray(day_ns, dtype=np.int64)) / (365.25 * NS_PER_DAY)
    return np.maximum(1.0 + parent.carry * np.maximum(years, 0.0), 0.5)


def to_ticks(parent: Parent, price: np.ndarray) -> np.ndarray:
    """Float prices rounded to the nearest tick, as a tick count (int64, at least 1).

    Rounding is monotone, so ``high >= max(open, close)`` survives it.
    """
    return np.maximum(np.rint(price / parent.tick_price), 1.0).astype(np.int64)

"""Volume: the parent's daily volume, its split across contracts (with migration ahead of the roll), and across hours.

The front contract is the first liquid contract whose roll point is still ahead. Over the
parent's ``migration_days`` business days before that roll point its share falls from ~90% to
~4% while the next liquid contract's share rises; later contracts are thin, non-liquid months
thinner, and a rolled-out front keeps a trickle until it expires.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rst.sources.synthetic import noise
from rst.sources.synthetic.calendar import NS_PER_DAY
from rst.sources.synthetic.contracts import Contract
from rst.sources.synthetic.parents import Parent

STREAM_PARENT_VOLUME = 11
STREAM_CONTRACT_VOLUME = 12
STREAM_SPREAD_VOLUME = 13

_FRONT_START, _NEXT_START, _SHIFT = 0.90, 0.06, 0.86


def parent_daily_volume(parent: Parent, seed: int, days: np.ndarray, open_hours: np.ndarray) -> np.ndarray:
    """Whole-parent volume per UTC day (float), proportional to the day's open Globex hours."""
    days = np.asarray(days, dtype=np.int64)
    jitter = np.exp(0.3 * noise.normal(seed, STREAM_PARENT_VOLUME, parent.number, days) - 0.045)
    return parent.daily_volume * jitter * (np.asarray(open_hours, dtype=np.float64) / 23.0)


def roll_progress(contracts: Sequence[Contract], days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per day: index of the front contract in ``contracts`` (-1 if none) and migration progress in [0, 1].

    ``contracts`` must be ordered by expiration. Progress is 0 until ``migration_days`` business
    days before the front's roll point and reaches 1 on the last business day before it.
    """
    days = np.asarray(days, dtype=np.int64)
    liquid = [i for i, c in enumerate(contracts) if c.liquid]
    if not liquid:
        return np.full(days.shape, -1, dtype=np.int64), np.zeros(days.shape)
    rolls = np.array([contracts[i].roll for i in liquid], dtype=np.int64)
    pos = np.searchsorted(rolls, days * NS_PER_DAY, side="right")
    has_front = pos < len(liquid)
    pos_clipped = np.minimum(pos, len(liquid) - 1)
    front = np.where(has_front, np.asarray(liquid, dtype=np.int64)[pos_clipped], -1)
    roll_day = rolls[pos_clipped] // NS_PER_DAY
    bdays = np.busday_count(days.astype("datetime64[D]"), roll_day.astype("datetime64[D]"))
    window = contracts[liquid[0]].parent.migration_days
    progress = np.clip((window - bdays + 1) / window, 0.0, 1.0)
    return front, np.where(has_front, progress, 0.0)


def contract_shares(
    contracts: Sequence[Contract], row_contract: np.ndarray, row_day: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Share of the parent's volume for each (contract, day) row; shares of a day sum to 1.

    ``row_day`` indexes ``days``; ``row_contract`` indexes ``contracts``.
    """
    front, progress = roll_progress(contracts, days)
    liquid_rank = np.cumsum([c.liquid for c in contracts]) - 1
    is_liquid = np.array([c.liquid for c in contracts], dtype=bool)[row_contract]
    front_rank = np.where(front[row_day] >= 0, liquid_rank[np.maximum(front[row_day], 0)], 10**6)
    k = liquid_rank[row_contract] - front_rank
    m = progress[row_day]
    weight = np.select(
        [k < 0, k == 0, k == 1],
        [np.full(k.shape, 0.01), _FRONT_START - _SHIFT * m, _NEXT_START + _SHIFT * m],
        default=0.02 / np.exp2(np.maximum(k - 2, 0)),
    )
    weight = np.where(is_liquid, weight, 0.004)
    totals = np.bincount(row_day, weights=weight, minlength=len(days))
    return weight / totals[row_day]


def contract_daily_volume(
    parent: Parent,
    seed: int,
    parent_volume: np.ndarray,
    shares: np.ndarray,
    row_instrument: np.ndarray,
    row_day_number: np.ndarray,
) -> np.ndarray:
    """Integer volume per (contract, day) row: parent volume x share x per-contract jitter."""
    jitter = np.exp(0.25 * noise.normal(seed, STREAM_CONTRACT_VOLUME, row_instrument, row_day_number) - 0.03)
    return np.rint(parent_volume * shares * jitter).astype(np.int64)


def intraday_profile(local_hour: np.ndarray, tradable: np.ndarray) -> np.ndarray:
    """Relative volume weight per hour: heavy in the US day session (08:00-15:00 Chicago), light overnight."""
    weight = np.select(
        [(local_hour >= 8) & (local_hour <= 14), local_hour == 7, (local_hour >= 17) & (local_hour <= 19)],
        [5.0, 2.0, 0.8],
        default=0.5,
    )
    return weight * tradable


def split_hourly(volume: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each row's integer volume over 24 hours in proportion to ``weights``; rows sum exactly.

    Rows whose weights are all zero get no volume.
    """
    totals = weights.sum(axis=1, keepdims=True)
    share = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    volume = np.where(totals[:, 0] > 0, volume, 0)
    hourly = np.floor(volume[:, None] * share).astype(np.int64)
    remainder = volume - hourly.sum(axis=1)
    hourly[np.arange(len(volume)), np.argmax(share, axis=1)] += remainder
    return hourly

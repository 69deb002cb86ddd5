"""Roll adjustments: which prices set each roll's gap, and how history is shifted.

The rule, exactly
-----------------
A **roll** is a row whose live contract ``N`` differs from the previous row's
contract ``O``; its date ``R`` is the first day of ``N`` (``is_roll`` is True on
it). The selection guarantees ``N`` has a bar on ``R``.

The **roll reference day** ``D`` is the latest trading date strictly before
``R`` on which *both* ``O`` and ``N`` have a non-null ``price_field`` (``close``
or ``settlement``). Normally that is the series' previous trading date; when
either contract is missing a bar (or a settlement) on that date, ``D`` is the
last earlier date where both exist, so a missing bar never creates a gap. The
selection delays a roll until such a day exists; only a *forced* roll (``O``
already expired, the two never overlapped) has no ``D``, and then the roll
carries no adjustment (gap 0, ratio 1) and the price jump stays.

With ``o = O.price_field(D)`` and ``n = N.price_field(D)`` (int64 fixed-point
1e-9):

* additive gap ``g = n - o`` (exact integer),
* ratio ``r = n / o`` (exact rational; ``o`` and ``n`` must be > 0, else
  ``SeriesError``).

Methods (segment ``j`` = rows of the ``j``-th live contract, rolls ``1..m``):

* ``backward_additive`` (Panama): rows before roll ``i`` get ``+ g_i``; the
  cumulative offset of segment ``j`` is ``sum(g_i for i > j)``; the latest
  contract is unadjusted. ``adj = (price + offset) / 1e9`` (integer sum, then one correctly
  rounded division).
* ``backward_ratio``: rows before roll ``i`` are multiplied by ``r_i``; the
  cumulative factor of segment ``j`` is ``float(prod(r_i for i > j))`` (product
  computed exactly with ``fractions.Fraction``, rounded once);
  ``adj = float(price) * factor / 1e9``.
* ``forward_additive``: history stays; rows from roll ``i`` on get ``- g_i``;
  the offset of segment ``j`` is ``-sum(g_i for i <= j)``; the first contract is
  unadjusted.
* ``none``: ``adj = price / 1e9``; the jumps remain.

The ``adjustment`` column holds the cumulative factor (ratio) or the cumulative
offset in price units (additive, ``offset / 1e9``); it is 1.0 for an
unadjusted ratio segment and 0.0 for an unadjusted additive segment and for
``none``.

Adjusted prices are float64 in price units (fixed-point / 1e9): the one place
where floats appear in rst. Every float is a deterministic function of exact
integers and exact rationals, so a full build and an incremental update agree
bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import polars as pl

from rst.errors import SeriesError
from rst.series.definition import Adjustment, SeriesDefinition
from rst.series.roll import Panel

PRICE_SCALE = 1_000_000_000
"""Fixed-point scale of int64 prices: 1 unit = 1e-9."""

_PRICES = ("open", "high", "low", "close")


@dataclass(frozen=True)
class RollEvent:
    """One roll: on ``roll_t`` the series moves from chain position ``from_c`` to ``to_c``.

    ``ref_t`` is the reference day's calendar index (None for a forced roll);
    ``from_price``/``to_price`` the two ``price_field`` values on it (int64
    fixed-point 1e-9).
    """

    roll_t: int
    from_c: int
    to_c: int
    ref_t: int | None
    from_price: int | None
    to_price: int | None

    @property
    def gap(self) -> int:
        """Additive gap ``to_price - from_price`` (fixed-point 1e-9; 0 when forced)."""
        if self.from_price is None or self.to_price is None:
            return 0
        return self.to_price - self.from_price

    def ratio(self, series_id: str, panel: Panel) -> Fraction:
        """Exact ratio ``to_price / from_price`` (1 when forced); both must be > 0."""
        if self.from_price is None or self.to_price is None:
            return Fraction(1)
        if self.from_price <= 0 or self.to_price <= 0:
            raise SeriesError(
                f"series '{series_id}': backward_ratio needs positive prices, but the roll on "
                f"{panel.date_at(self.roll_t)} has reference prices {self.from_price}/{self.to_price} "
                f"(fixed 1e-9) on {panel.date_at(self.ref_t or 0)}; use an additive adjustment"
            )
        return Fraction(self.to_price, self.from_price)


def find_rolls(panel: Panel, rows_t: np.ndarray, rows_c: np.ndarray) -> list[RollEvent]:
    """Roll events of a series given its rows (calendar index, chain position), sorted by date."""
    events: list[RollEvent] = []
    if rows_t.size < 2:
        return events
    change = np.flatnonzero(rows_c[1:] != rows_c[:-1]) + 1
    for i in change:
        r, o, nn = int(rows_t[i]), int(rows_c[i - 1]), int(rows_c[i])
        both = np.flatnonzero(panel.has_ref[:r, o] & panel.has_ref[:r, nn])
        if both.size == 0:
            events.append(RollEvent(r, o, nn, None, None, None))
            continue
        d = int(both[-1])
        events.append(
            RollEvent(r, o, nn, d, int(panel.ref_price[d, o]), int(panel.ref_price[d, nn]))
        )
    return events


def segment_adjustments(
    events: list[RollEvent], defn: SeriesDefinition, panel: Panel
) -> tuple[list[int], list[float]]:
    """Per segment (0..len(events)): the integer offset (fixed 1e-9) and the float factor."""
    m = len(events)
    offsets = [0] * (m + 1)
    factors = [1.0] * (m + 1)
    if defn.adjustment is Adjustment.BACKWARD_ADDITIVE:
        acc = 0
        for j in range(m - 1, -1, -1):
            acc += events[j].gap
            offsets[j] = acc
    elif defn.adjustment is Adjustment.FORWARD_ADDITIVE:
        acc = 0
        for j in range(1, m + 1):
            acc -= events[j - 1].gap
            offsets[j] = acc
    elif defn.adjustment is Adjustment.BACKWARD_RATIO:
        prod = Fraction(1)
        for j in range(m - 1, -1, -1):
            prod *= events[j].ratio(defn.series_id, panel)
            factors[j] = float(prod)
    return offsets, factors


def apply_adjustment(
    rows: pl.DataFrame, events: list[RollEvent], defn: SeriesDefinition, panel: Panel
) -> pl.DataFrame:
    """Add ``adj_open..adj_close`` (float64, price units) and ``adjustment`` to ``rows``.

    ``rows`` must be sorted by date and carry ``is_roll`` and int64 ``open..close``
    (fixed-point 1e-9).
    """
    offsets, factors = segment_adjustments(events, defn, panel)
    seg = rows["is_roll"].cast(pl.Int64).cum_sum().to_numpy()
    # numpy, not polars expressions: polars turns `x / 1e9` into `x * (1 / 1e9)`, which is not
    # correctly rounded (60e9 / 1e9 would give 60.00000000000001).
    scale = float(PRICE_SCALE)
    cols: dict[str, np.ndarray] = {}
    if defn.adjustment in (Adjustment.BACKWARD_ADDITIVE, Adjustment.FORWARD_ADDITIVE):
        off = np.asarray(offsets, dtype=np.int64)[seg]
        for p in _PRICES:
            cols[f"adj_{p}"] = (rows[p].to_numpy() + off).astype(np.float64) / scale
        cols["adjustment"] = off.astype(np.float64) / scale
    elif defn.adjustment is Adjustment.BACKWARD_RATIO:
        fac = np.asarray(factors, dtype=np.float64)[seg]
        for p in _PRICES:
            cols[f"adj_{p}"] = (rows[p].to_numpy().astype(np.float64) * fac) / scale
        cols["adjustment"] = fac
    else:
        for p in _PRICES:
            cols[f"adj_{p}"] = rows[p].to_numpy().astype(np.float64) / scale
        cols["adjustment"] = np.zeros(rows.height, dtype=np.float64)
    return rows.with_columns([pl.Series(name, values, dtype=pl.Float64) for name, values in cols.items()])

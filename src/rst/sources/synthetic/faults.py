"""Deliberately broken bars, for testing quarantine: selectable fault kinds, off by default.

Faults are applied to outright OHLCV bars only (spreads and definitions are left intact). For
each requested kind, ``count`` bars are broken; the bars are picked by hashing
``(seed, instrument_id, ts_event)``, so the choice is deterministic for a given set of records.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import numpy as np
from databento_dbn import UNDEF_PRICE

from rst.errors import UsageError
from rst.sources.synthetic import noise
from rst.sources.synthetic.contracts import SPREAD_ID_OFFSET

STREAM_FAULTS = 31


class Fault(StrEnum):
    """A kind of broken bar."""

    HIGH_BELOW_LOW = "high_below_low"
    """``high`` < ``low`` (high and low swapped, or high one unit below low)."""
    UNDEF_PRICE = "undef_price"
    """``close`` = UNDEF_PRICE (i64 max), DBN's null price."""
    ZERO_VOLUME = "zero_volume"
    """``volume`` = 0 (a bar that should not exist)."""
    NON_POSITIVE_PRICE = "non_positive_price"
    """``low`` = 0 on an outright, where prices must be positive."""


def validate_faults(faults: Iterable[Fault | str] | None, param: str = "faults") -> tuple[Fault, ...]:
    """Fault kinds from enum members or their string values, de-duplicated, in given order."""
    out: dict[Fault, None] = {}
    for item in faults or ():
        try:
            out[Fault(item)] = None
        except ValueError:
            known = ", ".join(f.value for f in Fault)
            raise UsageError(f"{param}: {item!r} is not a fault kind ({known})") from None
    return tuple(out)


def inject_faults(records: np.ndarray, faults: Iterable[Fault], seed: int, count: int = 2) -> np.ndarray:
    """A copy of OHLCV ``records`` with ``count`` outright bars broken per fault kind (distinct bars)."""
    faults = tuple(faults)
    out = records.copy()
    if not faults or len(out) == 0:
        return out
    outright = np.nonzero((out["instrument_id"] % 1_000_000) < SPREAD_ID_OFFSET)[0]
    rank = noise.hash64(seed, STREAM_FAULTS, out["instrument_id"][outright], out["ts_event"][outright])
    chosen = outright[np.argsort(rank, kind="stable")]
    for k, fault in enumerate(faults):
        rows = chosen[k * count : (k + 1) * count]
        if fault is Fault.HIGH_BELOW_LOW:
            high, low = out["high"][rows].copy(), out["low"][rows].copy()
            out["high"][rows] = np.where(high > low, low, low - 1)
            out["low"][rows] = np.where(high > low, high, low)
        elif fault is Fault.UNDEF_PRICE:
            out["close"][rows] = UNDEF_PRICE
        elif fault is Fault.ZERO_VOLUME:
            out["volume"][rows] = 0
        elif fault is Fault.NON_POSITIVE_PRICE:
            out["low"][rows] = 0
    return out

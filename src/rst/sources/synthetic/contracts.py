"""Contracts and calendar spreads of a parent: listing, expiration, activation, ids and symbols.

Times are UTC nanoseconds. Instrument ids are stable and unique across parents:
``parent.number * 1_000_000 + year * 100 + month`` for an outright and ``+ 500_000`` on top for
the calendar spread whose front leg is that outright. Raw symbols follow CME: root + month code
+ last digit of the year (``ESH4``; a decade later ``ESH4`` names a new instrument, as at CME),
spreads ``ESH4-ESM4``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from rst.sources.synthetic.calendar import (
    MONTH_CODES,
    NS_PER_SECOND,
    add_business_days,
    add_months,
    expiration_date,
    to_ns,
)
from rst.sources.synthetic.parents import Parent

SPREAD_ID_OFFSET = 500_000


@dataclass(frozen=True)
class Contract:
    """One outright futures contract (instrument_class ``F``)."""

    parent: Parent
    year: int
    month: int
    instrument_id: int
    raw_symbol: str
    expiration: int
    """Last trading time, UTC ns."""
    activation: int
    """Listing time, UTC ns (00:00 UTC of the activation day)."""
    roll: int
    """00:00 UTC of the day by which volume has moved to the next liquid contract, UTC ns."""
    liquid: bool
    """In the parent's liquid cycle (the contracts volume rolls between)."""


@dataclass(frozen=True)
class Spread:
    """A calendar spread between two consecutive liquid contracts (instrument_class ``S``).

    Buys the front leg, sells the back leg; priced front minus back. Lives from the back leg's
    activation to the front leg's expiration.
    """

    parent: Parent
    instrument_id: int
    raw_symbol: str
    front: Contract
    back: Contract

    @property
    def activation(self) -> int:
        """Listing time, UTC ns."""
        return max(self.front.activation, self.back.activation)

    @property
    def expiration(self) -> int:
        """Last trading time (the front leg's), UTC ns."""
        return self.front.expiration


def raw_symbol(parent: Parent, year: int, month: int) -> str:
    """CME-style raw symbol, e.g. ``ESH4``."""
    return f"{parent.root}{MONTH_CODES[month - 1]}{year % 10}"


@functools.lru_cache(maxsize=4096)
def make_contract(parent: Parent, year: int, month: int) -> Contract:
    """The contract of ``parent`` for contract month ``year``-``month``."""
    expiry_day = expiration_date(parent.expiry_rule, year, month)
    expiration = to_ns(expiry_day) + parent.expiry_time_utc * NS_PER_SECOND
    activation = to_ns(add_months(expiry_day, -parent.listing_months))
    roll_day = add_business_days(expiry_day, -parent.roll_days)
    return Contract(
        parent=parent,
        year=year,
        month=month,
        instrument_id=parent.id_base + year * 100 + month,
        raw_symbol=raw_symbol(parent, year, month),
        expiration=expiration,
        activation=activation,
        roll=to_ns(roll_day),
        liquid=month in parent.liquid_months,
    )


@functools.lru_cache(maxsize=1024)
def contracts_between(parent: Parent, start: int, end: int) -> tuple[Contract, ...]:
    """Contracts live at some time in ``[start, end)`` (UTC ns), ordered by expiration."""
    first_year = dt.datetime.fromtimestamp(start // NS_PER_SECOND, dt.UTC).year
    last_year = dt.datetime.fromtimestamp((end - 1) // NS_PER_SECOND, dt.UTC).year
    span_years = parent.listing_months // 12 + 2
    out = [
        make_contract(parent, year, month)
        for year in range(first_year - 1, last_year + span_years + 1)
        for month in parent.listed_months
    ]
    live = [c for c in out if c.activation < end and c.expiration > start]
    return tuple(sorted(live, key=lambda c: c.expiration))


def next_liquid(contract: Contract) -> Contract:
    """The liquid contract following ``contract`` in the parent's liquid cycle."""
    parent = contract.parent
    year, month = contract.year, contract.month
    while True:
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        if month in parent.liquid_months:
            return make_contract(parent, year, month)


@functools.lru_cache(maxsize=1024)
def spreads_between(parent: Parent, start: int, end: int) -> tuple[Spread, ...]:
    """Calendar spreads live at some time in ``[start, end)`` (UTC ns), ordered by expiration."""
    candidates = [c for c in contracts_between(parent, start, end) if c.liquid]
    # the front leg may expire in the window while its back leg is listed just after it
    out = []
    for front in candidates:
        back = next_liquid(front)
        spread = Spread(
            parent=parent,
            instrument_id=front.instrument_id + SPREAD_ID_OFFSET,
            raw_symbol=f"{front.raw_symbol}-{back.raw_symbol}",
            front=front,
            back=back,
        )
        if spread.activation < end and spread.expiration > start and spread.activation < spread.expiration:
            out.append(spread)
    return tuple(out)

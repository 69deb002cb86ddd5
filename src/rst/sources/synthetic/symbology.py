"""Symbol mappings for the DBN metadata of a parent request, in the shape Databento's API produces.

For ``stype_in=parent``, ``stype_out=instrument_id`` the metadata maps each requested parent
symbol (``ES.FUT``) to one interval per instrument (outrights and spreads) live in the request:
``start_date`` inclusive, ``end_date`` exclusive (UTC dates), ``symbol`` the instrument id as a
string. Intervals of different instruments overlap, which is fine because readers key them by
instrument id. ``DBNStore.to_df(map_symbols=True)`` therefore fills ``symbol`` with the parent
symbol; the contract's raw symbol comes from the definitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from rst.sources.synthetic.calendar import NS_PER_DAY, date_of
from rst.sources.synthetic.contracts import contracts_between, spreads_between
from rst.sources.synthetic.parents import Parent


class MappingInterval(NamedTuple):
    """One interval of a symbol mapping (the fields ``databento_dbn.Metadata`` reads)."""

    start_date: dt.date
    end_date: dt.date
    symbol: str


class SymbolMapping(NamedTuple):
    """The intervals of one input symbol."""

    raw_symbol: str
    intervals: list[MappingInterval]


def parent_mappings(parents: Sequence[Parent], start: int, end: int) -> list[SymbolMapping]:
    """Mappings of each parent symbol to its instruments live in ``[start, end)`` UTC ns."""
    first, last = date_of(start // NS_PER_DAY), date_of(-(-end // NS_PER_DAY))
    out = []
    for parent in parents:
        instruments = [
            (c.instrument_id, c.activation, c.expiration) for c in contracts_between(parent, start, end)
        ] + [(s.instrument_id, s.activation, s.expiration) for s in spreads_between(parent, start, end)]
        intervals = []
        for instrument_id, activation, expiration in instruments:
            lo = max(first, date_of(activation // NS_PER_DAY))
            hi = min(last, date_of(expiration // NS_PER_DAY) + dt.timedelta(days=1))
            if lo < hi:
                intervals.append(MappingInterval(lo, hi, str(instrument_id)))
        intervals.sort(key=lambda i: (i.start_date, int(i.symbol)))
        out.append(SymbolMapping(parent.symbol, intervals))
    return out

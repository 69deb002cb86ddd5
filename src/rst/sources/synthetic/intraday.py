"""Trading sessions and the instruments quoted in them, for the intraday schemas (mbp-10, mbp-1, tbbo, trades, statistics).

A CME Globex session for trading date ``D`` (a weekday) runs from 17:00 America/Chicago on the
calendar day before ``D`` to 16:00 on ``D`` (Monday's session opens Sunday 17:00). Each session of
each instrument is simulated on its own, keyed by ``(seed, instrument_id, D)`` through counter-based
noise, so a window's records are the same whichever window they are cut from.

Instruments quoted in a session: the parent's front contract and the next liquid contract (by the
volume roll of :mod:`rst.sources.synthetic.volume`), plus, on about half of the sessions, the
calendar spread between them. Event counts follow the parent's daily volume and the contract's
volume share, times ``Options.intraday_scale``. Times UTC ns; prices in ticks of the parent.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np

from rst.sources.synthetic import noise, prices, volume
from rst.sources.synthetic.calendar import NS_PER_DAY, NS_PER_HOUR, chicago_offsets, date_of, weekday
from rst.sources.synthetic.contracts import SPREAD_ID_OFFSET, contracts_between, spreads_between
from rst.sources.synthetic.parents import Parent

STREAM_SPREAD_ON = 41
STREAM_EVENT_JITTER = 42

EVENTS_PER_CONTRACT = 20.0
"""Whole-parent daily volume (contracts) per book event of the front at ``intraday_scale`` 1."""
SPREAD_EVENT_SHARE = 0.02
"""Book events of the calendar spread relative to the front contract."""
SPREAD_PROBABILITY = 0.5
"""Share of sessions in which the calendar spread is quoted."""


@dataclass(frozen=True)
class Session:
    """One trading session: ``[open, close)`` UTC ns and the trading date it belongs to."""

    trading_day: int
    """Trading date as a day number (UTC calendar days since 1970-01-01)."""
    open: int
    close: int
    utc_offset_hours: int
    """America/Chicago offset of the session's trading date (-6 or -5)."""

    def local(self, hour: float, *, previous_day: bool = False) -> int:
        """UTC ns of ``hour`` (Chicago wall clock) on the trading date (or the calendar day before it)."""
        day = self.trading_day - (1 if previous_day else 0)
        return day * NS_PER_DAY + int(round((hour - self.utc_offset_hours) * NS_PER_HOUR))


@dataclass(frozen=True)
class Quote:
    """An instrument quoted in a session and how busy its book is."""

    instrument_id: int
    first_tick: int
    """Price at the session's open, in ticks (may be <= 0 for a spread)."""
    events: int
    """Book events in the session (trades included)."""
    depth: int
    """Usual number of defined levels per side (thin books leave deep levels empty)."""
    spread: bool


def sessions_between(start: int, end: int) -> list[Session]:
    """Sessions overlapping ``[start, end)`` UTC ns, in order."""
    first = start // NS_PER_DAY
    last = (end - 1) // NS_PER_DAY + 1  # a session that opens on the last day belongs to the day after
    days = np.arange(first, last + 1, dtype=np.int64)
    days = days[weekday(days) < 5]
    offsets = chicago_offsets(days)
    prev_offsets = chicago_offsets(days - 1)
    out = []
    for day, off, prev_off in zip(days.tolist(), offsets.tolist(), prev_offsets.tolist(), strict=True):
        open_ = (day - 1) * NS_PER_DAY + (17 - prev_off) * NS_PER_HOUR
        close = day * NS_PER_DAY + (16 - off) * NS_PER_HOUR
        if open_ < end and close > start:
            out.append(Session(int(day), int(open_), int(close), int(off)))
    return out


@functools.lru_cache(maxsize=512)
def session_quotes(parent: Parent, seed: int, trading_day: int, scale: float) -> tuple[Quote, ...]:
    """Front, next and (some sessions) their calendar spread, with event counts for the session."""
    day_ns = trading_day * NS_PER_DAY
    contracts = contracts_between(parent, day_ns, day_ns + NS_PER_DAY)
    days = np.array([trading_day], dtype=np.int64)
    front_idx, progress = volume.roll_progress(contracts, days)
    if front_idx[0] < 0:
        return ()
    front = contracts[int(front_idx[0])]
    later = [c for c in contracts if c.liquid and c.expiration > front.expiration]
    if not later:
        return ()
    nxt = later[0]
    m = float(progress[0])
    shares = (0.90 - 0.86 * m, 0.06 + 0.86 * m)
    parent_volume = parent.daily_volume * float(
        np.exp(0.3 * noise.normal(seed, volume.STREAM_PARENT_VOLUME, parent.number, trading_day)[0] - 0.045)
    )
    spot = float(prices.daily_spot(parent, seed, days)[0])
    out: list[Quote] = []
    ticks = []
    for contract, share in zip((front, nxt), shares, strict=True):
        factor = float(prices.carry_factor(parent, np.array([contract.expiration]), np.array([day_ns]))[0])
        tick = int(prices.to_ticks(parent, np.array([spot * factor]))[0])
        ticks.append(tick)
        jitter = float(np.exp(0.2 * noise.normal(seed, STREAM_EVENT_JITTER, contract.instrument_id, trading_day)[0]))
        events = max(50, int(scale * parent_volume * share * jitter / EVENTS_PER_CONTRACT))
        depth = 10 if share > 0.2 else 7
        out.append(Quote(contract.instrument_id, tick, events, depth, spread=False))
    spread_ids = {s.instrument_id for s in spreads_between(parent, day_ns, day_ns + NS_PER_DAY)}
    spread_id = front.instrument_id + SPREAD_ID_OFFSET
    if spread_id in spread_ids and noise.uniform(seed, STREAM_SPREAD_ON, spread_id, trading_day)[0] < SPREAD_PROBABILITY:
        events = max(50, int(out[0].events * SPREAD_EVENT_SHARE))
        out.append(Quote(spread_id, ticks[0] - ticks[1], events, 5, spread=True))
    return tuple(out)


def trading_date(session: Session) -> dt.date:
    """The session's trading date."""
    return date_of(session.trading_day)

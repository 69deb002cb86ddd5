"""Statistics (rtype 0x18) of the quoted instruments, at the times CME Globex publishes them.

Per instrument and session (times America/Chicago, trading date ``D``):

- open interest (``stat_type`` 9) of the previous trading date, 15 minutes after the open
  (``ts_ref`` 00:00 UTC of that date);
- opening price (1) at the session's first trade;
- session high (5) / low (4) at each trade that makes a new high / low;
- settlement price (3): preliminary (``stat_flags`` 2: actual) at 15:00:05 on ``D``, final
  (``stat_flags`` 3: final, actual) at 16:30; the last trade price at or before 15:00;
  ``ts_ref`` 00:00 UTC of ``D``;
- cleared volume (6), the session's traded contracts, at 16:30:01 (``ts_ref`` ``D``).

Price statistics carry the undefined quantity, quantity statistics ``UNDEF_PRICE``;
``update_action`` 1 (new). DBN v2 (int32 quantity) or v3 (int64). Sorted by
(ts_recv, instrument_id); ``sequence`` increases per instrument. Prices fixed-point 1e-9,
times UTC ns.
"""

from __future__ import annotations

import databento_dbn
import numpy as np
from databento_dbn import UNDEF_PRICE, UNDEF_TIMESTAMP, RType, Schema, StatType

from rst.sources.synthetic import noise
from rst.sources.synthetic.bars import GLBX_PUBLISHER_ID
from rst.sources.synthetic.book import ACTION_T, simulate
from rst.sources.synthetic.calendar import NS_PER_DAY, NS_PER_SECOND
from rst.sources.synthetic.generate import Options, register_schema
from rst.sources.synthetic.intraday import EVENTS_PER_CONTRACT, Session, session_quotes, sessions_between
from rst.sources.synthetic.parents import Parent

STREAM_OI = 131
STREAM_STAT_LATENCY = 132
CHANNEL_ID = 0
UPDATE_NEW = 1
SETTLE_PRELIMINARY_FLAGS = 0b10
SETTLE_FINAL_FLAGS = 0b11


def stat_dtype(version: int) -> np.dtype:
    """Record layout of StatMsg in DBN ``version`` (2 or 3)."""
    cls = databento_dbn.v2.StatMsg if version == 2 else databento_dbn.v3.StatMsg
    return np.dtype(cls._dtypes)


def _previous_weekday(day: int) -> int:
    day -= 1
    while (day + 3) % 7 >= 5:
        day -= 1
    return day


StatRow = tuple[int, int, int, int | None, int | None, int | None, int]
"""(instrument_id, ts_event, stat_type, price or None, quantity or None, ts_ref or None, stat_flags)."""


def _session_stats(parent: Parent, seed: int, session: Session, scale: float) -> list[StatRow]:
    """(instrument_id, ts_event, stat_type, price ticks or None, quantity or None, ts_ref or None, stat_flags)."""
    rows: list[StatRow] = []
    day_ns = session.trading_day * NS_PER_DAY
    for quote in session_quotes(parent, seed, session.trading_day, scale):
        b = simulate(parent, seed, quote, session)
        trade = np.flatnonzero(b.action == ACTION_T)
        iid = quote.instrument_id
        oi_u = float(noise.uniform(seed, STREAM_OI, iid, session.trading_day)[0])
        oi = max(1, int(quote.events * EVENTS_PER_CONTRACT * (2.5 + oi_u)))
        prev = _previous_weekday(session.trading_day) * NS_PER_DAY
        rows.append((iid, session.open + 15 * 60 * NS_PER_SECOND, int(StatType.OPEN_INTEREST), None, oi, prev, 0))
        if len(trade) == 0:
            continue
        px, ts, qty = b.price[trade], b.ts_event[trade], b.size[trade]
        rows.append((iid, int(ts[0]), int(StatType.OPENING_PRICE), int(px[0]), None, None, 0))
        run_hi, run_lo = np.maximum.accumulate(px), np.minimum.accumulate(px)
        new_hi = np.ones(len(px), dtype=bool)
        new_lo = np.ones(len(px), dtype=bool)
        new_hi[1:] = run_hi[1:] > run_hi[:-1]
        new_lo[1:] = run_lo[1:] < run_lo[:-1]
        rows.extend((iid, int(t), int(StatType.TRADING_SESSION_HIGH_PRICE), int(p), None, None, 0)
                    for t, p in zip(ts[new_hi], px[new_hi], strict=True))
        rows.extend((iid, int(t), int(StatType.TRADING_SESSION_LOW_PRICE), int(p), None, None, 0)
                    for t, p in zip(ts[new_lo], px[new_lo], strict=True))
        settle_time = session.local(15.0)
        k = max(int(np.searchsorted(ts, settle_time, side="right")) - 1, 0)
        settle = int(px[k])
        rows.append((iid, settle_time + 5 * NS_PER_SECOND, int(StatType.SETTLEMENT_PRICE), settle, None, day_ns,
                     SETTLE_PRELIMINARY_FLAGS))
        rows.append((iid, session.local(16.5), int(StatType.SETTLEMENT_PRICE), settle, None, day_ns,
                     SETTLE_FINAL_FLAGS))
        rows.append((iid, session.local(16.5) + NS_PER_SECOND, int(StatType.CLEARED_VOLUME), None,
                     int(qty.sum()), day_ns, 0))
    return rows


def stat_records(parent: Parent, seed: int, start: int, end: int, scale: float, version: int) -> np.ndarray:
    """Statistics of one parent with ts_recv in ``[start, end)``, sorted by (ts_recv, instrument_id)."""
    dtype = stat_dtype(version)
    rows = [r for s in sessions_between(start, end) for r in _session_stats(parent, seed, s, scale)]
    out = np.zeros(len(rows), dtype=dtype)
    if not rows:
        return out
    iid, ts, stype, px, qty, ref, sflags = zip(*rows, strict=True)
    iid_a = np.array(iid, dtype=np.int64)
    ts_a = np.array(ts, dtype=np.int64)
    lat = 3_000 + (noise.uniform(seed, STREAM_STAT_LATENCY, iid_a, ts_a) * 20_000).astype(np.int64)
    undef_qty = np.iinfo(dtype["quantity"]).max
    out["length"] = dtype.itemsize // 4
    out["rtype"] = int(RType.STATISTICS)
    out["publisher_id"] = GLBX_PUBLISHER_ID
    out["instrument_id"] = iid_a
    out["ts_event"] = ts_a
    out["ts_recv"] = ts_a + lat
    out["ts_ref"] = [UNDEF_TIMESTAMP if r is None else r for r in ref]
    out["price"] = [UNDEF_PRICE if p is None else p * parent.tick for p in px]
    out["quantity"] = [undef_qty if q is None else q for q in qty]
    out["ts_in_delta"] = lat // 2
    out["stat_type"] = stype
    out["channel_id"] = CHANNEL_ID
    out["update_action"] = UPDATE_NEW
    out["stat_flags"] = sflags
    out = out[np.lexsort((out["instrument_id"], out["ts_recv"]))]
    keep = (out["ts_recv"] >= start) & (out["ts_recv"] < end)
    # sequence: per instrument, increasing with ts_recv, independent of the window
    seq = np.zeros(len(out), dtype=np.int64)
    for instrument in np.unique(out["instrument_id"]):
        sel = np.flatnonzero(out["instrument_id"] == instrument)
        seq[sel] = (out["ts_recv"][sel] // 1_000_000) % 4_000_000_000
    out["sequence"] = seq
    return out[keep]


@register_schema(Schema.STATISTICS, time_field="ts_recv")
def _statistics(parent: Parent, start: int, end: int, options: Options) -> np.ndarray:
    return stat_records(parent, options.seed, start, end, options.intraday_scale, options.dbn_version)

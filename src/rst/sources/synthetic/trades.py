"""Trades (rtype 0x00): every Trade record of the simulated books, one event per trade.

``side`` is the aggressor (``B`` buy, ``A`` sell), ``price`` the best level it hit, ``depth`` 0,
``flags`` ``F_LAST`` (plus ``F_BAD_TS_RECV`` on the rare events marked so). Sorted by
(ts_recv, instrument_id). Prices fixed-point 1e-9, times UTC ns.
"""

from __future__ import annotations

import databento_dbn
import numpy as np
from databento_dbn import RType, Schema

from rst.sources.synthetic.bars import GLBX_PUBLISHER_ID
from rst.sources.synthetic.book import ACTION_T, F_LAST, session_books
from rst.sources.synthetic.generate import Options, register_schema
from rst.sources.synthetic.parents import Parent

TRADE_DTYPE = np.dtype(databento_dbn.v3.TradeMsg._dtypes)
"""Record layout of trades; identical in DBN v2 and v3."""


def trade_records(parent: Parent, seed: int, start: int, end: int, scale: float) -> np.ndarray:
    """Trades of one parent with ts_recv in ``[start, end)``, sorted by (ts_recv, instrument_id)."""
    parts = []
    for b in session_books(parent, seed, start, end, scale):
        lo, hi = np.searchsorted(b.ts_recv, [start, end], side="left")
        rows = lo + np.flatnonzero(b.action[lo:hi] == ACTION_T)
        out = np.zeros(len(rows), dtype=TRADE_DTYPE)
        out["length"] = TRADE_DTYPE.itemsize // 4
        out["rtype"] = int(RType.MBP_0)
        out["publisher_id"] = GLBX_PUBLISHER_ID
        out["instrument_id"] = b.instrument_id
        out["ts_event"] = b.ts_event[rows]
        out["ts_recv"] = b.ts_recv[rows]
        out["ts_in_delta"] = b.ts_in_delta[rows]
        out["sequence"] = b.sequence[rows]
        out["price"] = b.price[rows] * parent.tick
        out["size"] = b.size[rows]
        out["action"] = b"T"
        out["side"] = b.side[rows].view("S1")
        out["flags"] = b.flags[rows] | F_LAST
        parts.append(out)
    if not parts:
        return np.zeros(0, dtype=TRADE_DTYPE)
    records = np.concatenate(parts)
    return records[np.lexsort((records["instrument_id"], records["ts_recv"]))]


@register_schema(Schema.TRADES, time_field="ts_recv")
def _trades(parent: Parent, start: int, end: int, options: Options) -> np.ndarray:
    return trade_records(parent, options.seed, start, end, options.intraday_scale)

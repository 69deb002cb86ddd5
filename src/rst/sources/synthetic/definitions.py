"""Instrument definitions (rtype 0x13) of outrights and calendar spreads, DBN v2 or v3 layout.

Each instrument is defined at its activation (``security_update_action`` ``A``) and re-published
(``M``) at 00:00 UTC of every cadence day while it lives (first weekday of each month by default;
real GLBX re-sends daily). Re-publications carry fresh daily price limits (spot +/- 7%, on the
tick grid), so definitions change over time. ``ts_recv`` = ``ts_event`` + 1 ms; records are
sorted by (ts_recv, instrument_id, leg_index). In v3 a spread is published as one record per leg
(``leg_count`` 2), as Databento does; in v2 as one record. Prices fixed-point 1e-9, times UTC ns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from enum import StrEnum

import databento_dbn
import numpy as np
from databento_dbn import FIXED_PRICE_SCALE, UNDEF_PRICE, InstrumentClass, RType, SecurityUpdateAction

from rst.sources.synthetic import prices
from rst.sources.synthetic.bars import GLBX_PUBLISHER_ID
from rst.sources.synthetic.calendar import NS_PER_DAY, weekday
from rst.sources.synthetic.contracts import Contract, Spread, contracts_between, spreads_between
from rst.sources.synthetic.parents import Parent

RECV_DELAY_NS = 1_000_000
LIMIT_BAND = 0.07
SPREAD_LIMIT_BAND = 0.05

_EXCHANGE_SEGMENT = {"XCME": 1, "XCBT": 2, "XNYM": 3, "XCEC": 4}


class Cadence(StrEnum):
    """How often live instruments are re-published."""

    MONTH = "month"
    """00:00 UTC of the first weekday of each month."""
    WEEK = "week"
    """00:00 UTC of each Monday."""
    DAY = "day"
    """00:00 UTC of each weekday."""


def definition_dtype(version: int) -> np.dtype:
    """Record layout of InstrumentDefMsg in DBN ``version`` (2 or 3)."""
    cls = databento_dbn.v2.InstrumentDefMsg if version == 2 else databento_dbn.v3.InstrumentDefMsg
    return np.dtype(cls._dtypes)


@functools.lru_cache(maxsize=2)
def _template(version: int) -> np.ndarray:
    """One record holding DBN's "undefined" value in every field."""
    v3 = databento_dbn.v3.InstrumentDefMsg(
        publisher_id=GLBX_PUBLISHER_ID, instrument_id=0, ts_event=0, ts_recv=0,
        min_price_increment=UNDEF_PRICE, display_factor=UNDEF_PRICE, raw_symbol="", asset="",
        security_type="", instrument_class=InstrumentClass.FUTURE,
        security_update_action=SecurityUpdateAction.ADD,
    )
    base = np.frombuffer(bytes(v3), dtype=definition_dtype(3)).copy()
    if version == 3:
        return base
    out = np.zeros(1, dtype=definition_dtype(2))
    for name in out.dtype.names or ():
        if name in (base.dtype.names or ()) and name not in ("length", "_reserved"):
            out[name] = base[name].astype(out.dtype[name])
    out["length"] = out.dtype.itemsize // 4
    out["raw_instrument_id"] = 0
    out["trading_reference_price"] = UNDEF_PRICE
    out["trading_reference_date"] = np.iinfo(np.uint16).max
    out["md_security_trading_status"] = np.iinfo(np.uint8).max
    out["settl_price_type"] = np.iinfo(np.uint8).max
    return out


def _static_rows(template: np.ndarray, parent: Parent, contracts: Sequence[Contract],
                 spreads: Sequence[Spread], version: int) -> np.ndarray:
    """One record per outright, and per spread one (v2) or one per leg (v3); times unset."""
    legs = 2 if version == 3 else 1
    n_out, n_spr = len(contracts), len(spreads)
    rows = np.repeat(template, n_out + legs * n_spr)
    spread_rows = [s for s in spreads for _ in range(legs)]
    leg_index = np.tile(np.arange(legs), n_spr)

    def col(outright: list[object], spread: list[object]) -> list[object]:
        return outright + spread

    rows["rtype"] = int(RType.INSTRUMENT_DEF)
    ids = col([c.instrument_id for c in contracts], [s.instrument_id for s in spread_rows])
    rows["instrument_id"] = ids
    rows["raw_instrument_id"] = ids
    rows["raw_symbol"] = col([c.raw_symbol.encode() for c in contracts], [s.raw_symbol.encode() for s in spread_rows])
    rows["activation"] = col([c.activation for c in contracts], [s.activation for s in spread_rows])
    rows["expiration"] = col([c.expiration for c in contracts], [s.expiration for s in spread_rows])
    rows["maturity_year"] = col([c.year for c in contracts], [s.front.year for s in spread_rows])
    rows["maturity_month"] = col([c.month for c in contracts], [s.front.month for s in spread_rows])
    rows["min_price_increment"] = parent.tick
    rows["display_factor"] = FIXED_PRICE_SCALE
    rows["max_price_variation"] = 100 * parent.tick
    rows["unit_of_measure_qty"] = parent.point_value * FIXED_PRICE_SCALE
    rows["min_price_increment_amount"] = parent.tick * parent.point_value
    rows["market_depth"] = 10
    rows["market_segment_id"] = _EXCHANGE_SEGMENT.get(parent.exchange, 9)
    rows["channel_id"] = 300 + parent.number
    rows["max_trade_vol"] = parent.max_trade_vol
    rows["min_lot_size_round_lot"] = 1
    rows["min_trade_vol"] = 1
    rows["currency"] = parent.currency.encode()
    rows["settl_currency"] = parent.currency.encode()
    rows["group"] = parent.root.encode()
    rows["exchange"] = parent.exchange.encode()
    rows["asset"] = parent.root.encode()
    rows["security_type"] = b"FUT"
    rows["unit_of_measure"] = parent.unit_of_measure.encode()
    rows["match_algorithm"] = b"F"
    rows["user_defined_instrument"] = b"N"
    outright, spread = rows[:n_out], rows[n_out:]
    outright["cfi"] = parent.cfi.encode()
    outright["instrument_class"] = b"F"
    outright["market_depth_implied"] = 2
    spread["cfi"] = b"FMIXSX"
    spread["instrument_class"] = b"S"
    spread["secsubtype"] = b"SP"
    spread["market_depth_implied"] = 0
    if version == 3 and n_spr:
        spread["leg_count"] = 2
        spread["leg_index"] = leg_index
        spread["leg_instrument_id"] = [
            (s.front if k == 0 else s.back).instrument_id for s, k in zip(spread_rows, leg_index, strict=True)
        ]
        spread["leg_raw_symbol"] = [
            (s.front if k == 0 else s.back).raw_symbol.encode() for s, k in zip(spread_rows, leg_index, strict=True)
        ]
        spread["leg_instrument_class"] = b"F"
        spread["leg_side"] = np.where(leg_index == 0, b"B", b"A")
        spread["leg_ratio_qty_numerator"] = 1
        spread["leg_ratio_qty_denominator"] = 1
    return rows


def publish_days(first_day: int, last_day: int, cadence: Cadence) -> np.ndarray:
    """Re-publication day numbers in ``[first_day, last_day)``."""
    days = np.arange(first_day, last_day, dtype=np.int64)
    wd = weekday(days)
    if cadence is Cadence.DAY:
        return days[wd < 5]
    if cadence is Cadence.WEEK:
        return days[wd == 0]
    dates = days.astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]").astype("datetime64[D]")
    offset = (dates - month_start).astype(np.int64)
    # the first weekday of a month falls on its 1st, 2nd or 3rd day
    return days[(wd < 5) & ((offset == 0) | ((offset <= 2) & (wd == 0)))]


def definition_records(
    parent: Parent, seed: int, start: int, end: int, version: int, cadence: Cadence = Cadence.MONTH
) -> np.ndarray:
    """InstrumentDefMsg records of ``parent`` with ts_recv in ``[start, end)``, DBN ``version`` layout."""
    dtype = definition_dtype(version)
    if end <= start:
        return np.zeros(0, dtype=dtype)
    contracts = contracts_between(parent, start, end)
    spreads = spreads_between(parent, start, end)
    static = _static_rows(_template(version), parent, contracts, spreads, version)
    if len(static) == 0:
        return np.zeros(0, dtype=dtype)
    activation = static["activation"].astype(np.int64)
    expiration = static["expiration"].astype(np.int64)
    first_day, last_day = start // NS_PER_DAY, -(-end // NS_PER_DAY)
    candidates = publish_days(first_day, last_day, cadence) * NS_PER_DAY
    recv = candidates + RECV_DELAY_NS
    candidates = candidates[(recv >= start) & (recv < end)]
    live = (candidates[None, :] > activation[:, None]) & (candidates[None, :] < expiration[:, None])
    row, col = np.nonzero(live)
    ts = candidates[col]
    first = np.nonzero((activation + RECV_DELAY_NS >= start) & (activation + RECV_DELAY_NS < end))[0]
    row = np.concatenate([first, row])
    ts = np.concatenate([activation[first], ts])
    out = static[row]
    out["ts_event"] = ts
    out["ts_recv"] = ts + RECV_DELAY_NS
    out["security_update_action"] = np.where(ts == activation[row], b"A", b"M")
    spot = prices.daily_spot(parent, seed, ts // NS_PER_DAY)
    is_spread = out["instrument_class"] == b"S"
    band = prices.to_ticks(parent, spot * SPREAD_LIMIT_BAND) * parent.tick
    ref = spot * prices.carry_factor(parent, expiration[row], ts)
    out["high_limit_price"] = np.where(
        is_spread, band, prices.to_ticks(parent, ref * (1 + LIMIT_BAND)) * parent.tick
    )
    out["low_limit_price"] = np.where(
        is_spread, -band, prices.to_ticks(parent, ref * (1 - LIMIT_BAND)) * parent.tick
    )
    leg = out["leg_index"] if version == 3 else np.zeros(len(out), dtype=np.uint16)
    return out[np.lexsort((leg, out["instrument_id"], out["ts_recv"]))]

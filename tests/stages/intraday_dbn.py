"""Small hand-made intraday DBN files (v3, zstd) for stage tests and the memory benchmark.

Records are numpy structured arrays of ``databento_dbn``'s v3 layouts, so every field
is set explicitly; prices are int64 fixed-point 1e-9.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import databento_dbn as dbn
import numpy as np
import zstandard

UNDEF_PRICE = np.iinfo(np.int64).max
TICK = 250_000_000
MID = 3_720_000_000_000
NS = 10**9
_CLASSES = {
    "mbo": (dbn.MBOMsg, dbn.Schema.MBO, 0xA0),
    "mbp-10": (dbn.MBP10Msg, dbn.Schema.MBP_10, 0x0A),
    "mbp-1": (dbn.MBP1Msg, dbn.Schema.MBP_1, 0x01),
    "tbbo": (dbn.MBP1Msg, dbn.Schema.TBBO, 0x01),
    "trades": (dbn.TradeMsg, dbn.Schema.TRADES, 0x00),
    "statistics": (dbn.StatMsg, dbn.Schema.STATISTICS, 0x18),
    "definition": (dbn.InstrumentDefMsg, dbn.Schema.DEFINITION, 0x13),
    "ohlcv-1d": (dbn.OHLCVMsg, dbn.Schema.OHLCV_1D, 0x23),
}


def ns(when: dt.datetime) -> int:
    """UTC ns of an aware datetime."""
    return int(when.timestamp()) * NS + when.microsecond * 1000


def local_ns(day: dt.date, hh: int, mm: int, ss: int = 0, zone: str = "America/New_York", extra_ns: int = 0) -> int:
    """UTC ns of a wall-clock time in ``zone`` (plus ``extra_ns``)."""
    return ns(dt.datetime.combine(day, dt.time(hh, mm, ss), ZoneInfo(zone))) + extra_ns


def empty(schema: str, n: int) -> np.ndarray:
    """``n`` zeroed records of ``schema`` with length/rtype/publisher set and every price undefined."""
    cls, _, rtype = _CLASSES[schema]
    rec = np.zeros(n, dtype=np.dtype(cls._dtypes))
    rec["length"] = rec.dtype.itemsize // 4
    rec["rtype"] = rtype
    rec["publisher_id"] = 1
    for name in cls._price_fields:
        rec[name] = UNDEF_PRICE
    return rec


def book(schema: str, ts_recv: Sequence[int] | np.ndarray, instrument_id: int | Sequence[int] = 5482) -> np.ndarray:
    """Plausible book records (``mbp-10``/``mbp-1``/``tbbo``) at the given ``ts_recv``: add on the bid, flags F_LAST|F_MBP."""
    ts = np.asarray(ts_recv, dtype=np.int64)
    rec = empty(schema, len(ts))
    levels = 10 if schema == "mbp-10" else 1
    rec["ts_recv"] = ts
    rec["ts_event"] = ts - 1_000
    rec["ts_in_delta"] = 500
    rec["instrument_id"] = instrument_id
    rec["sequence"] = np.arange(len(ts), dtype=np.uint32) + 1
    rec["action"] = b"T" if schema == "tbbo" else b"A"
    rec["side"] = b"B"
    rec["price"] = MID - TICK
    rec["size"] = 3
    rec["flags"] = 128 | 16
    for lvl in range(levels):
        rec[f"bid_px_{lvl:02d}"] = MID - (lvl + 1) * TICK
        rec[f"ask_px_{lvl:02d}"] = MID + lvl * TICK
        rec[f"bid_sz_{lvl:02d}"] = 10 + lvl
        rec[f"ask_sz_{lvl:02d}"] = 20 + lvl
        rec[f"bid_ct_{lvl:02d}"] = 1 + lvl
        rec[f"ask_ct_{lvl:02d}"] = 2 + lvl
    return rec


def trades(ts_recv: Sequence[int], instrument_id: int = 5482) -> np.ndarray:
    ts = np.asarray(ts_recv, dtype=np.int64)
    rec = empty("trades", len(ts))
    rec["ts_recv"] = ts
    rec["ts_event"] = ts - 1_000
    rec["instrument_id"] = instrument_id
    rec["action"] = b"T"
    rec["side"] = b"A"
    rec["price"] = MID
    rec["size"] = 1
    rec["sequence"] = np.arange(len(ts), dtype=np.uint32) + 1
    return rec


def daily_bars(rows: Sequence[dict]) -> np.ndarray:
    """``ohlcv-1d`` bars from dicts with ``ts_event`` (00:00 UTC), ``instrument_id``, ``volume`` (OHLC around MID)."""
    rec = empty("ohlcv-1d", len(rows))
    rec["open"] = rec["close"] = MID
    rec["high"] = MID + TICK
    rec["low"] = MID - TICK
    for i, row in enumerate(rows):
        for key, value in row.items():
            rec[key][i] = value
    return rec


def statistics(rows: Sequence[dict]) -> np.ndarray:
    """Statistics records from dicts (``ts_recv``, ``instrument_id``, ``stat_type``, ``price``/``quantity``…)."""
    rec = empty("statistics", len(rows))
    rec["ts_ref"] = np.iinfo(np.uint64).max
    rec["quantity"] = np.iinfo(np.int64).max
    rec["update_action"] = 1
    rec["stat_flags"] = 0
    for i, row in enumerate(rows):
        rec["ts_event"][i] = row["ts_recv"] - 1_000
        for key, value in row.items():
            rec[key][i] = value
    return rec


def definitions(rows: Sequence[dict]) -> np.ndarray:
    """Definition records: dicts with ``instrument_id``, ``raw_symbol``, ``ts_recv``, ``expiration`` and optionally
    ``instrument_class`` (default ``F``), ``leg_count``."""
    template = np.frombuffer(
        bytes(
            dbn.InstrumentDefMsg(
                publisher_id=1, instrument_id=0, ts_event=0, ts_recv=0, min_price_increment=TICK,
                display_factor=NS, raw_symbol="", asset="ES", security_type="FUT",
                instrument_class=dbn.InstrumentClass.FUTURE, security_update_action=dbn.SecurityUpdateAction.ADD,
            )
        ),
        dtype=np.dtype(dbn.InstrumentDefMsg._dtypes),
    )
    rec = np.repeat(template, len(rows))
    rec["unit_of_measure_qty"] = 50 * NS
    rec["currency"] = b"USD"
    rec["exchange"] = b"XCME"
    for i, row in enumerate(rows):
        rec["ts_event"][i] = row["ts_recv"]
        rec["activation"][i] = row["ts_recv"] - 300 * 86_400 * NS
        for key, value in row.items():
            rec[key][i] = value.encode() if isinstance(value, str) else value
    return rec


def write(
    path: Path,
    schema: str,
    records: np.ndarray,
    start: int,
    end: int | None,
    symbols: Sequence[str] = ("ES.FUT",),
    stype_in: dbn.SType = dbn.SType.PARENT,
) -> Path:
    """Write a v3 zstd DBN file of ``schema`` (metadata window ``[start, end)``, UTC ns)."""
    meta = dbn.Metadata(
        dataset="GLBX.MDP3", schema=_CLASSES[schema][1], start=start, end=end, stype_in=stype_in,
        stype_out=dbn.SType.INSTRUMENT_ID, symbols=list(symbols), partial=[], not_found=[], mappings=[],
        version=3, ts_out=False,
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    data = bytes(meta.encode()) + np.ascontiguousarray(records).tobytes()
    path.write_bytes(zstandard.ZstdCompressor(level=1).compress(data))
    return path


def es_definitions(path: Path, day: dt.date, extra: Sequence[dict] = ()) -> Path:
    """A definition file published the UTC day before ``day``: ESH1 (5482, expires in March 2021 style: 60 days
    after ``day``), ESM1 (5483, 150 days after), spread ESH1-ESM1 (9001, class S) plus ``extra`` rows."""
    t = ns(dt.datetime.combine(day - dt.timedelta(days=2), dt.time(0), dt.UTC))
    exp = lambda days: ns(dt.datetime.combine(day + dt.timedelta(days=days), dt.time(13, 30), dt.UTC))  # noqa: E731
    rows = [
        {"instrument_id": 5482, "raw_symbol": "ESH1", "ts_recv": t, "expiration": exp(60)},
        {"instrument_id": 5483, "raw_symbol": "ESM1", "ts_recv": t, "expiration": exp(150)},
        {"instrument_id": 9001, "raw_symbol": "ESH1-ESM1", "ts_recv": t, "expiration": exp(60), "instrument_class": b"S"},
        *extra,
    ]
    return write(path, "definition", definitions(rows), t, t + 86_400 * NS)

"""Tiny bar tables for series tests: prices written in price units, stored int64 fixed-point 1e-9."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl

SCALE = 1_000_000_000


def fx(price: float | str | Decimal) -> int:
    """Price units -> int64 fixed-point 1e-9 (exact for decimal input)."""
    return int(Decimal(str(price)) * SCALE)


def make_bars(
    contracts: dict[str, tuple[int, dt.date]],
    rows: Sequence[tuple[Any, ...]],
) -> pl.DataFrame:
    """Bars from ``contracts`` {symbol: (instrument_id, expiration date)} and rows.

    Each row: ``(trading_date, symbol, close[, volume[, open_interest[, settlement]]])``;
    open = close - 0.25, high = close + 0.5, low = close - 0.75 (so OHLC are distinct);
    volume defaults to 100, open_interest and settlement to null. Expiration is 14:30 UTC
    on the expiration date.
    """
    out: dict[str, list[Any]] = {
        k: [] for k in (
            "trading_date", "instrument_id", "symbol", "expiration", "open", "high", "low",
            "close", "volume", "open_interest", "settlement",
        )
    }
    for row in rows:
        day, sym, close = row[0], row[1], row[2]
        vol = row[3] if len(row) > 3 else 100
        oi = row[4] if len(row) > 4 else None
        settle = row[5] if len(row) > 5 else None
        iid, exp = contracts[sym]
        c = fx(close)
        out["trading_date"].append(day)
        out["instrument_id"].append(iid)
        out["symbol"].append(sym)
        out["expiration"].append(dt.datetime(exp.year, exp.month, exp.day, 14, 30, tzinfo=dt.UTC))
        out["open"].append(c - fx("0.25"))
        out["high"].append(c + fx("0.5"))
        out["low"].append(c - fx("0.75"))
        out["close"].append(c)
        out["volume"].append(vol)
        out["open_interest"].append(oi)
        out["settlement"].append(fx(settle) if settle is not None else None)
    return pl.DataFrame(
        out,
        schema={
            "trading_date": pl.Date,
            "instrument_id": pl.UInt32,
            "symbol": pl.String,
            "expiration": pl.Datetime("ns", "UTC"),
            "open": pl.Int64,
            "high": pl.Int64,
            "low": pl.Int64,
            "close": pl.Int64,
            "volume": pl.UInt64,
            "open_interest": pl.Int64,
            "settlement": pl.Int64,
        },
    )


def d(day: int, month: int = 3, year: int = 2024) -> dt.date:
    """Shorthand for a date (default March 2024)."""
    return dt.date(year, month, day)

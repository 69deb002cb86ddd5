"""Readable forms of DBN's packed fields: flag bits, ``action`` and ``side``; all vectorised (polars).

Flag bits (``flags``, uint8; the raw byte is kept beside the booleans):

==================  =====  ===================================================
column              bit    meaning (``databento_dbn`` constant)
==================  =====  ===================================================
``is_last``         128    last record of an event for its instrument (F_LAST)
``is_top_of_book``   64    top-of-book message, not an individual order (F_TOB)
``is_snapshot``      32    from a snapshot (replay/recovery), not a live event (F_SNAPSHOT)
``is_mbp``           16    aggregated price level, not an individual order (F_MBP)
``is_bad_ts_recv``    8    ``ts_recv`` inaccurate (clock issue or reordering) (F_BAD_TS_RECV)
``is_maybe_bad_book`` 4    unrecoverable gap detected in the channel (F_MAYBE_BAD_BOOK)
==================  =====  ===================================================

``action`` (one DBN character → word): ``A`` add, ``C`` cancel, ``M`` modify,
``R`` clear (book cleared), ``T`` trade, ``F`` fill, ``N`` none.
``side``: ``B`` bid, ``A`` ask, ``N`` none (for a trade, the aggressor side;
``none`` when no aggressor). Any other character maps to null, which the
quality rules quarantine ("unknown action"/"unknown side").

Statistics: ``stat_type`` → ``stat_name``, the lower-case name of
``databento_dbn.StatType`` (3 → ``settlement_price``, 9 → ``open_interest`` …);
``update_action`` → ``update_name`` (1 ``new``, 2 ``delete``). Status:
``action`` → ``action_name`` (``databento_dbn.StatusAction``), ``reason`` →
``reason_name`` (``StatusReason``), ``trading_event`` → ``trading_event_name``
(``TradingEvent``), and the ``Y``/``N``/``~`` flags → nullable booleans.
"""

from __future__ import annotations

import databento_dbn as dbn
import polars as pl

FLAG_BITS: dict[str, int] = {
    "is_last": 128,
    "is_top_of_book": 64,
    "is_snapshot": 32,
    "is_mbp": 16,
    "is_bad_ts_recv": 8,
    "is_maybe_bad_book": 4,
}
"""Boolean column → bit of ``flags``."""

ACTIONS: dict[str, str] = {
    "A": "add",
    "C": "cancel",
    "M": "modify",
    "R": "clear",
    "T": "trade",
    "F": "fill",
    "N": "none",
}
SIDES: dict[str, str] = {"B": "bid", "A": "ask", "N": "none"}
UPDATE_ACTIONS: dict[int, str] = {1: "new", 2: "delete"}


def _enum_names(enum: type) -> dict[int, str]:
    return {int(getattr(enum, k).value): k.lower() for k in dir(enum) if k.isupper()}


STAT_NAMES: dict[int, str] = _enum_names(dbn.StatType)
"""``stat_type`` code → name, e.g. ``3: "settlement_price"``, ``9: "open_interest"``."""
STATUS_ACTIONS: dict[int, str] = _enum_names(dbn.StatusAction)
STATUS_REASONS: dict[int, str] = _enum_names(dbn.StatusReason)
TRADING_EVENTS: dict[int, str] = _enum_names(dbn.TradingEvent)


def flag_columns(flags: pl.Expr | None = None) -> list[pl.Expr]:
    """The six named booleans of :data:`FLAG_BITS` from the ``flags`` byte."""
    col = pl.col("flags") if flags is None else flags
    return [((col & bit) != 0).alias(name) for name, bit in FLAG_BITS.items()]


def code_name(column: str, names: dict[str, str] | dict[int, str]) -> pl.Expr:
    """``column`` mapped through ``names``; unknown codes (and nulls) become null."""
    keys = list(names)
    dtype = pl.String if isinstance(keys[0], str) else pl.Int64
    col = pl.col(column) if dtype is pl.String else pl.col(column).cast(pl.Int64)
    return col.replace_strict(keys, list(names.values()), default=None, return_dtype=pl.String)


def yes_no(column: str) -> pl.Expr:
    """``Y`` → True, ``N`` → False, anything else (``~`` not applicable) → null."""
    col = pl.col(column)
    return pl.when(col == "Y").then(True).when(col == "N").then(False).otherwise(None)

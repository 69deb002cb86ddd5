"""Bronze ``mbo``: Databento's market-by-order events (every add, cancel, modify, clear, trade and fill, keyed by order).

Columns: ``ts_recv``, ``ts_event`` (UTC ns), ``rtype``, ``publisher_id``,
``instrument_id``, ``symbol`` (raw symbol, e.g. ``ESH1``), ``action`` and ``side`` as
words (:mod:`rst.stages.bronze.flags`), ``price`` (int64 fixed 1e-9, null when
undefined), ``size``, ``channel_id``, ``order_id`` (the venue's), the raw ``flags``
byte and its six booleans (``is_last`` … ``is_maybe_bad_book``), ``ts_in_delta``,
``sequence``, ``source_file``. Streaming, trading-date partitions (CME session of
``ts_recv``), outrights only and the overlap policy: :mod:`rst.stages.bronze.intraday`.

Quarantine rules (:data:`MBO_RULES`), after Databento's MBO conventions
(https://databento.com/docs/schemas/mbo, ``/docs/conventions/mbo-snapshot``,
``/docs/examples/order-book/limit-order-book``):

- an unknown ``action`` or ``side`` character;
- an **add or modify without a price**, or **with size 0**: an order resting in the book
  has a price and a positive size. Exception: a *top-of-book* add (``F_TOB``, venues that
  publish only their best level) with an undefined price and size 0 says "that side is now
  empty", and is kept;
- a **trade or fill without a price or with size 0**, as in the other tables.

Kept as published, on purpose: a **clear** (``R``: remove every resting order of the
instrument; it starts each snapshot and session, with ``side`` none, undefined price,
size 0 and order id 0); a **cancel** (its ``size`` is the quantity removed and its price
the order's, both as the venue sends them: rst does not replay the book, so it cannot
tell a bad cancel from a good one); ``none`` events. Snapshot records (``F_SNAPSHOT``,
with ``F_BAD_TS_RECV`` and ``ts_recv`` the snapshot time) are kept and flagged.
"""

from __future__ import annotations

import polars as pl

from rst.stages.bronze.book import readable_codes
from rst.stages.bronze.flags import FLAG_BITS
from rst.stages.bronze.intraday import IntradayStage
from rst.stages.bronze.quality import UNKNOWN_ACTION, UNKNOWN_SIDE, Rule

MBO_COLUMNS = [
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "symbol",
    "action", "side", "price", "size", "channel_id", "order_id", "flags", *FLAG_BITS,
    "ts_in_delta", "sequence", "source_file",
]  # fmt: skip
"""Output columns, in Databento's MBO field order with ``symbol`` and the flag booleans added."""

_RESTS = pl.col("action").is_in(["add", "modify"]) & ~pl.col("is_top_of_book")
_TRADES = pl.col("action").is_in(["trade", "fill"])
MBO_RULES: list[Rule] = [
    UNKNOWN_ACTION,
    UNKNOWN_SIDE,
    ("undefined price on an add or modify", _RESTS & pl.col("price").is_null()),
    ("size 0 on an add or modify", _RESTS & (pl.col("size") == 0)),
    ("undefined trade price", _TRADES & pl.col("price").is_null()),
    ("non-positive trade size", _TRADES & (pl.col("size") == 0)),
]
"""Quarantine rules of ``mbo`` (``size`` is uint32: "non-positive" is 0); see the module docstring."""


class MboStage(IntradayStage):
    """Market-by-order events of outright futures, one ``dt=`` partition per trading date."""

    table = "mbo"
    quarantine_table = "mbo_quarantine"
    dbn_schema = "mbo"
    columns = MBO_COLUMNS
    rules = MBO_RULES

    def enrich(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(readable_codes())

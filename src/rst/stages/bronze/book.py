"""Bronze order-book tables: ``mbp_10`` (MBP-10), ``mbp_1`` (MBP-1) and ``tbbo`` (trades with the book before them).

Columns: ``ts_recv``, ``ts_event`` (UTC ns), ``rtype``, ``publisher_id``,
``instrument_id``, ``symbol`` (raw symbol, e.g. ``ESH1``), ``action`` and ``side`` as
words (:mod:`rst.stages.bronze.flags`), ``depth``, ``price`` (int64 fixed 1e-9, null
when undefined), ``size``, the raw ``flags`` byte and its six booleans
(``is_last`` … ``is_maybe_bad_book``), ``ts_in_delta``, ``sequence``, then the book
levels as named columns — ``bid_px_NN``, ``ask_px_NN`` (int64 fixed 1e-9, null for
an empty level), ``bid_sz_NN``, ``ask_sz_NN``, ``bid_ct_NN``, ``ask_ct_NN`` for
``NN`` = ``00`` … ``09`` (MBP-10) or ``00`` only (MBP-1 and TBBO: TBBO records are
MBP-1 records whose ``action`` is always a trade) — and ``source_file``.

Outright futures only (spreads counted in ``spreads_filtered``), optional front month
only (``params["front_month_only"]``), bad records in ``<table>_quarantine``
(:data:`rst.stages.bronze.quality.BOOK_RULES`). See :mod:`rst.stages.bronze.intraday`
for streaming, partitioning and the overlap policy.
"""

from __future__ import annotations

import polars as pl

from rst.stages.bronze.flags import ACTIONS, FLAG_BITS, SIDES, code_name, flag_columns
from rst.stages.bronze.intraday import IntradayStage
from rst.stages.bronze.quality import BOOK_RULES


def level_columns(levels: int) -> list[str]:
    """``bid_px_00, ask_px_00, bid_sz_00, ask_sz_00, bid_ct_00, ask_ct_00, …`` (DBN order) for ``levels`` levels."""
    return [f"{c}_{i:02d}" for i in range(levels) for c in ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")]


RECORD_COLUMNS = [
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "symbol",
    "action", "side", "depth", "price", "size", "flags", *FLAG_BITS,
    "ts_in_delta", "sequence",
]  # fmt: skip
"""Columns of every trade/book record before the book levels."""


def readable_codes() -> list[pl.Expr]:
    """``action``/``side`` characters → words, plus the flag booleans."""
    return [code_name("action", ACTIONS).alias("action"), code_name("side", SIDES).alias("side"), *flag_columns()]


class BookStage(IntradayStage):
    """A market-by-price table with ``levels`` book levels."""

    levels: int = 1
    rules = BOOK_RULES

    def enrich(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(readable_codes())


class Mbp10Stage(BookStage):
    table = "mbp_10"
    quarantine_table = "mbp_10_quarantine"
    dbn_schema = "mbp-10"
    levels = 10
    columns = [*RECORD_COLUMNS, *level_columns(10), "source_file"]


class Mbp1Stage(BookStage):
    table = "mbp_1"
    quarantine_table = "mbp_1_quarantine"
    dbn_schema = "mbp-1"
    columns = [*RECORD_COLUMNS, *level_columns(1), "source_file"]


class TbboStage(BookStage):
    table = "tbbo"
    quarantine_table = "tbbo_quarantine"
    dbn_schema = "tbbo"
    columns = [*RECORD_COLUMNS, *level_columns(1), "source_file"]

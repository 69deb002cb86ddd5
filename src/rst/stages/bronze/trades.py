"""Bronze ``trades``: every trade of every outright future, exact prices, readable action/side and flags.

Columns: :data:`rst.stages.bronze.book.RECORD_COLUMNS` (``side`` is the aggressor:
``bid`` = buyer-initiated, ``ask`` = seller-initiated, ``none`` = no aggressor) and
``source_file``. Quarantine rules: :data:`rst.stages.bronze.quality.TRADE_RULES`.
"""

from __future__ import annotations

import polars as pl

from rst.stages.bronze.book import RECORD_COLUMNS, readable_codes
from rst.stages.bronze.intraday import IntradayStage
from rst.stages.bronze.quality import TRADE_RULES


class TradesStage(IntradayStage):
    table = "trades"
    quarantine_table = "trades_quarantine"
    dbn_schema = "trades"
    columns = [*RECORD_COLUMNS, "source_file"]
    rules = TRADE_RULES

    def enrich(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(readable_codes())

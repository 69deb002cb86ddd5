"""Bronze ``status``: trading-status changes (pre-open, trading, halt, close…) of outright futures.

Columns: ``ts_recv``, ``ts_event``, ``rtype``, ``publisher_id``, ``instrument_id``,
``symbol``, ``action``/``action_name`` (``databento_dbn.StatusAction``),
``status_reason``/``status_reason_name`` (``StatusReason``; DBN's ``reason``, renamed
so as not to clash with the quarantine ``reason``), ``trading_event``/``trading_event_name``
(``TradingEvent``) — the codes as published, the names null for a code
``databento_dbn`` does not know — ``is_trading``, ``is_quoting``,
``is_short_sell_restricted`` (``Y`` True, ``N`` False, ``~`` null), ``source_file``.
Only unknown instruments are quarantined.
"""

from __future__ import annotations

import polars as pl

from rst.stages.bronze.flags import STATUS_ACTIONS, STATUS_REASONS, TRADING_EVENTS, code_name, yes_no
from rst.stages.bronze.intraday import IntradayStage
from rst.stages.bronze.quality import STATUS_RULES

STATUS_COLUMNS = [
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "symbol",
    "action", "action_name", "status_reason", "status_reason_name", "trading_event", "trading_event_name",
    "is_trading", "is_quoting", "is_short_sell_restricted", "source_file",
]  # fmt: skip


class StatusStage(IntradayStage):
    table = "status"
    quarantine_table = "status_quarantine"
    dbn_schema = "status"
    columns = STATUS_COLUMNS
    rules = STATUS_RULES

    def prepare(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.rename({"reason": "status_reason"})

    def enrich(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            action_name=code_name("action", STATUS_ACTIONS),
            status_reason_name=code_name("status_reason", STATUS_REASONS),
            trading_event_name=code_name("trading_event", TRADING_EVENTS),
            is_trading=yes_no("is_trading"),
            is_quoting=yes_no("is_quoting"),
            is_short_sell_restricted=yes_no("is_short_sell_restricted"),
        )

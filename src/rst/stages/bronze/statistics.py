"""Bronze ``statistics``: exchange-published statistics (settlement, open interest, session high/low…).

Columns: ``ts_recv``, ``ts_event`` (UTC ns), ``rtype``, ``publisher_id``,
``instrument_id``, ``symbol``, ``ts_ref`` (the time the value refers to, UTC ns, null
when unused), ``price`` (int64 fixed 1e-9, null when undefined), ``quantity`` (int64,
null when undefined), ``sequence``, ``ts_in_delta``, ``stat_type`` (the DBN code) and
``stat_name`` (its name: ``settlement_price``, ``open_interest``, ``cleared_volume``,
``opening_price``, ``trading_session_high_price`` …, see
:data:`rst.stages.bronze.flags.STAT_NAMES`), ``channel_id``, ``update_action`` and
``update_name`` (``new``/``delete``), ``stat_flags`` (raw), ``source_file``.
Quarantine rules: :data:`rst.stages.bronze.quality.STATISTIC_RULES`; statistics of
instruments with neither a definition nor a symbol mapping are quarantined as
unknown instruments.
"""

from __future__ import annotations

import polars as pl

from rst.stages.bronze.flags import STAT_NAMES, UPDATE_ACTIONS, code_name
from rst.stages.bronze.intraday import IntradayStage
from rst.stages.bronze.quality import STATISTIC_RULES

STATISTIC_COLUMNS = [
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "symbol", "ts_ref",
    "price", "quantity", "sequence", "ts_in_delta", "stat_type", "stat_name",
    "channel_id", "update_action", "update_name", "stat_flags", "source_file",
]  # fmt: skip


class StatisticsStage(IntradayStage):
    table = "statistics"
    quarantine_table = "statistics_quarantine"
    dbn_schema = "statistics"
    columns = STATISTIC_COLUMNS
    rules = STATISTIC_RULES

    def enrich(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            stat_name=code_name("stat_type", STAT_NAMES), update_name=code_name("update_action", UPDATE_ACTIONS)
        )

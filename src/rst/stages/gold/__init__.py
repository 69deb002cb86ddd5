"""Gold: continuous futures series from the saved series definitions of each parent, and session
windows of intraday tables (:mod:`rst.stages.gold.windows`, registered there)."""

from __future__ import annotations

from rst.framework.lake import Lake, Layer
from rst.framework.stage import Stage
from rst.series.store import SeriesStore
from rst.stages.gold.continuous import ContinuousSeriesStage, table_name
from rst.stages.gold.windows import SessionWindow, SessionWindowStage
from rst.stages.registry import register

__all__ = [
    "ContinuousSeriesStage", "SessionWindow", "SessionWindowStage", "daily_bars_table", "gold_stages", "table_name",
]  # fmt: skip


def daily_bars_table(lake: Lake, symbol: str) -> str:
    """The silver daily-bar table a parent's series read: ``ohlcv_1d``, else session bars from hourly bars."""
    from rst.stages.silver import bronze_tables

    tables = bronze_tables(lake, symbol)
    if "ohlcv_1d" not in tables and "ohlcv_1h" in tables:
        return "ohlcv_1d_session"
    return "ohlcv_1d"


@register(Layer.GOLD)
def gold_stages(lake: Lake, symbol: str) -> list[Stage]:
    """One continuous-series stage per saved series of ``symbol``."""
    definitions = [d for d in SeriesStore(lake.root).list() if d.parent == symbol]
    if not definitions:
        return []
    bars_table = daily_bars_table(lake, symbol)
    return [ContinuousSeriesStage(lake, symbol, d, bars_table) for d in definitions]

"""Silver: bronze records with their contract's definition as of their time, exchange-local time, trading date.

Tables per parent: one per bronze bar table (``ohlcv_1d``, ``ohlcv_1h``,
``ohlcv_1m``, ``ohlcv_1s``, same partitioning) and ``ohlcv_1d_session``
(session-aligned daily bars from hourly bars); each with a ``<table>_quarantine``
for records no definition covers. The intraday tables (``mbp_10``, ``mbp_1``,
``tbbo``, ``trades``, ``statistics``, ``status``) are refined by
:mod:`rst.stages.silver.intraday` (registered there).
"""

from __future__ import annotations

from rst.framework.lake import Lake, Layer
from rst.framework.stage import Stage
from rst.stages.registry import register
from rst.stages.silver.bars import SILVER_BAR_STAGES, SilverBarStage
from rst.stages.silver.base import SilverStage
from rst.stages.silver.intraday import SilverIntradayStage
from rst.stages.silver.session_bars import HOURLY, SilverSessionBars

__all__ = [
    "SILVER_BAR_STAGES", "SilverBarStage", "SilverIntradayStage", "SilverSessionBars", "SilverStage", "silver_stages",
]  # fmt: skip


def bronze_tables(lake: Lake, symbol: str) -> set[str]:
    """Bronze tables the parent has or will have (raw schemas present, or tables on disk)."""
    from rst.stages.bronze import bronze_stages

    tables = {s.table for s in bronze_stages(lake, symbol)}
    root = lake.parent_dir(Layer.BRONZE, symbol)
    if root.is_dir():
        tables.update(p.name.removeprefix("table=") for p in root.glob("table=*"))
    return tables


@register(Layer.SILVER)
def silver_stages(lake: Lake, symbol: str) -> list[Stage]:
    """One silver bar stage per bronze bar table of ``symbol``, plus session bars when hourly bars exist."""
    tables = bronze_tables(lake, symbol)
    stages: list[Stage] = [SILVER_BAR_STAGES[t](lake, symbol) for t in sorted(tables) if t in SILVER_BAR_STAGES]
    if HOURLY in tables:
        stages.append(SilverSessionBars(lake, symbol))
    return stages



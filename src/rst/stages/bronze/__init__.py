"""Bronze: raw DBN → Parquet, one table per schema, exact prices, outrights only, bad records quarantined."""

from __future__ import annotations

from rst.framework.lake import Lake, Layer
from rst.framework.stage import Stage
from rst.sources.raw_zone import RawZone
from rst.stages.bronze.bars import Ohlcv1dStage, Ohlcv1hStage, Ohlcv1mStage, Ohlcv1sStage
from rst.stages.bronze.base import BronzeStage
from rst.stages.bronze.book import Mbp1Stage, Mbp10Stage, TbboStage
from rst.stages.bronze.config import stage_params
from rst.stages.bronze.definitions import DefinitionStage
from rst.stages.bronze.mbo import MboStage
from rst.stages.bronze.statistics import StatisticsStage
from rst.stages.bronze.status import StatusStage
from rst.stages.bronze.trades import TradesStage
from rst.stages.registry import register

BRONZE_STAGES: dict[str, type[BronzeStage]] = {
    cls.dbn_schema: cls
    for cls in (
        DefinitionStage, Ohlcv1dStage, Ohlcv1hStage, Ohlcv1mStage, Ohlcv1sStage,
        Mbp10Stage, Mbp1Stage, TbboStage, TradesStage, StatisticsStage, StatusStage, MboStage,
    )
}  # fmt: skip
"""DBN schema → bronze stage, in run order (definitions and daily bars before the
intraday tables, whose front-month selection reads bronze ``ohlcv_1d``)."""


@register(Layer.BRONZE)
def bronze_stages(lake: Lake, symbol: str) -> list[Stage]:
    """One bronze stage per DBN schema present in the raw zone for ``symbol``, with its ``bronze.toml`` params."""
    schemas = {f.schema for f in RawZone(lake.root).files(symbol=symbol)}
    order = list(BRONZE_STAGES)
    return [
        BRONZE_STAGES[s](lake, symbol, stage_params(lake, BRONZE_STAGES[s].table))
        for s in sorted(schemas, key=lambda s: order.index(s) if s in order else len(order))
        if s in BRONZE_STAGES
    ]

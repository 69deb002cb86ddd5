"""Bronze: raw DBN → Parquet, one table per schema, exact prices, outrights only, bad records quarantined."""

from __future__ import annotations

from rst.framework.lake import Lake, Layer
from rst.framework.stage import Stage
from rst.sources.raw_zone import RawZone
from rst.stages.bronze.bars import Ohlcv1dStage, Ohlcv1hStage, Ohlcv1mStage, Ohlcv1sStage
from rst.stages.bronze.base import BronzeStage
from rst.stages.bronze.definitions import DefinitionStage
from rst.stages.registry import register

BRONZE_STAGES: dict[str, type[BronzeStage]] = {
    cls.dbn_schema: cls for cls in (DefinitionStage, Ohlcv1dStage, Ohlcv1hStage, Ohlcv1mStage, Ohlcv1sStage)
}


@register(Layer.BRONZE)
def bronze_stages(lake: Lake, symbol: str) -> list[Stage]:
    """One bronze stage per DBN schema present in the raw zone for ``symbol``."""
    schemas = {f.schema for f in RawZone(lake.root).files(symbol=symbol)}
    return [BRONZE_STAGES[s](lake, symbol) for s in sorted(schemas) if s in BRONZE_STAGES]

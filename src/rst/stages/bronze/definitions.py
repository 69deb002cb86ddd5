"""Bronze instrument definitions: every field of every outright future definition, exactly as published.

Rows keep all canonical DBN v3 definition fields (v1/v2 files are upgraded),
prices int64 fixed-point 1e-9, timestamps UTC ns; spreads and other
non-outright instruments are filtered out and counted. A definition re-published
unchanged (same instrument, same content, same ``ts_recv``) in overlapping raw
files is kept once (de-duplicated as the batches stream: memory grows with the distinct
definitions, not with the records read). Partitioned by the UTC year of ``ts_recv``.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from rst.framework.partition import Granularity
from rst.framework.stage import StageContext
from rst.sources.dbn_file import canonical_schema
from rst.stages.bronze.bars import data_and_definition_paths, read_records
from rst.stages.bronze.base import BronzeStage
from rst.stages.bronze.dedup import FirstSeen
from rst.stages.bronze.instruments import SPREAD_CLASSES

DEFINITION_COLUMNS = [*canonical_schema("definition").names, "source_file"]


class DefinitionStage(BronzeStage):
    """Bronze ``definition`` table of one parent."""

    table = "definition"
    dbn_schema = "definition"
    granularity = Granularity.YEAR
    date_basis = "utc"
    needs_definitions = False
    version = "1"

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        self.record_coverage(ctx)
        paths, _ = data_and_definition_paths(ctx, self.dbn_schema)
        first: FirstSeen | None = None
        frames = []
        for batch in read_records(ctx, self, paths):
            if first is None:  # the content: every decoded column (ts_out too, when present)
                first = FirstSeen([c for c in batch.columns if c != "source_file"])
            frames.append(first.new_rows(batch))
        if first is None:
            return
        df = pl.concat(frames)
        ctx.count("duplicates_dropped", first.dropped)
        spread = pl.col("instrument_class").is_in(SPREAD_CLASSES) | (pl.col("leg_count") > 0)
        ctx.count("spreads_filtered", df.filter(spread).height)
        df = df.filter(~spread.fill_null(False))
        yield df.select(DEFINITION_COLUMNS).sort("ts_recv", "instrument_id").to_arrow()

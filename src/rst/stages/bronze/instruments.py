"""Who is who: raw symbols and outright/spread classes of instrument ids, as of each record.

Two sources, in order of precedence:

1. the data file's own symbology mappings, when their keys are raw symbols
   (requests by ``raw_symbol``, or parent requests whose keys are the children);
2. the parent's definition records: the latest definition of the instrument
   published at or before the record (else the earliest after it).

An instrument is an *outright* future unless its definition says spread-like
(instrument class ``S`` spread, ``T`` strategy, ``M`` mixed spread, or legs), or,
without a definition, its symbol has spread syntax (``ESH4-ESM4``, ``UD:…``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl

from rst.sources.dbn_file import DEFAULT_BATCH_RECORDS, instrument_symbols, iter_batches, read_info
from rst.stages.bronze.dedup import FirstSeen

SPREAD_CLASSES = ("S", "T", "M")
DEFINITION_BATCH_RECORDS = DEFAULT_BATCH_RECORDS
"""Definition records decoded per batch (16,384: ~8 MiB of raw definitions)."""
_DEF_COLUMNS = ["ts_recv", "instrument_id", "raw_symbol", "instrument_class", "leg_count"]


def definition_directory(paths: list[Path]) -> pl.DataFrame:
    """Definition facts of the given raw definition files: one row per (instrument, publication).

    Streamed and de-duplicated batch by batch: memory grows with the distinct facts, not with
    the records of the files (a definition file can hold the same record millions of times).
    """
    first = FirstSeen(_DEF_COLUMNS)
    frames: list[pl.DataFrame] = []
    for path in paths:
        for batch in iter_batches(path, DEFINITION_BATCH_RECORDS):
            frame = pl.from_arrow(batch.select(_DEF_COLUMNS))
            assert isinstance(frame, pl.DataFrame)
            frames.append(first.new_rows(frame))
    if not frames:
        return pl.DataFrame(
            schema={
                "ts_recv": pl.Datetime("ns", "UTC"),
                "instrument_id": pl.UInt32,
                "raw_symbol": pl.String,
                "instrument_class": pl.String,
                "leg_count": pl.UInt16,
            }
        )
    return pl.concat(frames).sort("instrument_id", "ts_recv")


def mapping_symbols(path: Path) -> pl.DataFrame:
    """Raw-symbol intervals from a data file's own mappings (empty when keys are not raw symbols).

    Raw files are immutable, so the result is cached per process by path, size and mtime.
    """
    st = path.stat()
    return _mapping_symbols(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _mapping_symbols(path: str, size: int, mtime_ns: int) -> pl.DataFrame:
    table = pl.from_arrow(instrument_symbols(read_info(path)))
    assert isinstance(table, pl.DataFrame)
    return table.filter(~pl.col("symbol").str.ends_with(".FUT") & ~pl.col("symbol").str.contains(r"\.[cnv]\.\d+$"))


def resolve(df: pl.DataFrame, directory: pl.DataFrame, mappings: pl.DataFrame) -> pl.DataFrame:
    """Add ``symbol`` and ``is_outright`` (null when unknown) to records with ``instrument_id`` and ``ts_event``."""
    df = df.with_row_index("_row")
    by_mapping = (
        df.select("_row", "instrument_id", _date=pl.col("ts_event").dt.date())
        .join(mappings, on="instrument_id", how="inner")
        .filter((pl.col("_date") >= pl.col("start_date")) & (pl.col("_date") < pl.col("end_date")))
        .group_by("_row")
        .agg(pl.col("symbol").first().alias("_map_symbol"))
    )
    keys = df.select("_row", "instrument_id", "ts_event").sort("ts_event")
    facts = directory.rename({"ts_recv": "_def_ts"}).sort("_def_ts")
    before = keys.join_asof(facts, left_on="ts_event", right_on="_def_ts", by="instrument_id", strategy="backward", check_sortedness=False)
    after = keys.join_asof(facts, left_on="ts_event", right_on="_def_ts", by="instrument_id", strategy="forward", check_sortedness=False)
    known = before.join(after, on="_row", suffix="_after").select(
        "_row",
        _def_symbol=pl.coalesce("raw_symbol", "raw_symbol_after"),
        _class=pl.coalesce("instrument_class", "instrument_class_after"),
        _legs=pl.coalesce("leg_count", "leg_count_after"),
    )
    out = df.join(by_mapping, on="_row", how="left").join(known, on="_row", how="left").sort("_row")
    symbol = pl.coalesce("_map_symbol", "_def_symbol")
    spread_by_def = pl.col("_class").is_in(SPREAD_CLASSES) | (pl.col("_legs").fill_null(0) > 0)
    spread_by_symbol = symbol.str.contains(r"[-:\s]")
    is_outright = (
        pl.when(pl.col("_class").is_not_null())
        .then(~spread_by_def)
        .when(symbol.is_not_null())
        .then(~spread_by_symbol)
        .otherwise(None)
    )
    return out.with_columns(symbol=symbol, is_outright=is_outright).drop(
        "_row", "_map_symbol", "_def_symbol", "_class", "_legs"
    )

"""Helpers for the real-sample tests: what databento's own client decodes, and reading a table back."""

from __future__ import annotations

import warnings
from pathlib import Path

import databento as db
import polars as pl

from rst.framework.lake import Lake, Layer

DEFINITION = "databento-python/GLBX.MDP3/test_data.definition.dbn.zst"


def reference(path: Path) -> pl.DataFrame:
    """``DBNStore.to_df`` with fixed-point prices, integer timestamps and symbols, as polars."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = db.DBNStore.from_file(path).to_df(price_type="fixed", pretty_ts=False, map_symbols=True)
    return pl.from_pandas(df.reset_index())


def read_table(lake: Lake, layer: Layer, table: str, symbol: str = "ES") -> pl.DataFrame:
    """Every part file of a table, without hive columns."""
    root = lake.table_dir(layer, symbol, table)
    return pl.read_parquet(f"{root}/**/*.parquet", hive_partitioning=False)

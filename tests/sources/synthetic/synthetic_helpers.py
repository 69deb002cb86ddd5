"""Helpers for the synthetic generator tests: a warning-strict DBN reader."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import databento as db
import pandas as pd


def read_store(path: Path) -> db.DBNStore:
    """Open a DBN file, failing on any warning except pandas deprecations raised inside databento."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=ResourceWarning)
        return db.DBNStore.from_file(path)


def to_df(store: db.DBNStore, **kwargs: object) -> pd.DataFrame:
    """``store.to_df`` with warnings as errors, except databento's own pandas-4 deprecation."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        warnings.filterwarnings("ignore", category=ResourceWarning)
        return store.to_df(**kwargs)  # type: ignore[arg-type]


WriteFile = Callable[..., Path]
"""``write_file(schema, parents="ES", start=..., end=..., **kw) -> Path``."""

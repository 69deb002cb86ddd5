"""rst: an exact, rerunnable medallion lakehouse for Databento futures data.

``rst.read_series(series_id, start=None, end=None, lake=None)`` and
``rst.read_table(layer, symbol, table, start=None, end=None, lake=None)`` read
the lake as polars frames (imported lazily, see :mod:`rst.read`).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "read_series", "read_table"]


def __getattr__(name: str) -> Any:
    if name in ("read_series", "read_table"):
        from rst import read

        return getattr(read, name)
    raise AttributeError(f"module 'rst' has no attribute {name!r}")

"""Continuous futures series: saved definitions, roll selection, adjustment, build and update.

A pure, columnar library (polars/numpy, no I/O except :class:`SeriesStore`); the
gold stage calls it. Prices in and unadjusted prices out are int64 fixed-point
1e-9; adjusted prices are float64 in price units (the one place floats appear).
See ``docs/continuous_series.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rst.series.definition import (
    MONTH_CODES,
    SCHEMA_VERSION,
    Adjustment,
    PriceField,
    RollRule,
    SeriesDefinition,
)
from rst.series.store import SeriesStore, dumps_toml, fingerprint

if TYPE_CHECKING:
    from rst.series.engine import (
        DEFAULT_LOOKBACK_DAYS,
        ROLL_EVENTS_SCHEMA,
        SERIES_SCHEMA,
        build,
        roll_events,
        update,
    )
    from rst.series.roll import REQUIRED_COLUMNS

_LAZY = {
    "DEFAULT_LOOKBACK_DAYS": "rst.series.engine",
    "ROLL_EVENTS_SCHEMA": "rst.series.engine",
    "SERIES_SCHEMA": "rst.series.engine",
    "build": "rst.series.engine",
    "roll_events": "rst.series.engine",
    "update": "rst.series.engine",
    "REQUIRED_COLUMNS": "rst.series.roll",
}
"""Exports whose modules load on first use (they import heavy libraries), so that importing a light module
of this package, or a CLI ``--help``, does not pay for them."""

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "MONTH_CODES",
    "REQUIRED_COLUMNS",
    "ROLL_EVENTS_SCHEMA",
    "SCHEMA_VERSION",
    "SERIES_SCHEMA",
    "Adjustment",
    "PriceField",
    "RollRule",
    "SeriesDefinition",
    "SeriesStore",
    "build",
    "dumps_toml",
    "fingerprint",
    "roll_events",
    "update",
]


def __getattr__(name: str) -> Any:
    """Import a lazy export's module on first use and keep the export as a module attribute."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

"""Continuous futures series: saved definitions, roll selection, adjustment, build and update.

A pure, columnar library (polars/numpy, no I/O except :class:`SeriesStore`); the
gold stage calls it. Prices in and unadjusted prices out are int64 fixed-point
1e-9; adjusted prices are float64 in price units (the one place floats appear).
See ``docs/continuous_series.md``.
"""

from __future__ import annotations

from rst.series.build import (
    DEFAULT_LOOKBACK_DAYS,
    ROLL_EVENTS_SCHEMA,
    SERIES_SCHEMA,
    build,
    roll_events,
    update,
)
from rst.series.definition import (
    MONTH_CODES,
    SCHEMA_VERSION,
    Adjustment,
    PriceField,
    RollRule,
    SeriesDefinition,
)
from rst.series.roll import REQUIRED_COLUMNS
from rst.series.store import SeriesStore, dumps_toml, fingerprint

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

"""Parent metadata derived from bronze definitions: pure functions of a definitions frame.

Input frames have the bronze ``definition`` columns (at least ``ts_recv``,
``instrument_id``, ``raw_symbol``, ``expiration``, ``activation``,
``min_price_increment``, ``unit_of_measure_qty``, ``contract_multiplier``,
``currency``, ``exchange``, ``asset``, ``maturity_month``). Prices are int64
fixed-point 1e-9.

Point value: CME leaves ``contract_multiplier`` unset (``i32::MAX``) and
publishes the contract size as ``unit_of_measure_qty`` (fixed-point 1e-9: ES
``50.000000000``), so the point value is ``unit_of_measure_qty``, falling back
to ``contract_multiplier`` (scaled to 1e-9) only where the former is null.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MONTH_CODES = "FGHJKMNQUVXZ"
I32_MAX = 2**31 - 1
FIXED_SCALE = 1_000_000_000

CONTRACT_FIELDS = [
    "symbol", "expiration", "activation", "tick_size", "point_value", "currency", "exchange", "asset",
]  # fmt: skip
"""The per-contract fields silver adds to every record (as of the record's time)."""


def point_value_expr() -> pl.Expr:
    """Currency per 1.0 of price, int64 fixed-point 1e-9 (see the module docstring)."""
    multiplier = pl.col("contract_multiplier")
    from_multiplier = (
        pl.when(multiplier.is_not_null() & (multiplier != I32_MAX) & (multiplier > 0))
        .then(multiplier.cast(pl.Int64) * FIXED_SCALE)
        .otherwise(None)
    )
    return pl.coalesce(pl.col("unit_of_measure_qty").cast(pl.Int64), from_multiplier)


def month_code_expr() -> pl.Expr:
    """The contract month code (``H``) from ``maturity_month``, else from the raw symbol (``ESH4``)."""
    from_maturity = (
        pl.when(pl.col("maturity_month").is_between(1, 12))
        .then(pl.lit(MONTH_CODES).str.slice(pl.col("maturity_month").cast(pl.Int64) - 1, 1))
        .otherwise(None)
    )
    from_symbol = pl.col("raw_symbol").cast(pl.String).str.extract(r"([FGHJKMNQUVXZ])\d{1,2}$", 1)
    return pl.coalesce(from_maturity, from_symbol)


def definition_facts(definitions: pl.DataFrame) -> pl.DataFrame:
    """One row per (instrument, publication): the contract fields silver carries.

    Columns: ``instrument_id``, ``definition_ts_recv`` and :data:`CONTRACT_FIELDS`,
    sorted by ``definition_ts_recv``. A publication repeated with the same ``ts_recv``
    keeps its last record.
    """
    return (
        definitions.select(
            pl.col("instrument_id"),
            pl.col("ts_recv").alias("definition_ts_recv"),
            pl.col("raw_symbol").cast(pl.String).alias("symbol"),
            pl.col("expiration"),
            pl.col("activation"),
            pl.col("min_price_increment").cast(pl.Int64).alias("tick_size"),
            point_value_expr().alias("point_value"),
            pl.col("currency").cast(pl.String),
            pl.col("exchange").cast(pl.String),
            pl.col("asset").cast(pl.String),
        )
        .unique(subset=["instrument_id", "definition_ts_recv"], keep="last", maintain_order=True)
        .sort("definition_ts_recv", "instrument_id")
    )


def latest_definitions(definitions: pl.DataFrame) -> pl.DataFrame:
    """The latest publication of each instrument (by ``ts_recv``)."""
    return definitions.sort("ts_recv", maintain_order=True).group_by("instrument_id", maintain_order=True).last()


def contracts_table(definitions: pl.DataFrame) -> pl.DataFrame:
    """The parent's contracts ordered by expiration, from their latest definitions.

    Columns: ``symbol``, ``instrument_id``, ``month``, ``activation``, ``expiration``,
    ``tick_size``, ``point_value`` (int64 fixed-point 1e-9), ``currency``, ``exchange``,
    ``last_definition`` (``ts_recv`` of the latest publication).
    """
    latest = latest_definitions(definitions)
    return latest.select(
        pl.col("raw_symbol").cast(pl.String).alias("symbol"),
        pl.col("instrument_id"),
        month_code_expr().alias("month"),
        pl.col("activation"),
        pl.col("expiration"),
        pl.col("min_price_increment").cast(pl.Int64).alias("tick_size"),
        point_value_expr().alias("point_value"),
        pl.col("currency").cast(pl.String),
        pl.col("exchange").cast(pl.String),
        pl.col("ts_recv").alias("last_definition"),
    ).sort("expiration", "instrument_id", nulls_last=True)


@dataclass(frozen=True)
class Derived:
    """What the definitions say about a parent (None where they say nothing)."""

    exchange: str | None
    currency: str | None
    tick_size: int | None
    point_value: int | None
    months: str
    """Listed contract month codes in calendar order, e.g. ``HMUZ``."""
    contracts: int
    first_expiration: object | None
    last_expiration: object | None


def _mode(series: pl.Series) -> object | None:
    """Most frequent non-null value; ties go to the value of the latest-expiring contract (last in order)."""
    values = series.drop_nulls()
    if values.is_empty():
        return None
    counts = values.value_counts(sort=False)
    best = counts.get_column("count").max()
    candidates = set(counts.filter(pl.col("count") == best).get_column(series.name).to_list())
    for value in reversed(values.to_list()):
        if value in candidates:
            return value
    return None  # pragma: no cover


def derive(definitions: pl.DataFrame) -> Derived:
    """Parent-level facts from the latest definition of each of its contracts."""
    contracts = contracts_table(definitions)
    months = set(contracts.get_column("month").drop_nulls().to_list())
    expirations = contracts.get_column("expiration").drop_nulls()
    return Derived(
        exchange=_mode(contracts.get_column("exchange")),  # type: ignore[arg-type]
        currency=_mode(contracts.get_column("currency")),  # type: ignore[arg-type]
        tick_size=_mode(contracts.get_column("tick_size")),  # type: ignore[arg-type]
        point_value=_mode(contracts.get_column("point_value")),  # type: ignore[arg-type]
        months="".join(c for c in MONTH_CODES if c in months),
        contracts=contracts.height,
        first_expiration=expirations.min() if expirations.len() else None,
        last_expiration=expirations.max() if expirations.len() else None,
    )

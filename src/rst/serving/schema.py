"""How a lake table maps onto a PostgreSQL table: names, column types, key, partitioning.

One database table per lake table and layer, named ``<layer>_<table>`` (``silver_ohlcv_1d``,
``gold_continuous_es_front_ratio``), holding every parent (column ``parent``). Identifiers come
only from the lake's own table names, accepted by a full-string regex; values are always bound.

Exactness (documented choice): prices stay the lake's int64 fixed-point 1e-9 integers in
``bigint`` columns, and a view ``<table>_exact`` shows them as ``numeric(19,9)`` (exact
decimals; every int64 fits). A nanosecond timestamp column ``ts`` becomes two columns:
``ts_ns bigint`` (exact, UTC ns since the epoch; part of the key where ``ts`` is) and ``ts
timestamptz`` for humans (PostgreSQL keeps microseconds: floored). Unsigned integers widen
(u8→smallint, u16→integer, u32→bigint); u64 is stored in ``bigint`` and a value above 2**63-1
is refused rather than wrapped. The lake dtypes are recorded in ``rst_tables`` so a query
returns exactly the frame :func:`rst.read.read_table` returns.

Key: ``parent``, the table's natural key columns (see :func:`natural_key`) and ``_dup`` (the
occurrence number among rows of one partition sharing the natural key, in file order: 0 for
every row of a table whose natural key is unique). ``_partition`` holds the lake partition
(``year=2024``) a row came from, so a rebuilt partition can drop rows it no longer has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from rst.serving.errors import PublishError

IDENT = re.compile(r"[a-z][a-z0-9_]{0,54}")
"""A database identifier rst creates: lower-case, starts with a letter, fits PostgreSQL's 63 bytes with suffixes."""

TIME_KEY_COLUMNS = ("ts_event", "ts_recv", "trading_date")
"""Columns that may partition a table by time, in order of preference."""

KEY_CANDIDATES = ("ts_recv", "ts_event", "trading_date", "instrument_id", "sequence")
"""Natural key columns, taken in the table's column order when present."""

DAILY_SERIES_PREFIX = "continuous_"
"""Gold continuous series: one row per trading date, whatever the contract (key: ``trading_date``)."""

PRICE = re.compile(r"(open|high|low|close|settlement|price|tick_size|point_value|ref_price|(bid|ask)_px_\d+)")
"""Columns holding int64 fixed-point 1e-9 prices (shown as numeric in the ``_exact`` view)."""

META_COLUMNS = ("parent", "_partition", "_dup")

NS_PER_DAY = 86_400 * 10**9

# lake dtype name -> (PostgreSQL type, polars dtype of the value sent/received)
_TYPES: dict[str, tuple[str, pl.DataType]] = {
    "Boolean": ("boolean", pl.Boolean()),
    "Int8": ("smallint", pl.Int16()),
    "Int16": ("smallint", pl.Int16()),
    "Int32": ("integer", pl.Int32()),
    "Int64": ("bigint", pl.Int64()),
    "UInt8": ("smallint", pl.Int16()),
    "UInt16": ("integer", pl.Int32()),
    "UInt32": ("bigint", pl.Int64()),
    "UInt64": ("bigint", pl.Int64()),
    "Float32": ("real", pl.Float32()),
    "Float64": ("double precision", pl.Float64()),
    "Date": ("date", pl.Date()),
    "String": ("text", pl.String()),
    "Categorical": ("text", pl.String()),
    "Datetime": ("bigint", pl.Int64()),
}


def check_ident(name: str, what: str) -> str:
    """``name`` when it is a safe database identifier, else :class:`PublishError` naming ``what``."""
    if not IDENT.fullmatch(name):
        raise PublishError(f"{what}: {name!r} is not a publishable name (lower-case letters, digits, _; at most 55)")
    return name


def db_table_name(layer: str, table: str) -> str:
    """``<layer>_<table>``, checked against :data:`IDENT`."""
    return check_ident(f"{layer}_{table}", f"table {layer}/{table}")


@dataclass(frozen=True)
class Column:
    """One lake column: its name, its lake dtype (``kind`` + time zone) and how it is stored."""

    name: str
    kind: str
    tz: str | None = None

    @property
    def is_time(self) -> bool:
        return self.kind == "Datetime"

    @property
    def stored(self) -> str:
        """The exact database column: ``<name>_ns`` for timestamps, else the name."""
        return f"{self.name}_ns" if self.is_time else self.name

    @property
    def pg_type(self) -> str:
        return _TYPES[self.kind][0]

    @property
    def wire(self) -> pl.DataType:
        """The polars dtype of the exact value on the wire."""
        return _TYPES[self.kind][1]

    def lake_dtype(self) -> pl.DataType:
        """The polars dtype :func:`rst.read.read_table` returns for this column."""
        if self.is_time:
            return pl.Datetime("ns", self.tz)
        if self.kind == "Categorical":
            return pl.Categorical()
        return getattr(pl, self.kind)()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "tz": self.tz}


@dataclass(frozen=True)
class TableLayout:
    """A lake table's database layout: columns, key, partition column."""

    db_table: str
    layer: str
    lake_table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Lake column names of the natural key (``_dup`` and ``parent`` come on top)."""

    @property
    def time_column(self) -> Column:
        """The column the database table is range-partitioned on (first of :data:`TIME_KEY_COLUMNS` in the key)."""
        by_name = {c.name: c for c in self.columns}
        for name in TIME_KEY_COLUMNS:
            if name in self.key:
                return by_name[name]
        raise PublishError(
            f"table {self.layer}/{self.lake_table}: no time column among {TIME_KEY_COLUMNS} to partition by"
        )

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def key_stored(self) -> tuple[str, ...]:
        """Database key columns: ``parent``, the natural key (``_ns`` forms), ``_dup``."""
        return ("parent", *(self.column(k).stored for k in self.key), "_dup")

    @property
    def value_stored(self) -> tuple[str, ...]:
        """Every stored non-key column (human timestamps and ``_partition`` included)."""
        key = set(self.key_stored)
        out: list[str] = ["_partition"]
        for c in self.columns:
            if c.stored not in key:
                out.append(c.stored)
            if c.is_time:
                out.append(c.name)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {"columns": [c.to_json() for c in self.columns], "key": list(self.key)}

    @classmethod
    def from_json(cls, db_table: str, layer: str, lake_table: str, doc: dict[str, Any]) -> TableLayout:
        cols = tuple(Column(c["name"], c["kind"], c.get("tz")) for c in doc["columns"])
        return cls(db_table, layer, lake_table, cols, tuple(doc["key"]))


def layout_for(layer: str, table: str, schema: pl.Schema) -> TableLayout:
    """The layout of lake table ``layer/table`` with ``schema``; :class:`PublishError` on what cannot be stored exactly."""
    db_table = db_table_name(layer, table)
    columns: list[Column] = []
    for name, dtype in schema.items():
        check_ident(name, f"column {name!r} of {layer}/{table}")
        kind = type(dtype).__name__ if not isinstance(dtype, pl.Enum) else "Categorical"
        if kind not in _TYPES:
            raise PublishError(f"{layer}/{table}: column {name} has type {dtype}, which rst cannot publish exactly")
        tz = getattr(dtype, "time_zone", None) if kind == "Datetime" else None
        columns.append(Column(name, kind, tz))
    names = {c.name for c in columns}
    for c in columns:
        if c.is_time and f"{c.name}_ns" in names or c.name in META_COLUMNS:
            raise PublishError(f"{layer}/{table}: column {c.name} collides with a database column rst adds")
    return TableLayout(db_table, layer, table, tuple(columns), natural_key(table, [c.name for c in columns]))


def natural_key(table: str, columns: list[str]) -> tuple[str, ...]:
    """The natural key of a lake table: ``trading_date`` for a continuous series, else :data:`KEY_CANDIDATES` present."""
    if table.startswith(DAILY_SERIES_PREFIX) and "trading_date" in columns:
        return ("trading_date",)
    return tuple(c for c in columns if c in KEY_CANDIDATES)


def to_wire(df: pl.DataFrame, layout: TableLayout, parent: str, partition: str) -> pl.DataFrame:
    """The lake rows as the stored columns in database order (key first), exact values only.

    Adds ``parent``, ``_partition``, ``_dup``; timestamps become UTC ns (``_ns``) plus the
    microsecond value for the human ``timestamptz`` column. Raises :class:`PublishError` on a
    u64 value above 2**63-1.
    """
    exprs: list[pl.Expr] = [pl.lit(parent, pl.String).alias("parent"), pl.lit(partition, pl.String).alias("_partition")]
    for c in layout.columns:
        col = pl.col(c.name)
        if c.is_time:
            ns = (
                col.dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.epoch("ns")
                if c.tz
                else col.dt.epoch("ns")
            )
            exprs.append(ns.alias(c.stored))
            exprs.append(ns.floordiv(1000).alias(c.name))
        elif c.kind == "UInt64":
            exprs.append(col)
        else:
            exprs.append(col.cast(c.wire).alias(c.name))
    out = df.select(exprs)
    for c in layout.columns:
        if c.kind == "UInt64":
            big = out.select((pl.col(c.name) > 2**63 - 1).any()).item()
            if big:
                raise PublishError(
                    f"{layout.layer}/{layout.lake_table} {partition}: column {c.name} holds a value above 2**63-1"
                )
            out = out.with_columns(pl.col(c.name).cast(pl.Int64))
    key = [layout.column(k).stored for k in layout.key]
    out = out.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int32).over(key) if key else pl.int_range(pl.len(), dtype=pl.Int32)).alias(
            "_dup"
        )
    )
    return out.select([*layout.key_stored, *layout.value_stored])


def stored_types(layout: TableLayout) -> dict[str, str]:
    """Database type of every stored column (human timestamps are ``timestamptz``)."""
    types = {"parent": "text", "_partition": "text", "_dup": "integer"}
    for c in layout.columns:
        types[c.stored] = c.pg_type
        if c.is_time:
            types[c.name] = "timestamptz"
    return types


def is_price(column: Column) -> bool:
    """True for an int64 column named like a price (fixed-point 1e-9); the ``_exact`` view shows it as ``numeric(19,9)``."""
    return column.kind == "Int64" and PRICE.fullmatch(column.name) is not None

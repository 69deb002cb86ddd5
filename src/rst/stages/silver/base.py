"""What every silver stage shares: the parent's time zone, definition inputs, the local-time contract.

Silver reads bronze partitions and the bronze ``definition`` partitions an
as-of join needs: definitions are partitioned by the UTC year of ``ts_recv``,
so a partition reads the definition years it spans plus the year before
(GLBX re-publishes every live instrument at least monthly; the synthetic
generator monthly too).

The time zone (``params["timezone"]``) comes from :mod:`rst.parents`
(override, else the exchange's zone). It is resolved when a partition's inputs
are resolved, that is after bronze has run in the same ``rst run``, and is part
of the parameters recorded in the manifest: changing the override makes the
silver partitions stale. The Avro contract's ``ts_event_local`` carries
``"tz": "America/Chicago"``; a parent in another zone gets the same contract
with its own zone (and its own fingerprint).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import ClassVar

import polars as pl
import pyarrow as pa

from rst.framework.contract import Contract, FieldSpec, load_contract
from rst.framework.hashing import sha256_bytes
from rst.framework.lake import Layer
from rst.framework.manifest import read_manifest
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.framework.sessions import Session, trading_date_expr
from rst.framework.stage import Input, PartitionInput, Stage, StageContext
from rst.parents import parent_timezone, session_for
from rst.parents.metadata import definition_facts
from rst.read import partition_files

DEFINITION_TABLE = "definition"
LOCAL_COLUMN = "ts_event_local"
DEFINITION_LOOKBACK_YEARS = 1


class SilverStage(Stage):
    """Base of the silver stages of one parent."""

    layer = Layer.SILVER
    local_columns: ClassVar[tuple[str, ...]] = (LOCAL_COLUMN,)

    # ---- the parent's zone --------------------------------------------------------
    @property
    def timezone(self) -> str:
        """The parent's IANA zone (resolved once per stage instance, see the module docstring)."""
        zone = self.params.get("timezone")
        if not zone:
            zone = parent_timezone(self.lake, self.symbol)
            self.params["timezone"] = zone
        return str(zone)

    @property
    def session(self) -> Session:
        return session_for(self.timezone)

    @property
    def contract(self) -> Contract:
        """The table's contract with ``ts_event_local`` in the parent's zone."""
        base = load_contract(self.layer.value, self.table)
        return localize_contract(base, self.timezone, self.local_columns)

    # ---- inputs --------------------------------------------------------------------
    def bronze(self, table: str, key: PartitionKey) -> Partition:
        return Partition(Layer.BRONZE, self.symbol, table, key)

    def complete(self, partition: Partition) -> bool:
        return read_manifest(partition.path(self.lake)) is not None

    def definition_inputs(self, key: PartitionKey) -> list[Input]:
        """The complete bronze definition partitions of the years ``key`` spans, and the year before."""
        first = key.start.year - DEFINITION_LOOKBACK_YEARS
        last = (key.end - dt.timedelta(days=1)).year
        found: list[Input] = []
        for year in range(first, last + 1):
            partition = self.bronze(DEFINITION_TABLE, PartitionKey(Granularity.YEAR, f"{year:04d}"))
            if self.complete(partition):
                found.append(PartitionInput(partition))
        return found

    def with_zone(self, inputs: list[Input]) -> list[Input]:
        """Resolve the zone (it joins the lineage via ``params``) when there is something to build."""
        if inputs:
            self.timezone  # noqa: B018  (resolves and records params["timezone"])
        return inputs


def localize_contract(base: Contract, timezone: str, columns: tuple[str, ...]) -> Contract:
    """``base`` with the timestamp ``columns`` in ``timezone`` (fingerprint changed accordingly)."""
    fields: list[FieldSpec] = []
    changed = False
    for spec in base.fields:
        if spec.name in columns and pa.types.is_timestamp(spec.arrow_type) and spec.arrow_type.tz != timezone:
            fields.append(dataclasses.replace(spec, arrow_type=pa.timestamp(spec.arrow_type.unit, tz=timezone)))
            changed = True
        else:
            fields.append(spec)
    if not changed:
        return base
    fingerprint = sha256_bytes(f"{base.fingerprint}:tz={timezone}".encode())
    return dataclasses.replace(base, fields=tuple(fields), fingerprint=fingerprint)


def read_inputs(ctx: StageContext, table: str) -> pl.DataFrame | None:
    """Concatenate the input partitions of bronze ``table`` (None when there are none)."""
    files = [
        f
        for i in ctx.inputs
        if isinstance(i, PartitionInput) and i.partition.table == table
        for f in partition_files(i.partition.path(ctx.lake))
    ]
    if not files:
        return None
    df = pl.read_parquet(files)
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String))


def read_definition_facts(ctx: StageContext) -> pl.DataFrame:
    """Definition facts (one row per instrument publication) of the partition's definition inputs."""
    defs = read_inputs(ctx, DEFINITION_TABLE)
    if defs is None:
        return definition_facts(_EMPTY_DEFINITIONS)
    return definition_facts(defs)


def local_and_trading_date(df: pl.DataFrame, session: Session, date_basis: str) -> pl.DataFrame:
    """Add ``ts_event_local`` (parent zone) and ``trading_date`` (``utc``: UTC date; ``session``: trading date)."""
    trading_date = pl.col("ts_event").dt.date() if date_basis == "utc" else trading_date_expr(pl.col("ts_event"), session)
    return df.with_columns(
        pl.col("ts_event").dt.convert_time_zone(session.tz).alias(LOCAL_COLUMN),
        trading_date.alias("trading_date"),
    )


_TS = pl.Datetime("ns", "UTC")
_EMPTY_DEFINITIONS = pl.DataFrame(
    schema={
        "ts_recv": _TS, "instrument_id": pl.UInt32, "raw_symbol": pl.String, "expiration": _TS, "activation": _TS,
        "min_price_increment": pl.Int64, "unit_of_measure_qty": pl.Int64, "contract_multiplier": pl.Int32,
        "currency": pl.String, "exchange": pl.String, "asset": pl.String,
    }
)  # fmt: skip

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

Trade dates come from the parent's calendar (:func:`rst.parents.parent_calendar`,
:mod:`rst.calendars`): ``params["calendar"]`` records its identity (name and rst's
booking-rule version) and ``params["calendar_days"]`` a digest of what it says about
the dates the partition covers, set by :meth:`SilverStage.with_calendar` when the
partition's inputs are resolved; so a calendar change stales exactly the partitions
whose dates it touches. Bronze cuts partitions by *raw* date (weekends to Monday, no
holidays), so a silver partition of trade dates reads the bronze partitions of every
raw date booked into it (:meth:`SilverStage.raw_keys`): the Tuesday after MLK day
reads bronze Monday and Tuesday, and the holiday has no silver partition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from rst.calendars import WEEKDAYS, TradingCalendar, get_calendar
from rst.errors import InputMissing, PartitionCorrupt
from rst.framework.contract import Contract, FieldSpec, load_contract
from rst.framework.hashing import sha256_bytes
from rst.framework.lake import Layer
from rst.framework.partition import Granularity, Partition, PartitionKey, keys_between
from rst.framework.sessions import CME, Session, trading_date_expr
from rst.framework.stage import Input, PartitionInput, Role, Stage, StageContext
from rst.parents import parent_calendar, parent_timezone, session_for
from rst.parents.metadata import definition_facts

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
    def calendar(self) -> TradingCalendar:
        """The parent's trading calendar (see the module docstring).

        Before the parent has bronze definitions (planning a first run) its exchange is
        unknown and :data:`rst.calendars.WEEKDAYS` stands in, unrecorded: it has every trade
        date of any calendar, so planning only proposes a superset of partitions.
        """
        name = self.params.get("calendar")
        if name:
            return get_calendar(str(name).rsplit("/", 1)[0])
        try:
            return get_calendar(parent_calendar(self.lake, self.symbol))
        except (InputMissing, PartitionCorrupt):  # a corrupt definition partition: this run's bronze rebuilds it
            return get_calendar(WEEKDAYS)

    def with_calendar(self, key: PartitionKey, inputs: list[Input]) -> list[Input]:
        """:meth:`with_zone`, plus the calendar's identity and its digest over ``key``'s dates in ``params``.

        ``params`` is per stage instance and this digest per key: a stage runs one key at a time
        (``inputs(key)`` precedes every lineage check and build of that key).
        """
        if inputs:
            calendar = get_calendar(parent_calendar(self.lake, self.symbol))
            self.params["calendar"] = calendar.identity
            self.params["calendar_days"] = calendar.digest(key.start - dt.timedelta(days=7), key.end)
        return self.with_zone(inputs)

    def raw_keys(self, key: PartitionKey, granularity: Granularity) -> list[PartitionKey]:
        """Bronze keys (of ``granularity``, cut by raw date in the CME zone) whose rows can book into ``key``.

        Raw dates from the day after the last trade date before ``key`` through its last trade date;
        one more day each side for a parent outside the CME zone. Empty when ``key`` holds no trade date.
        Callers build a key only once bronze's own partition of it is complete (so no empty partition is
        made from a neighbour alone).
        """
        cal = self.calendar
        days = cal.trading_days(key.start, key.end - dt.timedelta(days=1))
        if not days:
            return []
        first = cal.previous_trading_day(key.start) + dt.timedelta(days=1)
        last = days[-1]
        if self.timezone != CME.tz:
            first, last = first - dt.timedelta(days=1), last + dt.timedelta(days=1)
        return keys_between(granularity, first, last)

    def trade_keys(self, raw: list[PartitionKey]) -> list[PartitionKey]:
        """Keys (this stage's granularity) of bronze ``raw`` keys; a day that is no trade date (a holiday) has none."""
        keys = {PartitionKey.containing(self.granularity, k.start) for k in raw}
        if self.granularity is Granularity.DAY:
            trade = set(self.keep_trade_dates([k.start for k in keys]))
            keys = {k for k in keys if k.start in trade}
        return sorted(keys)

    def keep_trade_dates(self, dates: list[dt.date]) -> list[dt.date]:
        """The ``dates`` that are trade dates of the parent's calendar."""
        if not dates:
            return []
        return [d for d, ok in zip(dates, self.calendar.is_trading_day(np.array(dates, dtype="datetime64[D]")), strict=True) if ok]

    @property
    def contract(self) -> Contract:
        """The table's contract with ``ts_event_local`` in the parent's zone."""
        base = load_contract(self.layer.value, self.table)
        return localize_contract(base, self.timezone, self.local_columns)

    # ---- inputs --------------------------------------------------------------------
    def bronze(self, table: str, key: PartitionKey) -> Partition:
        return Partition(Layer.BRONZE, self.symbol, table, key)

    def waits_for(self) -> tuple[tuple[Layer, str], ...]:
        return ((Layer.BRONZE, DEFINITION_TABLE),)  # the calendar (see the module docstring)

    def definition_inputs(self, key: PartitionKey) -> list[Input]:
        """The complete bronze definition partitions of the years ``key`` spans, and the year before."""
        first = key.start.year - DEFINITION_LOOKBACK_YEARS
        last = (key.end - dt.timedelta(days=1)).year
        found: list[Input] = []
        for year in range(first, last + 1):
            partition = self.bronze(DEFINITION_TABLE, PartitionKey(Granularity.YEAR, f"{year:04d}"))
            if self.complete(partition):
                found.append(PartitionInput(partition, Role.DEFINITIONS))
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


def read_inputs(ctx: StageContext, role: Role) -> pl.DataFrame | None:
    """Concatenate the input partitions of ``role`` (None when there are none)."""
    files = ctx.files(role)
    if not files:
        return None
    df = pl.read_parquet(files)
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String))


def read_definition_facts(ctx: StageContext) -> pl.DataFrame:
    """Definition facts (one row per instrument publication) of the partition's definition inputs."""
    defs = read_inputs(ctx, Role.DEFINITIONS)
    if defs is None:
        return definition_facts(_EMPTY_DEFINITIONS)
    return definition_facts(defs)


def local_and_trading_date(
    df: pl.DataFrame, session: Session, date_basis: str, calendar: TradingCalendar | None = None
) -> pl.DataFrame:
    """Add ``ts_event_local`` (parent zone) and ``trading_date`` (``utc``: UTC date; ``session``: booked trade date)."""
    ts = pl.col("ts_event")
    trading_date = ts.dt.date() if date_basis == "utc" else trading_date_expr(ts, session, calendar)
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

"""Parent metadata: exchange, time zone, currency, tick size, point value, listed months.

Derived from the parent's bronze ``definition`` table (see
:mod:`rst.parents.metadata`), with user overrides from
``<lake>/_config/parents.toml`` (see :mod:`rst.parents.overrides`) taking
precedence key by key. The time zone silver uses for ``ts_event_local`` and
trading dates comes from here: the override, else the zone of the exchange MIC
(:mod:`rst.parents.exchanges`); an unknown exchange without an override is a
:class:`rst.errors.ConfigError` asking for one. The trading calendar likewise: the
``calendar`` override, else the exchange's (:func:`rst.calendars.calendar_for_exchange`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from rst.errors import ConfigError, InputMissing
from rst.framework.lake import Lake, Layer
from rst.framework.sessions import Session
from rst.parents.exchanges import exchange_timezone
from rst.parents.metadata import contracts_table, derive
from rst.parents.overrides import PARENTS_FILE, ParentOverride, load_overrides

__all__ = [
    "ParentMeta",
    "contracts",
    "definitions",
    "list_parents",
    "parent_calendar",
    "parent_metadata",
    "resolve_timezone",
    "session_for",
]

DEFINITION_TABLE = "definition"
_DEFINITION_COLUMNS = [
    "ts_recv", "instrument_id", "raw_symbol", "expiration", "activation", "min_price_increment",
    "unit_of_measure_qty", "contract_multiplier", "currency", "exchange", "asset", "maturity_month",
]  # fmt: skip


@dataclass(frozen=True)
class ParentMeta:
    """The metadata of one parent; prices int64 fixed-point 1e-9.

    ``sources`` says where each value came from: ``"override"`` or ``"definitions"``
    (``"exchange"`` for a time zone looked up from the MIC).
    """

    parent: str
    exchange: str | None
    timezone: str | None
    currency: str | None
    tick_size: int | None
    point_value: int | None
    months: str
    contracts: int
    first_expiration: dt.datetime | None
    last_expiration: dt.datetime | None
    roll_days: int | None
    notes: str
    sources: dict[str, str]


def definitions(lake: Lake, symbol: str) -> pl.DataFrame:
    """The parent's bronze definitions (complete partitions), only the columns metadata needs.

    Raises
    ------
    InputMissing
        When the parent has no bronze definitions (run ``rst run --layer bronze`` first).
    """
    from rst.read import complete_partitions, read_partitions

    dirs = complete_partitions(lake, Layer.BRONZE, symbol, DEFINITION_TABLE)
    frame = read_partitions(dirs, _DEFINITION_COLUMNS)
    if frame is None:
        raise InputMissing(
            lake.table_dir(Layer.BRONZE, symbol, DEFINITION_TABLE),
            f"no bronze definitions of {symbol}; import definition files and run bronze",
        )
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))


def resolve_timezone(lake: Lake, symbol: str, exchange: str | None, override: ParentOverride | None) -> str:
    """The parent's time zone: the override, else the exchange's.

    Raises
    ------
    ConfigError
        When the exchange is unknown (or absent) and no override is set.
    """
    if override is not None and override.timezone:
        return override.timezone
    zone = exchange_timezone(exchange)
    if zone is None:
        raise ConfigError(
            lake.root / PARENTS_FILE,
            f"parent {symbol}: exchange {exchange!r} has no known time zone; "
            f'set it with [{symbol}] timezone = "Area/City" in this file',
        )
    return zone


def session_for(timezone: str) -> Session:
    """The daily session of a parent in ``timezone`` (CME Globex hours: 17:00 → 16:00 local)."""
    return Session(tz=timezone)


def parent_metadata(lake: Lake, symbol: str, *, strict: bool = True) -> ParentMeta:
    """Metadata of ``symbol``: overrides over what its bronze definitions say.

    With ``strict=False`` an unknown time zone is reported as None instead of raising,
    and a parent without definitions still gets its overrides.
    """
    overrides = load_overrides(lake.root)
    override = overrides.get(symbol, ParentOverride())
    try:
        derived = derive(definitions(lake, symbol))
    except InputMissing:
        if strict and symbol not in overrides:
            raise
        derived = derive(pl.DataFrame(schema=_empty_schema()))
    sources: dict[str, str] = {}

    def pick(name: str, derived_value: object) -> object:
        value = getattr(override, name)
        if value is not None:
            sources[name] = "override"
            return value
        if derived_value is not None:
            sources[name] = "definitions"
        return derived_value

    exchange = pick("exchange", derived.exchange)
    try:
        timezone: str | None = resolve_timezone(lake, symbol, exchange, override)  # type: ignore[arg-type]
        sources["timezone"] = "override" if override.timezone else "exchange"
    except ConfigError:
        if strict:
            raise
        timezone = None
    return ParentMeta(
        parent=symbol,
        exchange=exchange,  # type: ignore[arg-type]
        timezone=timezone,
        currency=pick("currency", derived.currency),  # type: ignore[arg-type]
        tick_size=pick("tick_size", derived.tick_size),  # type: ignore[arg-type]
        point_value=pick("point_value", derived.point_value),  # type: ignore[arg-type]
        months=derived.months,
        contracts=derived.contracts,
        first_expiration=derived.first_expiration,  # type: ignore[arg-type]
        last_expiration=derived.last_expiration,  # type: ignore[arg-type]
        roll_days=override.roll_days,
        notes=override.notes,
        sources=sources,
    )


def parent_timezone(lake: Lake, symbol: str) -> str:
    """The time zone silver uses for ``symbol`` (override first: no definitions read when set)."""
    override = load_overrides(lake.root).get(symbol)
    if override is not None and override.timezone:
        return override.timezone
    return resolve_timezone(lake, symbol, main_exchange(lake, symbol), override)


def parent_calendar(lake: Lake, symbol: str) -> str:
    """The trading calendar name of ``symbol``: the override, else its exchange's (``weekdays`` when unknown)."""
    from rst.calendars import calendar_for_exchange

    override = load_overrides(lake.root).get(symbol)
    if override is not None and override.calendar:
        return override.calendar
    if override is not None and override.exchange:
        return calendar_for_exchange(override.exchange)
    return calendar_for_exchange(main_exchange(lake, symbol))


def main_exchange(lake: Lake, symbol: str) -> str | None:
    """The exchange most of the parent's definitions name (None when they name none).

    Memoised per process on the definition partitions' content hashes (planning a run asks
    once per silver stage), from per-partition counts remembered in the lake
    (:mod:`rst.parents.memo`): a new process, or a day's update, reads only the definition
    partitions that changed, not the parent's whole history.

    Raises
    ------
    InputMissing
        When the parent has no bronze definitions.
    """
    from rst.framework.manifest import read_manifest
    from rst.read import complete_partitions

    directories = complete_partitions(lake, Layer.BRONZE, symbol, DEFINITION_TABLE)
    if not directories:
        definitions(lake, symbol)  # raises InputMissing naming the command to run
    token = []
    for directory in directories:
        manifest = read_manifest(directory)
        if manifest is not None:
            token.append((str(directory), tuple(o.sha256 for o in manifest.outputs)))
    return _main_exchange(lake, symbol, tuple(token))


@lru_cache(maxsize=1024)
def _main_exchange(lake: Lake, symbol: str, token: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    from pathlib import Path

    from rst.parents.memo import exchange_counts

    counts = exchange_counts(lake, symbol, [Path(directory) for directory, _ in token])
    if not counts:
        return None
    most = max(counts.values())
    return min(exchange for exchange, n in counts.items() if n == most)


def list_parents(lake: Lake) -> list[str]:
    """Parents with bronze definitions or overrides, sorted."""
    names = set(load_overrides(lake.root))
    names.update(p for p in lake.parents_in(Layer.BRONZE) if lake.table_dir(Layer.BRONZE, p, DEFINITION_TABLE).is_dir())
    return sorted(names)


def contracts(lake: Lake, symbol: str) -> pl.DataFrame:
    """The parent's contracts ordered by expiration (see :func:`rst.parents.metadata.contracts_table`)."""
    return contracts_table(definitions(lake, symbol))


def _empty_schema() -> dict[str, pl.DataType]:
    ts = pl.Datetime("ns", "UTC")
    return {
        "ts_recv": ts, "instrument_id": pl.UInt32(), "raw_symbol": pl.String(), "expiration": ts,
        "activation": ts, "min_price_increment": pl.Int64(), "unit_of_measure_qty": pl.Int64(),
        "contract_multiplier": pl.Int32(), "currency": pl.String(), "exchange": pl.String(),
        "asset": pl.String(), "maturity_month": pl.UInt8(),
    }  # fmt: skip

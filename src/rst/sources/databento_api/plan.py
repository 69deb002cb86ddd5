"""Planning downloads from raw-zone coverage: which windows to request, split how.

A plan is a list of :class:`Chunk`, one ``timeseries.get_range`` request each.
Only windows the raw zone does not already cover are planned, and each is split
at calendar boundaries (UTC) by a :class:`Granularity` -- months for intraday
schemas, years for daily bars and definitions by default -- so a failed chunk
costs one month or year, and a file's name says what it holds. Given the parents'
trading calendars, a piece of a market-data schema (trades, books, bars) whose UTC days
hold no session of its parent's calendar (a Saturday, Good Friday; see :func:`drop_closed`)
is not requested. Reference schemas (definitions, statistics, status, imbalance) are
always requested: a venue may publish them while the market is closed.

All times are integer nanoseconds since the UNIX epoch, UTC; windows are
``[start, end)``: start inclusive, end exclusive.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from rst.errors import UsageError
from rst.validation import validate_dataset, validate_parent_key, validate_schema

if TYPE_CHECKING:
    from rst.calendars import TradingCalendar

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S

DEFAULT_STYPE_IN = "parent"
"""Parent symbology (``ES.FUT``): every contract and spread of the product."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAILY_SCHEMAS = frozenset({"ohlcv-1d", "definition", "statistics", "status"})


class Granularity(StrEnum):
    """How planned windows are split: at UTC calendar day, month or year boundaries."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def default_granularity(schema: str) -> Granularity:
    """``YEAR`` for schemas with about one record per instrument per day (``ohlcv-1d``,
    ``definition``, ``statistics``, ``status``), ``MONTH`` for intraday schemas."""
    return Granularity.YEAR if schema in _DAILY_SCHEMAS else Granularity.MONTH


class CoverageSource(Protocol):
    """What planning needs from the raw zone (:class:`rst.sources.raw_zone.RawZone` provides it)."""

    def uncovered(
        self, dataset: str, schema: str, symbol: str, start_ns: int, end_ns: int
    ) -> list[tuple[int, int]]:
        """Sub-windows of ``[start_ns, end_ns)`` no raw file covers, sorted."""
        ...


def request_symbol(symbol: str, stype_in: str = DEFAULT_STYPE_IN) -> str:
    """The symbol sent to Databento for a lake parent: ``ES`` -> ``ES.FUT`` under ``parent``
    symbology (futures only); anything else is sent as given."""
    if stype_in == "parent" and "." not in symbol:
        return f"{symbol}.FUT"
    return symbol


@dataclass(frozen=True, order=True)
class Chunk:
    """One planned request: ``dataset``/``schema``/``symbol`` over ``[start_ns, end_ns)`` (UTC ns).

    ``symbol`` is the lake's parent name (``ES``); :attr:`request_symbol` is what
    Databento is asked for (``ES.FUT`` under ``stype_in="parent"``). Dataset, schema and
    symbol come from config or the command line and end up in a raw file's name and path:
    they are validated whole on construction (:class:`UsageError` otherwise).
    """

    dataset: str
    schema: str
    symbol: str
    start_ns: int
    end_ns: int
    stype_in: str = DEFAULT_STYPE_IN

    def __post_init__(self) -> None:
        validate_dataset(self.dataset, "dataset")
        validate_schema(self.schema, "schema")
        validate_parent_key(self.symbol, "parent")

    @property
    def request_symbol(self) -> str:
        return request_symbol(self.symbol, self.stype_in)

    @property
    def file_name(self) -> str:
        """Deterministic raw file name, e.g. ``GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20250101.dbn.zst``."""
        return (
            f"{self.dataset}-{self.schema}-{_safe(self.request_symbol)}-"
            f"{format_ns(self.start_ns)}-{format_ns(self.end_ns)}.dbn.zst"
        )

    def describe(self) -> str:
        """Human label: ``GLBX.MDP3 ohlcv-1d ES.FUT [2024-01-01, 2025-01-01)``."""
        return (
            f"{self.dataset} {self.schema} {self.request_symbol} "
            f"[{iso_ns(self.start_ns)}, {iso_ns(self.end_ns)})"
        )


def _safe(symbol: str) -> str:
    """A symbol usable in a file name (``/`` and spaces become ``_``)."""
    return "".join("_" if c in '/\\ :' else c for c in symbol)


def to_ns(value: date | datetime | int) -> int:
    """Nanoseconds since the epoch, UTC. A ``date`` is its 00:00 UTC; a naive ``datetime`` is UTC."""
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        dt = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        delta = dt - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000
    return (value - _EPOCH.date()).days * NS_PER_DAY


def from_ns(ns: int) -> datetime:
    """The UTC ``datetime`` of ``ns`` (sub-microsecond digits dropped)."""
    return datetime.fromtimestamp(ns // NS_PER_S, tz=UTC).replace(microsecond=(ns % NS_PER_S) // 1000)


def iso_ns(ns: int) -> str:
    """``YYYY-MM-DD`` when ``ns`` is a UTC midnight, else ISO 8601 with ``Z`` and full nanoseconds."""
    dt = from_ns(ns)
    if ns % NS_PER_DAY == 0:
        return dt.date().isoformat()
    frac = ns % NS_PER_S
    base = dt.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z" if frac else f"{base}Z"


def format_ns(ns: int) -> str:
    """Compact file-name form: ``YYYYMMDD`` at UTC midnight, else ``YYYYMMDDTHHMMSS[fffffffff]Z``."""
    dt = from_ns(ns)
    if ns % NS_PER_DAY == 0:
        return dt.strftime("%Y%m%d")
    frac = ns % NS_PER_S
    return dt.strftime("%Y%m%dT%H%M%S") + (f"{frac:09d}" if frac else "") + "Z"


def floor_day(ns: int) -> int:
    """``ns`` floored to 00:00 UTC of its day."""
    return ns - ns % NS_PER_DAY


def _next_boundary(ns: int, granularity: Granularity) -> int:
    """The first calendar boundary (UTC) strictly after ``ns``."""
    dt = from_ns(ns)
    if granularity is Granularity.DAY:
        return floor_day(ns) + NS_PER_DAY
    if granularity is Granularity.MONTH:
        year, month = (dt.year + 1, 1) if dt.month == 12 else (dt.year, dt.month + 1)
        return to_ns(date(year, month, 1))
    return to_ns(date(dt.year + 1, 1, 1))


def split_window(start_ns: int, end_ns: int, granularity: Granularity) -> list[tuple[int, int]]:
    """``[start_ns, end_ns)`` cut at every UTC calendar boundary of ``granularity``; empty if ``start >= end``."""
    pieces: list[tuple[int, int]] = []
    cursor = start_ns
    while cursor < end_ns:
        stop = min(_next_boundary(cursor, granularity), end_ns)
        pieces.append((cursor, stop))
        cursor = stop
    return pieces


REFERENCE_SCHEMAS = frozenset({"definition", "statistics", "status", "imbalance"})
"""Schemas a venue may publish outside trading hours: never skipped for a closed day."""


def drop_closed(pieces: list[tuple[int, int]], calendar: TradingCalendar) -> list[tuple[int, int]]:
    """The ``pieces`` whose UTC days (each piece widened to whole days) overlap a session of ``calendar``.

    A piece is dropped only when the calendar says the market is closed on every one of its
    UTC days (weekend Saturdays, full-day closures such as Good Friday): CME Globex trades
    part of most holidays' UTC day (it reopens at 17:00 Chicago), so those stay requested.
    Widening to whole days keeps what the venue publishes outside trading hours on a trading
    day (definitions and statistics at Sunday's start-up, before the open).
    """
    if not pieces:
        return pieces
    import numpy as np  # here, not at the top: `--help` of every command imports this module

    bounds = np.asarray(pieces, dtype=np.int64)
    first_day = bounds[:, 0] - bounds[:, 0] % NS_PER_DAY
    day_after = -(-bounds[:, 1] // NS_PER_DAY) * NS_PER_DAY
    keep = calendar.has_session(first_day, day_after)
    closed = [p for p, k in zip(pieces, keep, strict=True) if not k]
    if closed:
        log.info("not requesting %d closed window(s) (%s has no session), first [%s, %s)",
                 len(closed), calendar.name, iso_ns(closed[0][0]), iso_ns(closed[0][1]))  # fmt: skip
    return [p for p, k in zip(pieces, keep, strict=True) if k]


def plan_chunks(
    coverage: CoverageSource,
    dataset: str,
    schemas: Sequence[str],
    symbols: Sequence[str],
    start_ns: int,
    end_ns: int,
    *,
    granularity: Granularity | None = None,
    stype_in: str = DEFAULT_STYPE_IN,
    calendars: Mapping[str, TradingCalendar] | None = None,
) -> list[Chunk]:
    """The requests needed to cover ``[start_ns, end_ns)`` for every schema x symbol.

    Only windows ``coverage.uncovered`` reports are planned; each is split by
    ``granularity`` (default: :func:`default_granularity` of the schema), and a piece
    the symbol's calendar in ``calendars`` says is closed throughout is dropped
    (:func:`drop_closed`; a symbol without a calendar keeps every piece). The
    result is sorted by schema, symbol, then time.
    """
    if start_ns >= end_ns:
        raise UsageError(
            f"empty window: start {iso_ns(start_ns)} is not before end {iso_ns(end_ns)} (end is exclusive)"
        )
    chunks: list[Chunk] = []
    for schema in schemas:
        grain = granularity or default_granularity(schema)
        for symbol in symbols:
            pieces = [
                piece
                for gap_start, gap_end in coverage.uncovered(dataset, schema, symbol, start_ns, end_ns)
                for piece in split_window(max(gap_start, start_ns), min(gap_end, end_ns), grain)
            ]
            calendar = (calendars or {}).get(symbol)
            if calendar is not None and schema not in REFERENCE_SCHEMAS:
                pieces = drop_closed(pieces, calendar)
            chunks.extend(Chunk(dataset, schema, symbol, lo, hi, stype_in) for lo, hi in pieces)
    return chunks


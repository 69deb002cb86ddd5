"""Saved continuous-series definitions: what to roll, when, and how to adjust.

A :class:`SeriesDefinition` is a flat, frozen record. It is validated once, at
the boundary (construction, or :meth:`SeriesDefinition.from_mapping` when read
from a file); every error is a :class:`rst.errors.SeriesError` whose message
names the source file (if any) and the offending field. Enums accept their
string form (``"backward_ratio"``).

On disk a definition is one TOML file per series (see :mod:`rst.series.store`).

Fields
------
series_id
    Slug: lowercase letters, digits, ``_`` and ``-``; starts with a letter or
    digit; at most 64 characters. Also the file name.
parent
    Parent symbol, e.g. ``"ES"`` (uppercase letters and digits, at most 16).
roll_rule
    :class:`RollRule`.
roll_offset_days
    Integer, 0 to :data:`MAX_ROLL_OFFSET_DAYS`. ``days_before_expiry``: the live contract's last live day is
    the trading date that is this many trading dates before its expiration
    date. Crossover rules: trading dates to wait after the day the crossover is
    observed (0 = roll on the next trading date).
adjustment
    :class:`Adjustment`.
contract_rank
    0 = front, 1 = second, ...
allowed_months
    Month codes (``"HMUZ"``), normalised to upper case, calendar order, no
    duplicates; empty = all months.
price_field
    :class:`PriceField`: which price measures the roll gap (``close`` or
    ``settlement``).
start
    Optional first trading date (inclusive), 1970-01-01..2200-12-31; bars before it are ignored.
notes
    Free text; not part of the fingerprint.
schema_version
    Version of this document layout (currently 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from rst.errors import SeriesError
from rst.validation import DATE_MAX, DATE_MIN, shown

SCHEMA_VERSION = 1
"""Current layout version of a series definition document."""

MONTH_CODES = "FGHJKMNQUVXZ"
"""Futures month codes, January..December."""

MAX_ROLL_OFFSET_DAYS = 365
"""Largest ``roll_offset_days``: a year of trading dates is already far beyond any real roll."""

# matched whole (re.fullmatch): ``$`` would accept a trailing newline, and the id names a file
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PARENT = re.compile(r"[A-Z0-9]{1,16}")


class RollRule(StrEnum):
    """When the live contract changes."""

    DAYS_BEFORE_EXPIRY = "days_before_expiry"
    VOLUME_CROSSOVER = "volume_crossover"
    OPEN_INTEREST_CROSSOVER = "open_interest_crossover"


class Adjustment(StrEnum):
    """How the price gap at each roll is removed from the adjusted prices."""

    BACKWARD_RATIO = "backward_ratio"
    BACKWARD_ADDITIVE = "backward_additive"
    FORWARD_ADDITIVE = "forward_additive"
    NONE = "none"


class PriceField(StrEnum):
    """Which bar price measures the gap between two contracts on the roll reference day."""

    CLOSE = "close"
    SETTLEMENT = "settlement"


E = TypeVar("E", bound=StrEnum)


def _fail(name: str, value: object, expected: str) -> SeriesError:
    return SeriesError(f"field '{name}': {shown(value)} is not {expected}")


def validate_enum(value: object, enum: type[E], name: str) -> E:
    """Return ``value`` as a member of ``enum``; accepts the member or its string form."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(m.value for m in enum)
    raise _fail(name, value, f"one of {choices}")


def validate_int(value: object, name: str, minimum: int = 0, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) >= ``minimum`` (and <= ``maximum`` when given)."""
    too_big = maximum is not None and isinstance(value, int) and value > maximum
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or too_big:
        raise _fail(name, value, f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else ""))
    return value


def validate_series_id(value: object, name: str = "series_id") -> str:
    """Return ``value`` if it is a slug (``[a-z0-9][a-z0-9_-]*``, at most 64 characters)."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise _fail(name, value, "a slug (lowercase letters, digits, '_' or '-', at most 64)")
    return value


def validate_parent(value: object, name: str = "parent") -> str:
    """Return the parent symbol upper-cased (``"es"`` -> ``"ES"``)."""
    if isinstance(value, str) and _PARENT.fullmatch(value.strip(" ").upper()):
        return value.strip(" ").upper()
    raise _fail(name, value, "a parent symbol such as 'ES' (letters and digits)")


def validate_months(value: object, name: str = "allowed_months") -> str:
    """Return month codes upper-cased, de-duplicated, in calendar order; ``""`` = all months."""
    if not isinstance(value, str):
        raise _fail(name, value, f"a string of month codes from {MONTH_CODES!r}")
    codes = value.replace(" ", "").upper()
    bad = sorted(set(codes) - set(MONTH_CODES))
    if bad:
        raise _fail(name, value, f"a string of month codes from {MONTH_CODES!r} (bad: {''.join(bad)})")
    return "".join(c for c in MONTH_CODES if c in codes)


def validate_date(value: object, name: str) -> dt.date | None:
    """Return ``value`` as a date; accepts a date or ``YYYY-MM-DD``; ``None``/``""`` = no date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise _fail(name, value, "a date (YYYY-MM-DD), not a date-time")
    day = None
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if day is None:
        raise _fail(name, value, "a date (YYYY-MM-DD)")
    if not DATE_MIN <= day <= DATE_MAX:
        raise _fail(name, day.isoformat(), f"a date in {DATE_MIN.isoformat()}..{DATE_MAX.isoformat()}")
    return day


def validate_str(value: object, name: str) -> str:
    """Return ``value`` if it is a string."""
    if not isinstance(value, str):
        raise _fail(name, value, "a string")
    return value


@dataclass(frozen=True)
class SeriesDefinition:
    """One saved continuous series; validated and normalised on construction."""

    series_id: str
    parent: str
    roll_rule: RollRule
    roll_offset_days: int
    adjustment: Adjustment
    contract_rank: int = 0
    allowed_months: str = ""
    price_field: PriceField = PriceField.CLOSE
    start: dt.date | None = None
    notes: str = ""
    schema_version: int = field(default=SCHEMA_VERSION)

    def __post_init__(self) -> None:
        norm: dict[str, Any] = {
            "series_id": validate_series_id(self.series_id),
            "parent": validate_parent(self.parent),
            "roll_rule": validate_enum(self.roll_rule, RollRule, "roll_rule"),
            "roll_offset_days": validate_int(self.roll_offset_days, "roll_offset_days", maximum=MAX_ROLL_OFFSET_DAYS),
            "adjustment": validate_enum(self.adjustment, Adjustment, "adjustment"),
            "contract_rank": validate_int(self.contract_rank, "contract_rank"),
            "allowed_months": validate_months(self.allowed_months),
            "price_field": validate_enum(self.price_field, PriceField, "price_field"),
            "start": validate_date(self.start, "start"),
            "notes": validate_str(self.notes, "notes"),
            "schema_version": validate_int(self.schema_version, "schema_version", minimum=1),
        }
        if norm["schema_version"] > SCHEMA_VERSION:
            raise SeriesError(
                f"field 'schema_version': {self.schema_version} is newer than this rst "
                f"understands ({SCHEMA_VERSION}); upgrade rst"
            )
        for key, value in norm.items():
            object.__setattr__(self, key, value)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: Path | str | None = None) -> SeriesDefinition:
        """Build from a parsed document (e.g. TOML); errors name ``source`` and the field.

        Unknown keys are refused (a typo must not silently fall back to a default).
        ``schema_version`` defaults to the current version when absent.
        """
        prefix = f"{source}: " if source is not None else ""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SeriesError(f"{prefix}unknown field '{unknown[0]}' (known: {', '.join(sorted(known))})")
        required = ("series_id", "parent", "roll_rule", "roll_offset_days", "adjustment")
        for name in required:
            if name not in data:
                raise SeriesError(f"{prefix}field '{name}' is missing")
        try:
            return cls(**dict(data))
        except SeriesError as exc:
            raise SeriesError(f"{prefix}{exc}") from None

    def to_mapping(self) -> dict[str, Any]:
        """Plain values (enums as strings, ``start`` as a date or ``None``) in field order."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.value if isinstance(value, StrEnum) else value
        return out

    def canonical_json(self) -> str:
        """Canonical JSON of the fields that determine the output (everything but ``notes``).

        Keys sorted, no whitespace, dates ISO; two definitions that build the same
        series have the same canonical JSON.
        """
        doc = self.to_mapping()
        doc.pop("notes")
        doc["start"] = doc["start"].isoformat() if doc["start"] is not None else None
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    def fingerprint(self) -> str:
        """Hex SHA256 of :meth:`canonical_json`: a changed definition makes gold stale."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

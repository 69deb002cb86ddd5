"""User overrides of parent metadata: ``<lake>/_config/parents.toml``.

One table per parent; every key is optional and replaces the value derived
from definitions::

    [ES]
    timezone = "America/Chicago"   # IANA zone of the parent's sessions (silver uses it)
    calendar = "CMES"              # exchange_calendars name, or "weekdays" (see rst.calendars)
    exchange = "XCME"
    currency = "USD"
    tick_size = "0.25"             # decimal (string or number), stored int64 fixed-point 1e-9
    point_value = "50"             # currency per 1.0 of price, decimal
    roll_days = 8
    notes = "E-mini S&P 500"

Read with :mod:`tomllib`; validated once here, errors name the file, the parent
and the key (:class:`rst.errors.ConfigError`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rst.errors import ConfigError

PARENTS_FILE = Path("_config") / "parents.toml"
"""Overrides file, relative to the lake root."""
FIXED_SCALE = 1_000_000_000


@dataclass(frozen=True)
class ParentOverride:
    """The overrides of one parent (None = derive from definitions)."""

    timezone: str | None = None
    exchange: str | None = None
    currency: str | None = None
    tick_size: int | None = None
    """int64 fixed-point 1e-9."""
    point_value: int | None = None
    """int64 fixed-point 1e-9."""
    roll_days: int | None = None
    notes: str = ""
    calendar: str | None = None
    """Trading calendar name (:mod:`rst.calendars`)."""


def to_fixed(value: Any, where: str) -> int:
    """A decimal number or string as int64 fixed-point 1e-9, exactly (``"0.25"`` -> 250_000_000)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: {value!r} is not a decimal number")
    try:
        scaled = Decimal(str(value)) * FIXED_SCALE
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not a decimal number") from None
    if scaled != scaled.to_integral_value() or scaled <= 0:
        raise ValueError(f"{where}: {value!r} must be positive with at most 9 decimals")
    return int(scaled)


def validate_timezone(value: Any, where: str) -> str:
    """An IANA time-zone name known to this system."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {value!r} is not a time-zone name")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{where}: {value!r} is not a known IANA time zone (e.g. America/Chicago)") from None
    return value.strip()


def _parse_one(parent: str, doc: Any) -> ParentOverride:
    if not isinstance(doc, dict):
        raise ValueError(f"[{parent}] must be a table of key = value")
    known = {"timezone", "calendar", "exchange", "currency", "tick_size", "point_value", "roll_days", "notes"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ValueError(f"[{parent}] unknown key '{unknown[0]}' (known: {', '.join(sorted(known))})")
    out: dict[str, Any] = {}
    if "timezone" in doc:
        out["timezone"] = validate_timezone(doc["timezone"], f"[{parent}] timezone")
    if "calendar" in doc:
        from rst.calendars import validate_calendar_name

        out["calendar"] = validate_calendar_name(doc["calendar"], f"[{parent}] calendar")
    for key in ("exchange", "currency", "notes"):
        if key in doc:
            if not isinstance(doc[key], str):
                raise ValueError(f"[{parent}] {key}: {doc[key]!r} is not a string")
            out[key] = doc[key] if key == "notes" else doc[key].strip().upper()
    for key in ("tick_size", "point_value"):
        if key in doc:
            out[key] = to_fixed(doc[key], f"[{parent}] {key}")
    if "roll_days" in doc:
        value = doc["roll_days"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"[{parent}] roll_days: {value!r} is not an integer >= 0")
        out["roll_days"] = value
    return ParentOverride(**out)


def load_overrides(lake_root: Path | str) -> dict[str, ParentOverride]:
    """Every parent's overrides (empty when the file does not exist).

    Raises
    ------
    ConfigError
        The file is not valid TOML, or a key or value is invalid (named in the message).
    """
    path = Path(lake_root) / PARENTS_FILE
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML ({exc})") from None
    out: dict[str, ParentOverride] = {}
    for parent, table in doc.items():
        try:
            out[parent.strip().upper()] = _parse_one(parent, table)
        except ValueError as exc:
            raise ConfigError(path, str(exc)) from None
    return out

"""Validate user-facing values once, at the boundary, with messages naming the parameter.

Each ``validate_<thing>(value, param)`` returns the normalised value or raises
:class:`rst.errors.UsageError` such as ``--dt: '2024-13-01' is not a date (YYYY-MM-DD)``.
"""

from __future__ import annotations

import datetime as dt
import re

from rst.errors import UsageError

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.]{0,15}$")


def validate_dt(value: str, param: str) -> dt.date:
    """A date written ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{param}: {value!r} is not a date (YYYY-MM-DD)") from None


def validate_dates(value: str, param: str) -> list[dt.date]:
    """A comma list of dates and inclusive ranges: ``2024-03-01,2024-03-04..2024-03-08``."""
    dates: set[dt.date] = set()
    for item in filter(None, (p.strip() for p in value.split(","))):
        if ".." in item:
            first_text, _, last_text = item.partition("..")
            first, last = validate_dt(first_text, param), validate_dt(last_text, param)
            if last < first:
                raise UsageError(f"{param}: range {item!r} ends before it starts")
            dates.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        else:
            dates.add(validate_dt(item, param))
    if not dates:
        raise UsageError(f"{param}: no dates given")
    return sorted(dates)


def validate_symbol(value: str, param: str) -> str:
    """A parent symbol such as ``ES`` (``ES.FUT`` is accepted and reduced to ``ES``)."""
    symbol = value.strip().upper().removesuffix(".FUT")
    if not _SYMBOL.match(symbol):
        raise UsageError(f"{param}: {value!r} is not a futures parent symbol (e.g. ES, NQ, CL)")
    return symbol


def validate_workers(value: int, param: str) -> int:
    """A worker count of at least 1."""
    if value < 1:
        raise UsageError(f"{param}: must be at least 1, got {value}")
    return value

"""Validate user-facing values once, at the boundary, with messages naming the parameter.

Each ``validate_<thing>(value, param)`` returns the normalised value or raises
:class:`rst.errors.UsageError` such as ``--dt: '2024-13-01' is not a date (YYYY-MM-DD)``.

Names that become part of a lake path (dataset, schema, parent symbol, file name) are
matched whole with :func:`re.fullmatch` against a strict pattern (never ``$``, which also
accepts a trailing newline) and a length bound, so NUL, ``/``, ``\\``, ``..``, control
characters, empty and over-long values never reach the filesystem. ``param`` says where the
value came from; for names read from a file it names the file (``<path>: metadata dataset``).
"""

from __future__ import annotations

import datetime as dt
import re

from rst.errors import UsageError

DATE_MIN = dt.date(1970, 1, 1)
"""Earliest date rst accepts (the epoch: nanosecond timestamps before it are negative)."""
DATE_MAX = dt.date(2200, 12, 31)
"""Latest date rst accepts; with :data:`DATE_MIN` it bounds a ``--dates`` range to ~84k dates."""

_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.]{0,15}")
_PARENT_KEY = re.compile(r"[A-Z0-9]{1,16}")
_DATASET = re.compile(r"[A-Z0-9]{1,16}(?:\.[A-Z0-9]{1,16}){0,2}")
_SCHEMA = re.compile(r"[a-z][a-z0-9]{0,15}(?:-[a-z0-9]{1,8}){0,2}")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+=@,~#%&()\[\]-]*")
FILE_NAME_MAX_BYTES = 200
"""Longest raw file name (UTF-8 bytes): room for staging prefixes within a 255-byte file-name limit."""
_SHOWN_MAX = 60


def shown(value: object) -> str:
    """``repr`` of a bad value for a one-line message: control characters escaped, long values cut."""
    text = repr(value)
    return text if len(text) <= _SHOWN_MAX else f"{text[:_SHOWN_MAX]}… ({len(str(value))} chars)"


def validate_dt(value: str, param: str) -> dt.date:
    """A date written ``YYYY-MM-DD`` between :data:`DATE_MIN` and :data:`DATE_MAX`."""
    try:
        day = dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise UsageError(f"{param}: {shown(value)} is not a date (YYYY-MM-DD)") from None
    if not DATE_MIN <= day <= DATE_MAX:  # no market data lies outside; bounds every date range
        raise UsageError(f"{param}: {day.isoformat()} is outside {DATE_MIN.isoformat()}..{DATE_MAX.isoformat()}")
    return day


def validate_dates(value: str, param: str) -> list[dt.date]:
    """A comma list of dates and inclusive ranges: ``2024-03-01,2024-03-04..2024-03-08``.

    Every date lies in :data:`DATE_MIN`..:data:`DATE_MAX`, so the result holds at most ~84k dates.
    """
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
    """A parent symbol such as ``ES`` (``ES.FUT`` is accepted and reduced to ``ES``; spaces around are dropped)."""
    if not isinstance(value, str) or not value.isprintable():  # NUL, newline, tab, escape…: refused, not stripped
        raise UsageError(f"{param}: {shown(value)} is not a futures parent symbol (e.g. ES, NQ, CL)")
    symbol = value.strip().upper().removesuffix(".FUT")
    if not _SYMBOL.fullmatch(symbol):
        raise UsageError(f"{param}: {shown(value)} is not a futures parent symbol (e.g. ES, NQ, CL)")
    return symbol


def validate_parent_key(value: str, param: str) -> str:
    """A parent symbol exactly as it names a ``parent=`` directory: ``ES``, ``6E`` (no normalisation)."""
    return _name(value, _PARENT_KEY, param, "a parent symbol (upper-case letters and digits, e.g. ES)")


def validate_dataset(value: str, param: str) -> str:
    """A Databento dataset id such as ``GLBX.MDP3`` (upper-case letters and digits, dot-separated)."""
    return _name(value, _DATASET, param, "a Databento dataset (e.g. GLBX.MDP3)")


def validate_schema(value: str, param: str) -> str:
    """A Databento schema name such as ``ohlcv-1d``, ``mbp-10`` or ``definition``."""
    return _name(value, _SCHEMA, param, "a Databento schema (e.g. ohlcv-1d, mbp-10, definition)")


def validate_file_name(value: str, param: str) -> str:
    """A raw file's name: starts with a letter or digit; letters, digits, spaces and ``._+=@,~#%&()[]-``.

    No ``/``, ``\\``, NUL or control character, not ``.``-hidden, at most
    :data:`FILE_NAME_MAX_BYTES` bytes.
    """
    if isinstance(value, str) and len(value.encode("utf-8", "surrogatepass")) > FILE_NAME_MAX_BYTES:
        raise UsageError(f"{param}: {shown(value)} is longer than {FILE_NAME_MAX_BYTES} bytes")
    return _name(value, _FILE_NAME, param, "a file name (letters, digits, '._-'; no '/', no control characters)")


def validate_workers(value: int, param: str) -> int:
    """A worker count of at least 1."""
    if value < 1:
        raise UsageError(f"{param}: must be at least 1, got {value}")
    return value


def _name(value: object, pattern: re.Pattern[str], param: str, expected: str) -> str:
    """``value`` when the whole of it matches ``pattern`` (whose quantifiers bound its length)."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise UsageError(f"{param}: {shown(value)} is not {expected}")
    return value

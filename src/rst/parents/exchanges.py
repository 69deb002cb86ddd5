"""Exchanges (ISO 10383 MIC) and the time zone of their sessions.

CME Group's four designated contract markets all run Globex sessions on
Chicago time. A MIC not listed here has no default: its parents need a
``timezone`` override in ``<lake>/_config/parents.toml``.
"""

from __future__ import annotations

EXCHANGE_TIMEZONES: dict[str, str] = {
    "XCME": "America/Chicago",  # Chicago Mercantile Exchange
    "XCBT": "America/Chicago",  # Chicago Board of Trade
    "XNYM": "America/Chicago",  # New York Mercantile Exchange (Globex, Chicago session)
    "XCEC": "America/Chicago",  # COMEX (Globex, Chicago session)
    "GLBX": "America/Chicago",  # Globex itself, as some feeds name it
}


def exchange_timezone(mic: str | None) -> str | None:
    """The IANA zone of ``mic``'s sessions, or None when rst does not know the exchange."""
    if mic is None:
        return None
    return EXCHANGE_TIMEZONES.get(mic.strip().upper())

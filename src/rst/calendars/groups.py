"""Which calendar a parent uses: by product group and exchange, and the names rst accepts.

``exchange_calendars`` 4.x has one CME Globex calendar, ``CMES``, and itself aliases
``CME``, ``CBOT``, ``NYMEX`` and ``COMEX`` to it; it has none per product group. rst
therefore uses ``CMES`` for every CME Group product group, which is right for trade
dates (each group's sessions lie inside 17:00 → 17:00 Chicago and its holidays are the
same days) but approximate for hours: grains and livestock are fully closed on some
days where ``CMES`` shows an abbreviated session (no data then, so nothing to book),
and equity closes at 12:15 rather than 12:00 on the day after Thanksgiving and
Christmas Eve. A parent of another exchange gets :data:`WEEKDAYS` (Monday-Friday, no
holidays) unless ``parents.toml`` names a calendar.
"""

from __future__ import annotations

WEEKDAYS = "weekdays"
"""rst's fallback calendar: every Monday-Friday is a trade date, no holidays, no early closes."""

PRODUCT_GROUP_CALENDARS: dict[str, str] = {
    "equity": "CMES",  # CME equity index (ES, NQ): the library's own CMES
    "energy": "CMES",  # NYMEX (CL, NG): no library calendar; library alias NYMEX -> CMES
    "metals": "CMES",  # COMEX (GC, SI): no library calendar; library alias COMEX -> CMES
    "rates": "CMES",  # CBOT/CME (ZN, ZB, SR3): no library calendar; alias CBOT -> CMES
    "fx": "CMES",  # CME FX (6E, 6J): no library calendar
    "grains": "CMES",  # CBOT (ZC, ZS, ZW): no library calendar; alias CBOT -> CMES (hours differ)
}
"""The calendar of each CME Group product group (see the module docstring for the fallbacks)."""

EXCHANGE_CALENDARS: dict[str, str] = {
    "XCME": "CMES",
    "XCBT": "CMES",
    "XNYM": "CMES",
    "XCEC": "CMES",
    "GLBX": "CMES",
}
"""Default calendar of a parent by its exchange MIC."""


def calendar_for_exchange(mic: str | None) -> str:
    """The default calendar name of a parent listed on ``mic`` (:data:`WEEKDAYS` when unknown)."""
    if mic is None:
        return WEEKDAYS
    return EXCHANGE_CALENDARS.get(mic.strip().upper(), WEEKDAYS)


def validate_calendar_name(value: object, where: str) -> str:
    """``value`` if it names :data:`WEEKDAYS` or an ``exchange_calendars`` calendar, else ``ValueError``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {value!r} is not a calendar name")
    name = value.strip()
    if name == WEEKDAYS:
        return name
    import exchange_calendars

    if name not in exchange_calendars.get_calendar_names(include_aliases=True):
        raise ValueError(f"{where}: {name!r} is not an exchange_calendars calendar (e.g. CMES) nor {WEEKDAYS!r}")
    return name

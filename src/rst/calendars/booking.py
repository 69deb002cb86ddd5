"""rst's rule for CME's trade-date booking of abbreviated holiday sessions.

On about seven US holidays a year CME Globex trades a shortened session on the
holiday itself and books those trades to the *next* trade date ("CME Globex opens
at 5:00 p.m. (for trade date of Tuesday …)"). ``exchange_calendars`` lists such a
day as an early-closing session, like the genuine early-closing trade dates (the
day after Thanksgiving, Christmas Eve). rst tells them apart by the date:

* a library session that closes early on a US federal holiday (as observed,
  ``pandas.tseries.holiday.USFederalHolidayCalendar``) is a holiday session;
* so is Juneteenth from 2022 on, which CME trades abbreviated but
  ``exchange_calendars`` 4.x lists as a full session.

A holiday session is not a trade date: its instants book to the next session.
Bump :data:`RULE_VERSION` whenever this rule changes (it is in every dependent
partition's lineage).
"""

from __future__ import annotations

import numpy as np

RULE_VERSION = "1"
JUNETEENTH_FROM = 2022


def holiday_sessions(sessions: np.ndarray, early: np.ndarray) -> np.ndarray:
    """Mask of ``sessions`` (datetime64[D], sorted) that are abbreviated holiday sessions; ``early``: closes early."""
    if sessions.size == 0:
        return np.zeros(0, dtype=bool)
    from pandas.tseries.holiday import USFederalHolidayCalendar

    holidays = USFederalHolidayCalendar().holidays(str(sessions[0]), str(sessions[-1])).values.astype("datetime64[D]")
    federal = np.isin(sessions, holidays)
    months = sessions.astype("datetime64[M]").astype(np.int64) % 12 + 1
    years = sessions.astype("datetime64[Y]").astype(np.int64) + 1970
    juneteenth = federal & (months == 6) & (years >= JUNETEENTH_FROM)
    return federal & (early | juneteenth)

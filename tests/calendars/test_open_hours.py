"""``TradingCalendar.has_session``: a window is closed only if no session's open hours overlap it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rst.calendars import WEEKDAYS, get_calendar

NS_PER_H = 3_600 * 1_000_000_000
_2015 = 1_420_070_400 * 1_000_000_000  # 2015-01-01T00:00Z
_HOURS_2015_2025 = 11 * 8_784


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, _HOURS_2015_2025), st.integers(1, 96)), min_size=1, max_size=50))
def test_has_session_equals_the_brute_force_overlap(windows: list[tuple[int, int]]) -> None:
    cal = get_calendar("CMES")
    starts = np.array([_2015 + h * NS_PER_H for h, _ in windows], dtype=np.int64)
    ends = starts + np.array([n * NS_PER_H for _, n in windows], dtype=np.int64)
    opens, closes = cal.open_ns[:, 0], cal.open_ns[:, 1]
    brute = ((opens[None, :] < ends[:, None]) & (closes[None, :] > starts[:, None])).any(axis=1)
    assert np.array_equal(cal.has_session(starts, ends), brute)


def test_open_hours_include_holiday_sessions_and_know_full_closures() -> None:
    cal = get_calendar("CMES")
    utc = lambda s: np.datetime64(s, "ns").astype(np.int64)  # noqa: E731
    mlk_morning = cal.has_session(np.array([utc("2024-01-15T14:00")]), np.array([utc("2024-01-15T15:00")]))
    good_friday = cal.has_session(np.array([utc("2024-03-29T00:00")]), np.array([utc("2024-03-31T00:00")]))
    assert mlk_morning.tolist() == [True]  # an abbreviated holiday session is open hours, whatever its trade date
    assert good_friday.tolist() == [False]
    saturday = np.array([utc("2024-03-30T00:00")]), np.array([utc("2024-03-31T00:00")])
    assert cal.has_session(*saturday).tolist() == [False]
    assert get_calendar(WEEKDAYS).has_session(*saturday).tolist() == [True]  # no session times: never closed

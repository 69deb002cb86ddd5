"""Which trading calendar the download planner uses for a parent, so it does not request closed days.

The parent's own calendar (:func:`rst.parents.parent_calendar`: the ``parents.toml``
override, else its definitions' exchange). A parent with no bronze definitions yet (a
first download) gets its dataset's venue calendar (:data:`DATASET_CALENDARS`); anything
else resolves to ``weekdays``, which knows no session times, so nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rst.errors import InputMissing, PartitionCorrupt
from rst.framework.lake import Lake

if TYPE_CHECKING:
    from rst.calendars import TradingCalendar

DATASET_CALENDARS: dict[str, str] = {"GLBX.MDP3": "CMES"}
"""The calendar of a dataset's venue, for parents whose definitions are not in the lake yet."""


def planner_calendar(lake: Lake, dataset: str, parent: str) -> TradingCalendar:
    """The calendar whose closed days the planner skips for ``parent`` on ``dataset`` (cached per process)."""
    from rst.calendars import WEEKDAYS, get_calendar
    from rst.parents import parent_calendar

    try:
        name = parent_calendar(lake, parent)
    except (InputMissing, PartitionCorrupt):  # no usable definitions yet: the venue's calendar
        name = DATASET_CALENDARS.get(dataset, WEEKDAYS)
    return get_calendar(name)


def planner_calendars(lake: Lake, dataset: str, parents: Sequence[str]) -> dict[str, TradingCalendar]:
    """:func:`planner_calendar` of each of ``parents``."""
    return {parent: planner_calendar(lake, dataset, parent) for parent in parents}

"""The calendar example the four patterns share: events in memory, day phrases resolved
in code, and the typed tools a model acts on a calendar with.

Tests assert what a run really did to the calendar, not only what the model said.
"""

from ._days import WEEKDAYS, resolve_day
from ._events import (
    Calendar,
    DayPhrase,
    Event,
    EventDetails,
    Minutes,
    People,
    StartTime,
    Title,
    calendar_link,
    resolve_start,
)
from ._tools import CalendarTools

__all__ = [
    "WEEKDAYS",
    "Calendar",
    "CalendarTools",
    "DayPhrase",
    "Event",
    "EventDetails",
    "Minutes",
    "People",
    "StartTime",
    "Title",
    "calendar_link",
    "resolve_day",
    "resolve_start",
]

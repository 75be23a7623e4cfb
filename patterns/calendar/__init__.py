"""The calendar example the four patterns share: events in memory, day phrases resolved
in code, changes applied in code, wording written by code, and the typed tools a model
acts on a calendar with. It makes no model call: each pattern's steps are its own.

Tests assert what a run really did to the calendar, not only what the model said.
"""

from ._changes import (
    NONE,
    SAME,
    ChangeError,
    ChangeKind,
    apply,
    labels,
    listing,
    mentioned,
)
from ._days import WEEKDAYS, resolve_day
from ._demo import demo_calendar, run_on_demo_calendar
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
from ._reading import asks_to_change, short_title, stated_times
from ._tools import CalendarTools
from ._wording import confirmation_text, describe, describe_event, done_text

__all__ = [
    "NONE",
    "SAME",
    "WEEKDAYS",
    "Calendar",
    "CalendarTools",
    "ChangeError",
    "ChangeKind",
    "DayPhrase",
    "Event",
    "EventDetails",
    "Minutes",
    "People",
    "StartTime",
    "Title",
    "apply",
    "asks_to_change",
    "calendar_link",
    "confirmation_text",
    "demo_calendar",
    "describe",
    "describe_event",
    "done_text",
    "labels",
    "listing",
    "mentioned",
    "resolve_day",
    "resolve_start",
    "run_on_demo_calendar",
    "short_title",
    "stated_times",
]

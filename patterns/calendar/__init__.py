"""The calendar example the four patterns share: events in memory, day phrases resolved
in code, and the typed tools a model acts on a calendar with.

Tests assert what a run really did to the calendar, not only what the model said.
"""

from ._changes import (
    NONE,
    SHAPES,
    ChangeError,
    ChangeKind,
    apply,
    choice_type,
    labels,
    listing,
    mentioned,
)
from ._days import WEEKDAYS, resolve_day
from ._demo import demo_calendar, run_on_demo_calendar
from ._details import DETAILS_PROMPT, DetailsAnswer, parse_event_details
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

__all__ = [
    "DETAILS_PROMPT",
    "NONE",
    "SHAPES",
    "WEEKDAYS",
    "Calendar",
    "CalendarTools",
    "ChangeError",
    "ChangeKind",
    "DayPhrase",
    "DetailsAnswer",
    "Event",
    "EventDetails",
    "Minutes",
    "People",
    "StartTime",
    "Title",
    "apply",
    "asks_to_change",
    "calendar_link",
    "choice_type",
    "demo_calendar",
    "labels",
    "listing",
    "mentioned",
    "parse_event_details",
    "resolve_day",
    "resolve_start",
    "run_on_demo_calendar",
    "short_title",
    "stated_times",
]

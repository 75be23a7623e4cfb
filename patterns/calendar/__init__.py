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
    joining,
    labels,
    leaving,
    listing,
    mentioned,
    named,
    named_whole,
    says_someone_leaves,
)
from ._days import WEEKDAYS, DaySource, day_of, find_day, resolve_day
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
from ._reading import (
    Amount,
    Direction,
    amounts,
    amounts_of_time,
    asks_a_question,
    asks_to_change,
    hour_said,
    people_in,
    says_a_length,
    stated_length,
    stated_times,
    title_in,
)
from ._tools import CalendarTools
from ._wording import confirmation_text, describe, describe_event, done_text, short_title

__all__ = [
    "NONE",
    "SAME",
    "WEEKDAYS",
    "Amount",
    "Calendar",
    "CalendarTools",
    "ChangeError",
    "ChangeKind",
    "DayPhrase",
    "DaySource",
    "Direction",
    "Event",
    "EventDetails",
    "Minutes",
    "People",
    "StartTime",
    "Title",
    "amounts",
    "amounts_of_time",
    "apply",
    "asks_a_question",
    "asks_to_change",
    "calendar_link",
    "confirmation_text",
    "day_of",
    "demo_calendar",
    "describe",
    "describe_event",
    "done_text",
    "find_day",
    "hour_said",
    "joining",
    "labels",
    "leaving",
    "listing",
    "mentioned",
    "named",
    "named_whole",
    "people_in",
    "resolve_day",
    "resolve_start",
    "run_on_demo_calendar",
    "says_a_length",
    "says_someone_leaves",
    "short_title",
    "stated_length",
    "stated_times",
    "title_in",
]

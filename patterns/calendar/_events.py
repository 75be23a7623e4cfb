"""A small in-memory calendar: its events, and the field types every schema that
describes an event shares.

Tests assert what a run really did to the calendar, not only what the model said.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from ..core import ToolRetry
from ._days import resolve_day

# --- Field types shared by every schema that describes an event ------------------------------

Title = Annotated[str, Field(description="A short title for the event, 2 to 5 words.")]
DayPhrase = Annotated[
    str,
    Field(description="The day as the message says it ('next Tuesday', 'tomorrow', 'Dec 3')."),
]
StartTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Start time on a 24-hour clock, HH:MM (2pm is 14:00).",
    ),
]
Minutes = Annotated[int, Field(gt=0, le=24 * 60, description="Length in minutes.")]
People = Annotated[
    list[str], Field(description="Names of people the message mentions; [] if none.")
]


def resolve_start(day: str, start_time: str, today: date) -> datetime:
    """Day phrase + HH:MM -> a datetime, resolved in code (small models miscount days).

    Raises ``ValueError`` with a message meant for the model.
    """
    resolved = resolve_day(day, today)
    if resolved is None:
        raise ValueError(f"cannot tell which date {day!r} is; write it as YYYY-MM-DD")
    return datetime.combine(resolved, time.fromisoformat(start_time))


# --- The calendar --------------------------------------------------------------------------


class EventDetails(BaseModel):
    name: str
    start: datetime
    duration_minutes: int = 60
    participants: list[str] = []


class Event(EventDetails):
    id: str


def calendar_link(event: EventDetails) -> str:
    """A link that opens the event in Google Calendar, prefilled. Built in code, never
    written by the model."""
    end = event.start + timedelta(minutes=event.duration_minutes)
    query = {
        "action": "TEMPLATE",
        "text": event.name,
        "dates": f"{event.start:%Y%m%dT%H%M%S}/{end:%Y%m%dT%H%M%S}",
    }
    if event.participants:
        query["details"] = "With " + ", ".join(event.participants)
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


class Calendar:
    """Events in memory, with ids that are stable from run to run (evt-1, evt-2...)."""

    def __init__(self, events: list[EventDetails] | None = None) -> None:
        self._events: dict[str, Event] = {}
        for details in events or []:
            self.add(details)

    @property
    def events(self) -> list[Event]:
        return sorted(self._events.values(), key=lambda e: (e.start, e.id))

    def add(self, details: EventDetails) -> Event:
        event = Event(id=f"evt-{len(self._events) + 1}", **details.model_dump())
        self._events[event.id] = event
        return event

    def find(self, query: str) -> list[Event]:
        """Events whose id, or a word of whose name, matches a word of ``query``."""
        words = {w.strip(".,!?'\"").lower() for w in query.split()} - _STOPWORDS
        return [
            e for e in self.events if e.id in words or words & {w.lower() for w in e.name.split()}
        ]

    def get(self, event_id: str) -> Event:
        return self._events[event_id]

    def replace(self, event: Event) -> Event:
        self._events[event.id] = event
        return event

    def remove(self, event_id: str) -> Event:
        return self._events.pop(event_id)

    def the_one(self, query: str) -> Event:
        """The single event ``query`` names, or a ``ToolRetry`` that lists the candidates."""
        found = self.find(query)
        if len(found) == 1:
            return found[0]
        listing = "; ".join(f"{e.id}: {e.name} on {e.start:%Y-%m-%d %H:%M}" for e in self.events)
        problem = "no event matches" if not found else f"{len(found)} events match"
        raise ToolRetry(
            f"{problem} {query!r}. The calendar holds: {listing or 'nothing'}",
            public=f"{problem} {query!r} in the calendar",  # not the other events
        )


_STOPWORDS = frozenset({"the", "a", "an", "my", "our", "with", "on", "at", "to", "of", "and"})

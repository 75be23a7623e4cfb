"""A small in-memory calendar, and the typed tools the patterns act on it with.

Tests assert what a run really did to the calendar, not only what the model said.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from .clock import Clock, resolve_day
from .tools import Tool, ToolRetry, tool

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


# --- Tools: what a model may do to the calendar --------------------------------------------


class CalendarTools:
    """The calendar's tools, bound to one calendar and one clock."""

    def __init__(self, calendar: Calendar, clock: Clock) -> None:
        self.calendar = calendar
        self.clock = clock
        self.create = tool(self.create_event)
        self.find = tool(self.find_events)
        self.modify = tool(self.modify_event)
        self.remove = tool(self.remove_event)

    def _start(self, day: str, start_time: str) -> datetime:
        try:
            return resolve_start(day, start_time, self.clock().date())
        except ValueError as error:
            raise ToolRetry(str(error)) from error

    def create_event(
        self,
        name: Title,
        day: DayPhrase,
        start_time: StartTime,
        duration_minutes: Minutes = 60,
        participants: People = [],  # noqa: B006 (pydantic copies defaults)
    ) -> Event:
        """Create a calendar event."""
        details = EventDetails(
            name=name,
            start=self._start(day, start_time),
            duration_minutes=duration_minutes,
            participants=participants,
        )
        return self.calendar.add(details)

    def find_events(
        self, query: Annotated[str, Field(description="Words to look for.")]
    ) -> list[Event]:
        """Find calendar events by name."""
        return self.calendar.find(query)

    def modify_event(
        self,
        event: Annotated[str, Field(description="The event to change, as the message names it.")],
        new_day: DayPhrase | None = None,
        new_start_time: StartTime | None = None,
        new_duration_minutes: Minutes | None = None,
        participants_to_add: People = [],  # noqa: B006
        participants_to_remove: People = [],  # noqa: B006
    ) -> Event:
        """Change an existing calendar event; leave out what does not change."""
        current = self.calendar.the_one(event)
        start = current.start
        if new_day is not None or new_start_time is not None:
            start = self._start(
                new_day or current.start.date().isoformat(),
                new_start_time or f"{current.start:%H:%M}",
            )
        removed = {p.lower() for p in participants_to_remove}
        kept = [p for p in current.participants if p.lower() not in removed]
        changed = current.model_copy(
            update={
                "start": start,
                "duration_minutes": new_duration_minutes or current.duration_minutes,
                "participants": kept + [p for p in participants_to_add if p not in kept],
            }
        )
        return self.calendar.replace(changed)

    def remove_event(
        self, event: Annotated[str, Field(description="The event to remove, as named.")]
    ) -> Event:
        """Remove a calendar event."""
        return self.calendar.remove(self.calendar.the_one(event).id)

    def all(self) -> list[Tool]:
        return [self.create, self.find, self.modify, self.remove]

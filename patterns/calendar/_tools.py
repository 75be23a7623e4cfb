"""The calendar's typed tools: what a model may do to a calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from ..core import Clock, Tool, ToolRetry, tool
from ._events import (
    Calendar,
    DayPhrase,
    Event,
    EventDetails,
    Minutes,
    People,
    StartTime,
    Title,
    resolve_start,
)


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

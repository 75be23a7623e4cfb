"""Calendars the tests start from."""

from datetime import datetime

from patterns.calendar import Calendar, EventDetails


def office() -> Calendar:
    """Two events: a design review on Thursday, the weekly standup on Monday."""
    return Calendar(
        [
            EventDetails(
                name="Design review", start=datetime(2026, 11, 26, 11), participants=["Dana"]
            ),
            EventDetails(
                name="Weekly standup",
                start=datetime(2026, 11, 30, 9, 30),
                duration_minutes=15,
                participants=["Alice", "Bob"],
            ),
        ]
    )


def dump(calendar: Calendar) -> list[dict[str, object]]:
    return [e.model_dump(mode="json") for e in calendar.events]

"""A week of ordinary events around today, for the command-line demos (a change is
demonstrated on a calendar that holds something to change)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from ..core import Clock
from ._events import Calendar, EventDetails


def demo_calendar(clock: Clock) -> Calendar:
    today = clock().date()

    def on(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour, minute))

    return Calendar(
        [
            EventDetails(name="Weekly standup", start=on(1, 9, 30), duration_minutes=15,
                         participants=["Alice", "Bob"]),
            EventDetails(name="Budget meeting", start=on(2, 10), participants=["Omar"]),
            EventDetails(name="Design review", start=on(2, 15), participants=["Dana"]),
            EventDetails(name="Dentist appointment", start=on(3, 8), duration_minutes=45),
            EventDetails(name="Lunch with Ana", start=on(4, 12), participants=["Ana"]),
        ]
    )  # fmt: skip

"""A week of ordinary events around today, for the command-line demos (a change is
demonstrated on a calendar that holds something to change)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from ..core import Clock, Trace, system_clock
from ..core.plumbing import run_demo
from ._changes import listing
from ._events import Calendar, EventDetails

R = TypeVar("R")


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


def run_on_demo_calendar(
    act: Callable[[str, Calendar, Trace], Coroutine[Any, Any, R]],
    said: Callable[[R], str],
    level: int,
) -> int:
    """A pattern's command line on the demo calendar: the message from ``sys.argv``, what
    the pattern said, then the calendar as it now is (``run_demo``: failures in a few
    lines)."""
    demo, text = demo_calendar(system_clock), " ".join(sys.argv[1:])
    return run_demo(
        lambda trace: act(text, demo, trace),
        lambda result: f"{said(result)}\nThe calendar now holds:\n{listing(demo)}",
        level,
    )

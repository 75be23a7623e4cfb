"""An injectable clock.

Prompts that say what today is take it from a ``Clock``: recordings made with
``fixed_clock`` replay on any day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now().astimezone()


def fixed_clock(at: datetime | str) -> Clock:
    """A clock that always says ``at``: makes prompts that mention today reproducible."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return lambda: moment


def today_line(clock: Clock) -> str:
    """The sentence prompts use to say what day it is, from the injected clock."""
    return f"Today is {_day(clock().date())}."


def _day(d: date) -> str:
    return f"{d:%A} {d.isoformat()}"

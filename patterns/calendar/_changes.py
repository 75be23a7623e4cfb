"""Changes to an existing event, as the model is asked for them: first which event (a
choice bounded by the calendar's own ids) and what kind of change, then only that kind's
fields, all required. Code resolves days and applies relative changes to the event's
current start and length: nothing is found by a shared word, nothing is left to the
model's arithmetic on dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, create_model, field_validator

from ._days import resolve_day
from ._events import Calendar, Event, Minutes, People

ChangeKind = Literal["move", "shift", "set_length", "change_length", "add_people", "remove_people"]

SAME = "same"
Clock24 = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|same)$")]


def labels(calendar: Calendar) -> dict[str, str]:
    """Each event's label for the model, to its id: the event's name, made unique with its
    day and time where two share a name (a small model copies a name from the message far
    more reliably than it maps it to an opaque id: measured, 4 of 7 modifications on the
    dev split picked another event's id)."""
    found: dict[str, str] = {}
    names = [e.name for e in calendar.events]
    for event in calendar.events:
        label = event.name
        if names.count(event.name) > 1 or label.lower() == NONE:
            label = f"{event.name} ({event.start:%a %d %b %H:%M})"
        while label in found:
            label = f"{label} [{event.id}]"
        found[label] = event.id
    return found


def listing(calendar: Calendar) -> str:
    """The calendar as the model is shown it: one line per event, its label first."""
    return "\n".join(
        f"- {label}: {e.start:%A %Y-%m-%d %H:%M}, {e.duration_minutes} min"
        + (f", with {', '.join(e.participants)}" if e.participants else "")
        for label, e in ((label, calendar.get(i)) for label, i in labels(calendar).items())
    )


NONE = "none"


def choice_type(calendar: Calendar) -> type[BaseModel]:
    """``{event, change}``: ``event`` is one of this calendar's event labels, or ``none``
    when no event is the one the message means (an enum: a grammar or a JSON schema bounds
    the answer to them; code maps the label to its id), ``change`` the kind of change."""
    ids = (*labels(calendar), NONE)
    return create_model(
        "EventChange",
        event=(Literal[ids], ...),  # type: ignore[arg-type]
        change=(ChangeKind, ...),
    )


GENERIC = frozenset(
    {"the", "a", "an", "my", "our", "your", "with", "on", "at", "to", "of", "and", "for",
     "in", "meeting", "meetings", "call", "sync", "session", "appointment", "event", "chat"}
)  # fmt: skip
"""Words that name a kind of event, not one event: no evidence of which one is meant."""


def _words(text: str) -> set[str]:
    return {w.strip(".,!?'\"()").lower() for w in text.split()} - GENERIC - {""}


def mentioned(event: Event, calendar: Calendar, text: str) -> bool:
    """Whether the message carries evidence for ``event`` among the calendar's events: a
    word of its name that no other event's name has, a participant's name, or its start
    time. This only vetoes the model's choice (a request about an event the calendar does
    not hold must not edit another one); it never picks an event."""
    said = _words(text)
    others = set().union(*(_words(e.name) for e in calendar.events if e.id != event.id))
    own = _words(event.name) - others
    if not own and not event.participants:
        return True  # nothing sets it apart: the model's choice stands
    people = {w.lower() for p in event.participants for w in p.split()}
    times = {f"{event.start:%H:%M}", f"{event.start.hour % 12 or 12}:{event.start:%M}"}
    return bool(own & said or people & said or any(t in text for t in times))


class MoveTo(BaseModel):
    day: str
    """The new day as the message says it, or "same"."""
    start_time: Clock24
    """The new start, 24-hour HH:MM, or "same"."""

    @field_validator("day")
    @classmethod
    def _known_day(cls, day: str, info: ValidationInfo) -> str:
        today = (info.context or {}).get("today")
        if day != SAME and today is not None and resolve_day(day, today) is None:
            raise ValueError(f"cannot tell which date {day!r} is; write it as YYYY-MM-DD")
        return day


class Shift(BaseModel):
    minutes: int = Field(ge=-10_080, le=10_080)
    """How much later (positive) or earlier (negative) it starts."""


class SetLength(BaseModel):
    duration_minutes: Minutes


class ChangeLength(BaseModel):
    by_minutes: int = Field(ge=-1_440, le=1_440)
    """How much longer (positive) or shorter (negative) it gets."""


class Names(BaseModel):
    names: People = Field(min_length=1)


SHAPES: dict[str, type[BaseModel]] = {
    "move": MoveTo,
    "shift": Shift,
    "set_length": SetLength,
    "change_length": ChangeLength,
    "add_people": Names,
    "remove_people": Names,
}
"""The one required shape of each kind of change."""


class ChangeError(ValueError):
    """A change that cannot be applied to the event (a length of zero, say)."""


def apply(event: Event, kind: str, change: BaseModel, today: date) -> Event:
    """The event after the change, computed from its current start and length."""
    update: dict[str, Any] = {}
    if isinstance(change, MoveTo):
        day = event.start.date() if change.day == SAME else resolve_day(change.day, today)
        at = (
            event.start.time()
            if change.start_time == SAME
            else time.fromisoformat(change.start_time)
        )
        assert day is not None  # checked by the shape's validator
        update["start"] = datetime.combine(day, at)
    elif isinstance(change, Shift):
        update["start"] = event.start + timedelta(minutes=change.minutes)
    elif isinstance(change, SetLength):
        update["duration_minutes"] = change.duration_minutes
    elif isinstance(change, ChangeLength):
        update["duration_minutes"] = event.duration_minutes + change.by_minutes
    elif kind == "add_people" and isinstance(change, Names):
        have = {p.lower() for p in event.participants}
        update["participants"] = event.participants + [
            p for p in change.names if p.lower() not in have
        ]
    elif isinstance(change, Names):
        gone = {p.lower() for p in change.names}
        update["participants"] = [p for p in event.participants if p.lower() not in gone]
    if not 0 < update.get("duration_minutes", event.duration_minutes) <= 24 * 60:
        raise ChangeError("the event's length must stay between 1 and 1,440 minutes")
    return event.model_copy(update=update)

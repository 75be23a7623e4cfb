"""Changes to an existing event: the calendar's labels and listing as the model is shown
them, the evidence that a message is about an event, and a change applied in code to
the event's current start and length (nothing left to the model's arithmetic on dates).
The router asks the model for the change (its schemas are the router's)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from ._days import resolve_day
from ._events import Calendar, Event

ChangeKind = Literal["move", "shift", "set_length", "change_length", "add_people", "remove_people"]

SAME = "same"


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


class ChangeError(ValueError):
    """A change that cannot be applied to the event (a length of zero, say)."""


def apply(event: Event, kind: ChangeKind, values: Mapping[str, Any], today: date) -> Event:
    """The event after a change of ``kind`` with its ``values`` (``day`` and
    ``start_time``, each or ``same``, for a move; ``minutes``, ``duration_minutes``,
    ``by_minutes`` or ``names`` for the others), computed from its current start and
    length: days resolved here, no arithmetic left to the model."""
    update: dict[str, Any] = {}
    if kind == "move":
        day = event.start.date() if values["day"] == SAME else resolve_day(values["day"], today)
        at = (
            event.start.time()
            if values["start_time"] == SAME
            else time.fromisoformat(values["start_time"])
        )
        if day is None:
            raise ChangeError(f"cannot tell which date {values['day']!r} is")
        update["start"] = datetime.combine(day, at)
    elif kind == "shift":
        update["start"] = event.start + timedelta(minutes=values["minutes"])
    elif kind == "set_length":
        update["duration_minutes"] = values["duration_minutes"]
    elif kind == "change_length":
        update["duration_minutes"] = event.duration_minutes + values["by_minutes"]
    elif kind == "add_people":
        have = {p.lower() for p in event.participants}
        update["participants"] = event.participants + [
            p for p in values["names"] if p.lower() not in have
        ]
    else:
        gone = {p.lower() for p in values["names"]}
        update["participants"] = [p for p in event.participants if p.lower() not in gone]
    if not 0 < update.get("duration_minutes", event.duration_minutes) <= 24 * 60:
        raise ChangeError("the event's length must stay between 1 and 1,440 minutes")
    return event.model_copy(update=update)

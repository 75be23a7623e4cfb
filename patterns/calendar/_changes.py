"""Changes to an existing event: the calendar's labels and listing as the model is shown
them, the evidence that a message is about an event, and a change applied in code to
the event's current start and length (nothing left to the model's arithmetic on dates).
The router asks the model for the change (its schemas are the router's)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta
from difflib import SequenceMatcher
from typing import Any, Literal

from ._days import WEEKDAYS, resolve_day
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


def listing(calendar: Calendar, only: Collection[str] | None = None) -> str:
    """The calendar as the model is shown it: one line per event (of ``only``, ids, if
    given), its label first."""
    shown = {label: i for label, i in labels(calendar).items() if only is None or i in only}
    return "\n".join(
        f"- {label}: {e.start:%A %Y-%m-%d %H:%M}, {e.duration_minutes} min"
        + (f", with {', '.join(e.participants)}" if e.participants else "")
        for label, e in ((label, calendar.get(i)) for label, i in shown.items())
    )


NONE = "none"


GENERIC = frozenset(
    {"the", "a", "an", "my", "our", "your", "with", "on", "at", "to", "of", "and", "for",
     "in", "meeting", "meetings", "call", "sync", "session", "appointment", "event", "chat"}
)  # fmt: skip
"""Words that name a kind of event, not one event: no evidence of which one is meant."""


def _words(text: str) -> set[str]:
    found = {w.strip(".,!?;:'\"()").lower() for w in text.split()}
    return {re.sub(r"['’]s$", "", w) for w in found} - GENERIC - {""}


def mentioned(event: Event, calendar: Calendar, text: str, people: bool = True) -> bool:
    """Whether the message carries evidence for ``event`` among the calendar's events: a
    word of its name that no other event's name has, a participant's name (unless
    ``people=False``), or its start time. It never picks an event by itself: a message
    that names one event this way is taken to mean it without asking the model."""
    said = _words(text)
    others = set().union(*(_words(e.name) for e in calendar.events if e.id != event.id))
    own = _words(event.name) - others
    if not own and not event.participants:
        return True  # nothing sets it apart: the model's choice stands
    names = {w.lower() for p in event.participants for w in p.split()} if people else set()
    times = {f"{event.start:%H:%M}", f"{event.start.hour % 12 or 12}:{event.start:%M}"}
    return bool(own & said or names & said or any(t in text for t in times))


def _alike(word: str, said: set[str]) -> bool:
    """The word, or a typo of it among the message's words: one letter more, fewer or
    changed in a word of five letters or more ("kickof", "standpu"), the first letter
    kept ("class" is not "clashes")."""
    if word in said:
        return True
    return len(word) >= 5 and any(
        w[:1] == word[:1] and abs(len(w) - len(word)) <= 1
        and SequenceMatcher(None, word, w).ratio() >= 0.8
        for w in said
    )  # fmt: skip


def named(calendar: Calendar, text: str) -> list[Event]:
    """The events a message names, in calendar order: a word of an event's name that no
    other event's name has (or a typo of it), a person's name aside; if it names none that
    way, the events whose people it names. A clock time is no evidence: a new event's
    time matches the events already at it. Code narrows the list the model chooses from:
    a message that names no listed event is not a change to one."""
    said = _words(text)
    by_name = []
    for event in calendar.events:
        others = set().union(*(_words(e.name) for e in calendar.events if e.id != event.id))
        people = {w.lower() for p in event.participants for w in p.split()}
        own = _words(event.name) - others - people
        if any(_alike(w, said) for w in own):
            by_name.append(event)
    if by_name:
        return by_name
    return [
        e for e in calendar.events if {w.lower() for p in e.participants for w in p.split()} & said
    ]


def named_whole(event: Event, text: str) -> bool:
    """Whether the message names ``event`` by all of its name (a typo of a word allowed,
    "with" and articles aside) or by one of its people: more than a word it shares with
    something new ("roadmap planning" beside the "Planning session")."""
    said = {w.strip(".,!?;:'\"()").lower() for w in text.split()}
    said |= {re.sub(r"['’]s$", "", w) for w in said}
    name = [w.strip(".,!?;:'\"()").lower() for w in event.name.split()]
    people = {w.lower() for p in event.participants for w in p.split()}
    return all(_alike(w, said) for w in name if w not in _LINKS) or bool(people & said)


_LINKS = frozenset({"with", "the", "a", "an", "of", "and", "for"})


def joining(names: list[str], event: Event, text: str) -> list[str]:
    """The names given for people to add that the message writes as names (a capital
    first letter), that are not in the event already, nor a word of its name, nor a day."""
    have = {p.lower() for p in event.participants}
    title = _words(event.name) | set(WEEKDAYS)
    return [
        n for n in dict.fromkeys(n.strip() for n in names)
        if n and n.lower() not in have and not _words(n) & title
        and re.search(rf"(?<!\w){re.escape(n[:1].upper() + n[1:])}(?!\w)", text)
    ]  # fmt: skip


def leaving(names: list[str], event: Event, text: str) -> list[str]:
    """The names given for people to remove that are in the event and in the message."""
    said = _words(text)
    return [p for p in event.participants
            if p.lower() in {n.strip().lower() for n in names} and _words(p) <= said]  # fmt: skip


_LEAVES = re.compile(
    # someone taken off, or declining: in English and the five other languages the
    # calendar reads (a verb's stem, however it is conjugated)
    r"\b(?:remove|removing|drop(?:ped|ping)?(?! by| in\b)|uninvite|exclude|excuse|kick|"
    r"(?:take|pull|get|leave|count|cross|strike|scratch) \w+(?: \w+)? (?:off|out)|"
    r"off (?:the|of|it)|out of|swap|replace|skip\w*|sit\w* out|"
    r"(?:pull|pulled|drop|dropped|back|backed|bow|bowed|opt|opted) out|"
    r"(?:won'?t|will not|can'?t|cannot|can not|couldn'?t|isn'?t|is not|aren'?t|not) (?:be )?"
    r"(?:able to )?(?:make|come|coming|join|joining|attend|attending|be there|be at|be in)|"
    r"no longer (?:needed|coming|joining|attending|in|on|part)|"
    r"quit\w*|saca\w*|elimin\w*|enl[eè]v\w*|retir\w*|supprim\w*|entfern\w*|streich\w*|"
    r"togli\w*|rimuov\w*|remov\w*|tir[ae]\w*)\b",
    re.IGNORECASE,
)


def says_someone_leaves(text: str) -> bool:
    """Whether the message says someone is taken off or does not come ("drop Omar", "Tom
    can't make the kickoff", "Quita a Bob"): evidence for taking someone off an event
    beyond naming them ("Kim is bringing snacks to the planning session" is not)."""
    return bool(_LEAVES.search(text))


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

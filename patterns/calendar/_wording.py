"""What the patterns say about an event, written by code: a small model restates a date
it is given in words far more reliably than it formats one, and a confirmation or a
response must state the event as it is in the calendar."""

from __future__ import annotations

import re

from ._days import WEEKDAYS
from ._events import Event, EventDetails


def describe(details: EventDetails) -> str:
    """The event as a person reads it (what the chain's confirmation step is shown)."""
    start = details.start
    people = ", ".join(details.participants) or "nobody else"
    return (
        f"Event: {details.name}\n"
        f"When: {start:%A} {start.day} {start:%B %Y}, {start:%H:%M} "
        f"({start.strftime('%I:%M %p').lstrip('0')}), {details.duration_minutes} minutes\n"
        f"With: {people}"
    )


def confirmation_text(details: EventDetails) -> str:
    """A confirmation that states the weekday, the day, the time and the length."""
    start = details.start
    people = f" with {', '.join(details.participants)}" if details.participants else ""
    return (
        f"{details.name} is in your calendar{people} on {start:%A} {start.day} {start:%B %Y}, "
        f"{start.strftime('%I:%M %p').lstrip('0')} for {details.duration_minutes} minutes."
    )


def describe_event(event: Event) -> str:
    """One event on one line (what the router's change step is shown)."""
    people = f", with {', '.join(event.participants)}" if event.participants else ""
    return (
        f"{event.name}, {event.start:%A %Y-%m-%d} at {event.start:%H:%M}, "
        f"{event.duration_minutes} minutes{people}"
    )


def done_text(verb: str, event: Event) -> str:
    """``Created 'Lunch' on Friday 2026-12-04 at 12:00 for 60 min with Ana.``"""
    people = f" with {', '.join(event.participants)}" if event.participants else ""
    when = f"{event.start:%A %Y-%m-%d at %H:%M}"
    return f"{verb} '{event.name}' on {when} for {event.duration_minutes} min{people}."


# --- Titles ------------------------------------------------------------------------------------

TITLE_WORDS = 5
_WHEN = re.compile(
    rf"^(?:on|at|next|this|today|tonight|tomorrow|tmrw|from|by|before|after|every|"
    rf"{'|'.join(WEEKDAYS)}|mon|tue|wed|thu|fri|sat|sun|"
    r"jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*|"
    r"\d.*)$",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"^(?:please |pls |can you |could you |would you |)(?:schedule|book|set up|set|add|put|"
    r"create|organi[sz]e|plan|arrange|block)\s+(?:an? |the |me )?",
    re.IGNORECASE,
)
_WHEN_AFTER_THE = {"day", "week", "weekend", "morning", "afternoon", "evening", "next", "end"}
_SLOT = re.compile(
    # a slot of time (its when words may follow it) for something: "(book) 45 minutes on
    # Monday at 2pm for budget forecasting", "reserve time for the budget draft"
    r"^(?:(?:reserve|hold|set aside|save|keep|block)\s+)?(?:an? |one |two |three |"
    r"\d+(?:\.\d+)?)[\s-]*(?:hours?|hrs?|h|minutes?|mins?)\b"
    r"(?:\s+(?:on|at|from|to|this|next|every|today|tonight|tomorrow|[a-z]*day|\S*\d\S*|"
    r"[ap]\.?m\.?),?)*\s+for\s+(?P<purpose>\S.*)$"
    r"|^(?:reserve|hold|set aside|save|keep|block)?\s*(?:some )?time for\s+(?P<time_for>\S.*)$",
    re.IGNORECASE,
)


def short_title(name: str) -> str:
    """The model's title, at most five words: a title that restates the request (its
    day, its time, its purpose) is cut where the 'when' begins; a slot of time for
    something ("90 minutes on Tuesday for roadmap planning") is titled by its purpose."""
    said = _REQUEST.sub("", name.strip())
    if slot := _SLOT.match(said):
        said = (slot["purpose"] or slot["time_for"]).strip(",.;:!? ")
    words = said.split()
    if words:
        words[0] = words[0][:1].upper() + words[0][1:]
    if len(words) <= TITLE_WORDS:
        return " ".join(words) or name.strip()
    kept: list[str] = []
    for word, after in zip(words, [*words[1:], ""], strict=True):
        if _WHEN.match(word.strip(",.;:!?")) or word.lower() in ("to", "for", "about"):
            break
        if kept and word.lower() == "the" and after.lower() in _WHEN_AFTER_THE:
            break  # "the budget draft the day after tomorrow"
        kept.append(word)
    return " ".join((kept or words)[:TITLE_WORDS]).strip(",.;:!?")

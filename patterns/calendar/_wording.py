"""What the patterns say about an event, written by code: a small model restates a date
it is given in words far more reliably than it formats one, and a confirmation or a
response must state the event as it is in the calendar."""

from __future__ import annotations

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

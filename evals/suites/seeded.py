"""The calendar the end-to-end router suite's changes apply to (its cases name these
events by id in their expected changes)."""

from __future__ import annotations

from datetime import datetime

from patterns.calendar import Calendar, EventDetails


def seeded() -> Calendar:
    """The calendar the router's changes apply to (ids evt-1 .. evt-15, in this order)."""
    at = datetime.fromisoformat
    return Calendar(
        [
            EventDetails(name="Design review", start=at("2026-11-26T11:00"), participants=["Dana"]),
            EventDetails(
                name="Weekly standup",
                start=at("2026-11-30T09:30"),
                duration_minutes=15,
                participants=["Alice", "Bob"],
            ),
            EventDetails(
                name="Dentist appointment", start=at("2026-12-01T08:00"), duration_minutes=45
            ),
            EventDetails(
                name="Budget meeting", start=at("2026-11-27T10:00"), participants=["Omar"]
            ),
            EventDetails(
                name="Project sync",
                start=at("2026-11-26T15:00"),
                duration_minutes=30,
                participants=["Bob", "Carol"],
            ),
            EventDetails(name="Retro", start=at("2026-11-27T16:00"), participants=["Lee"]),
            EventDetails(name="Lunch with Ana", start=at("2026-11-26T12:00"), participants=["Ana"]),
            EventDetails(
                name="Product launch meeting", start=at("2026-12-01T14:00"), participants=["Maria"]
            ),
            EventDetails(name="Board meeting", start=at("2026-12-08T14:00"), duration_minutes=120),
            EventDetails(
                name="Kickoff", start=at("2026-11-30T10:00"), participants=["Maria", "Tom"]
            ),
            EventDetails(
                name="Interview with Sam", start=at("2026-12-02T15:30"), participants=["Sam Park"]
            ),
            EventDetails(
                name="Planning session", start=at("2026-11-27T09:00"), participants=["Lee", "Kim"]
            ),
            EventDetails(name="Yoga class", start=at("2026-11-26T18:30"), duration_minutes=45),
            EventDetails(
                name="Sprint review", start=at("2026-11-27T14:00"), participants=["Priya"]
            ),
            EventDetails(
                name="1:1 with Priya",
                start=at("2026-11-30T09:00"),
                duration_minutes=30,
                participants=["Priya"],
            ),
        ]
    )

"""Day phrases ("next Tuesday", "Dec 3", "in 2 days") resolved in code against today:
small models miscount days."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = {"today": 0, "tonight": 0, "tomorrow": 1, "day after tomorrow": 2}
_FILLERS = ("on ", "this ", "next ", "coming ", "the ")


def resolve_day(phrase: str, today: date) -> date | None:
    """The date a day phrase means, counted from ``today``; None if it cannot tell.

    Understands ISO dates, "today"/"tomorrow"/"the day after tomorrow", weekdays
    ("Friday", "on Friday", "next Tuesday": the first such day after today),
    "in N days", month-day forms ("December 3", "3 Dec", "Dec 3rd", "December 1, 2026")
    and a day of the month ("the 14th": the next 14th, today included).
    """
    text = " ".join(phrase.lower().replace(",", " ").split())
    for word in text.split():  # "Tuesday 2026-12-01" counts as its ISO date
        with suppress(ValueError):
            return date.fromisoformat(word)
    if text.startswith("in ") and text.endswith((" days", " day")) and text.split()[1].isdigit():
        try:
            return today + timedelta(days=int(text.split()[1]))
        except (OverflowError, ValueError):  # past the calendar's year 9999, or 5,000 digits
            return None
    while text.startswith(_FILLERS):
        text = text.split(" ", 1)[1]
    if text in _RELATIVE:
        return today + timedelta(days=_RELATIVE[text])
    if text in WEEKDAYS:
        ahead = (WEEKDAYS.index(text) - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    return _month_day(text, today)


def _month_day(text: str, today: date) -> date | None:
    words = " ".join(w.rstrip("stndrh") if w[:1].isdigit() else w for w in text.split())
    for fmt in ("%B %d %Y", "%d %B %Y", "%b %d %Y", "%d %b %Y"):  # "December 1, 2026"
        with suppress(ValueError):
            return datetime.strptime(words, fmt).date()
    for fmt in ("%B %d", "%d %B", "%b %d", "%d %b"):
        with suppress(ValueError):
            parsed = datetime.strptime(f"{words} {today.year}", f"{fmt} %Y").date()
            return parsed if parsed >= today else parsed.replace(year=today.year + 1)
    if words.isdigit() and 1 <= int(words) <= 31:  # "the 14th": the next such day
        for ahead in range(0, 62):
            day = today + timedelta(days=ahead)
            if day.day == int(words):
                return day
    return None

"""Day phrases resolved in code against today: the model copies the words of the message
that say when ("the day after tomorrow", "a week from Friday", "mañana"), code computes
the date. Small models miscount days; a parser does not.

The project's conventions come first, as code on top of the parser: a bare or "next"
weekday is the first such day after today, "<weekday> next week" is that day of the
following Monday-to-Sunday week, offsets count from today or from a named day, "the
14th" is the next 14th. Everything else, other languages included, goes to
``dateparser`` (measured against parsedatetime and ctparse on the dev split's phrases:
36, 21 and 26 of 48 right before these conventions; see docs/patterns/router.md).
"""

from __future__ import annotations

import calendar
import re
from contextlib import suppress
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_SHORT = {
    # abbreviations and common misspellings, one word each
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "tmrrw": "tomorrow",
    "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow", "2morrow": "tomorrow",
    "tonite": "tonight", "2day": "today", "nxt": "next", "wk": "week", "wks": "weeks",
    "mon": "monday", "tue": "tuesday", "tues": "tuesday", "wed": "wednesday",
    "weds": "wednesday", "thu": "thursday", "thur": "thursday", "thurs": "thursday",
    "fri": "friday", "sat": "saturday", "sun": "sunday",
    "a": "1", "an": "1", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "couple": "2",
    "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
}  # fmt: skip
_FILLER = {"on", "this", "coming", "the", "at", "for", "by", "around"}
_PART_OF_DAY = {"morning", "afternoon", "evening", "night", "noon", "midday", "lunchtime", "eod"}
_WEEKDAY = "|".join(WEEKDAYS)
_OFFSET = re.compile(
    r"^(?:in )?(?P<n>\d+) (?P<unit>day|week)s?"
    r"(?: (?:from|after) (?P<anchor>.+)| later)?$"
)
_MONTH_ALONE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?: \d{4})?"
)  # a month names no day
_ANCHOR_NAMES = {"now": 0, "today": 0, "tonight": 0, "tomorrow": 1}


_CLOCK = re.compile(
    r"(?:\b(?:at|um|à|alle|às|a las|@)\s*)?(?:@\s*)?"
    r"\b\d{1,2}(?:[:.h]\d\d)?\s*(?:[ap]\.?m\b\.?|h\b|uhr\b)"
    r"|(?:\b(?:at|um|à|alle|às|a las)\s+|@\s*)\d{1,2}(?:[:.]\d\d)?\b|\b\d{1,2}:\d\d\b",
    re.IGNORECASE,
)
"""Clock times ("at 10", "3:30pm", "um 14 Uhr"): not part of a day phrase ("Monday at 10"
is a Monday, not the 10th)."""


_OVERMORROW = re.compile(
    r"\b(?:pasado mañana|depois de amanhã|dopodomani|übermorgen|après[- ]demain)\b"
)
_COUNT = {"dos": 2, "dois": 2, "duas": 2, "due": 2, "zwei": 2, "deux": 2, "tres": 3,
          "três": 3, "tre": 3, "drei": 3, "trois": 3, "cuatro": 4, "quatro": 4,
          "quattro": 4, "vier": 4, "quatre": 4, "cinco": 5, "cinque": 5, "fünf": 5,
          "cinq": 5}  # fmt: skip
_UNIT_WORDS = {"días": "days", "dias": "days", "día": "day", "dia": "day", "giorni": "days",
               "giorno": "day", "tage": "days", "tagen": "days", "jours": "days",
               "jour": "day", "semanas": "weeks", "semana": "week", "settimane": "weeks",
               "settimana": "week", "wochen": "weeks", "woche": "week", "semaines": "weeks",
               "semaine": "week"}  # fmt: skip
_COUNTED = re.compile(rf"\b({'|'.join(_COUNT)}|\d+)\s+({'|'.join(_UNIT_WORDS)})\b")
"""A count of days or weeks in another language ("dentro de dos semanas", "tra 3
giorni"): read as the English offset the conventions resolve. dateparser reads digits
there but not number words, nor "pasado mañana" (it reads "mañana")."""


def _counted(match: re.Match[str]) -> str:
    count = _COUNT.get(match[1], match[1])
    return f"{count} {_UNIT_WORDS[match[2]]}"


def _normal(phrase: str) -> str:
    text = _CLOCK.sub(" ", phrase.lower())
    text = _COUNTED.sub(_counted, _OVERMORROW.sub("day after tomorrow", text))
    text = text.replace("a fortnight", "2 weeks").replace("fortnight", "2 weeks")
    text = text.replace("'s", "")
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    words = re.sub(r"[,.!?;:()\"]", " ", text).split()
    words = [_SHORT.get(w, w) for w in words]
    return " ".join(w for w in words if w not in _PART_OF_DAY and w != "of")


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


DaySource = Literal["copied", "message", "model"]
"""Where an event's day came from: the model's copy of the message's words, resolved by
code; code's own search of the message; or the model's words, not in the message
(a fallback, flagged)."""


def day_of(span: str, text: str, today: date) -> tuple[date, DaySource] | None:
    """The day an event is on: the span the model copied, resolved by code, when the
    message holds it (widened to the longer day phrase of the message it is part of:
    a small model copies "Thursday" of "Thursday December 3"); else the day code finds in
    the message itself; else the model's own words resolved (flagged "model"); None if
    none of them names a day."""
    held = f" {' '.join(_words(span))} " in f" {' '.join(_words(text))} " and bool(_words(span))
    longest = _longest(text, today)
    if held and (day := resolve_day(span, today)):
        copied = f" {_normal(span)} "
        if longest and copied != f" {longest[1]} " and copied in f" {longest[1]} ":
            return longest[
                0
            ], "copied"  # part of a longer phrase: "Monday" of "3 days after Monday"
        return day, "copied"
    if longest:
        return longest[0], "message"
    if day := resolve_day(span, today):
        return day, "model"
    return None


_KEYWORD = re.compile(
    rf"^(?:{_WEEKDAY}|today|tonight|tomorrow|overmorrow|now|days?|weeks?|month|"
    r"\d{4}-\d\d-\d\d|"
    r"jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*)$"
)
_ORDINAL_DAY = re.compile(r"\b(?:on )?the (\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
_LONGEST = 6


def find_day(text: str, today: date) -> date | None:
    """The day a whole message names, found by code: the longest run of its words that the
    conventions resolve and that holds a day word ("a week from Friday" over "Friday"),
    else an ordinal day of the month ("on the 3rd"), else ``dateparser``'s search (other
    languages). None if the message names no day."""
    found = _longest(text, today)
    return found[0] if found else None


def _longest(text: str, today: date) -> tuple[date, str] | None:
    words = _normal(text[:2000]).split()
    for length in range(min(_LONGEST, len(words)), 0, -1):
        for i in range(len(words) - length + 1):
            span = words[i : i + length]
            if any(_KEYWORD.match(w) for w in span) and (
                found := _convention(" ".join(span), today)
            ):
                return found, " ".join(span)
    if ordinal := _ORDINAL_DAY.search(text):
        day = _month_day(ordinal[1], today)
        return (day, ordinal[1]) if day else None
    day = _searched(text, today)
    return (day, "") if day else None


def resolve_day(phrase: str, today: date) -> date | None:
    """The date a day phrase means, counted from ``today``; None if it cannot tell.

    ISO dates; "today", "tomorrow" (and "tmrw"), "the day after tomorrow"; weekdays
    ("Fri", "next Tuesday": the first such day after today; "Tuesday next week": in the
    following week); offsets ("in 3 days", "two weeks from today", "a week from Friday",
    "3 days after Monday"); "the end of the month"; month-day forms ("Dec 3", "3rd of
    December", "Friday, December 4": the stated date wins over its weekday); a day of
    the month ("the 14th": the next one, today included); and, through ``dateparser``,
    the same in other languages ("mañana", "el viernes", "übermorgen").
    """
    for word in phrase.replace(",", " ").split():
        with suppress(ValueError):
            return date.fromisoformat(word.strip(".;"))
    text = _normal(phrase)
    found = _convention(text, today)
    if found is None and re.search(r"[^\W\d_]", phrase) and not _MONTH_ALONE.fullmatch(text):
        found = _parsed(phrase, today)
    return found


def _convention(text: str, today: date) -> date | None:
    words = [w for w in text.split() if w not in _FILLER]
    text = " ".join(words)
    if text in ("today", "tonight"):
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text in ("day after tomorrow", "overmorrow"):
        return today + timedelta(days=2)
    if offset := _OFFSET.match(text):
        return _offset(offset, today)
    if text in ("end month", "last day month", "end this month"):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if after := re.fullmatch(rf"({_WEEKDAY}) after next", text):  # a week after the next
        return _next_weekday(after[1], today) + timedelta(days=7)
    if nth := _NTH_WEEKDAY.fullmatch(text):
        return _nth_weekday(nth, today)
    if week := re.fullmatch(rf"(?:next week ({_WEEKDAY})|({_WEEKDAY}) next week)", text):
        monday = today + timedelta(days=7 - today.weekday())
        return monday + timedelta(days=WEEKDAYS.index(week[1] or week[2]))
    dated = [w for w in words if w not in WEEKDAYS and w != "next"]
    if dated and len(dated) < len(words):  # "Friday December 4": the date, not the weekday
        day = _month_day(" ".join(dated), today)
        named = {WEEKDAYS.index(w) for w in words if w in WEEKDAYS}
        # a date on another weekday than the one named is no reading of it ("Friday, one")
        return day if day is not None and day.weekday() in named else None
    if weekday := re.fullmatch(rf"(?:next )?({_WEEKDAY})", text):
        return _next_weekday(weekday[1], today)
    return _month_day(text, today)


def _next_weekday(name: str, today: date) -> date:
    """The first such weekday after today."""
    return today + timedelta(days=(WEEKDAYS.index(name) - today.weekday() - 1) % 7 + 1)


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip
_NTH_WEEKDAY = re.compile(
    rf"(?P<n>[1-5]|last) (?P<weekday>{_WEEKDAY}) (?:in )?"
    rf"(?P<month>month|next month|(?:{'|'.join(m[:3] for m in _MONTHS)})[a-z]*)"
)
"""The first Monday of December, the last Friday of the month (as normalised: "first"
reads as 1, "of" and "the" are dropped)."""


def _nth_weekday(match: re.Match[str], today: date) -> date | None:
    """That weekday of that month: this year's, or next year's once it has passed."""
    month_word = match["month"]
    if month_word in ("month", "next month"):
        first = today.replace(day=1)
        if month_word == "next month":
            first = (first + timedelta(days=32)).replace(day=1)
        candidates = [first]
    else:
        number = next((i for i, m in enumerate(_MONTHS, 1) if m.startswith(month_word[:3])), 0)
        candidates = [date(today.year + k, number, 1) for k in (0, 1)] if number else []
    weekday = WEEKDAYS.index(match["weekday"])
    for first in candidates:
        days = [
            day
            for d in range(calendar.monthrange(first.year, first.month)[1])
            if (day := first + timedelta(days=d)).weekday() == weekday
        ]
        n = len(days) if match["n"] == "last" else int(match["n"])
        if n <= len(days) and (found := days[n - 1]) >= today:
            return found
    return None


def _offset(match: re.Match[str], today: date) -> date | None:
    anchor = match["anchor"]
    start = today if anchor is None else _ANCHOR_NAMES.get(anchor)
    if isinstance(start, int):
        start = today + timedelta(days=start)
    elif start is None:
        start = _convention(anchor, today)
    if start is None:
        return None
    try:
        return start + timedelta(days=int(match["n"]) * (7 if match["unit"] == "week" else 1))
    except (OverflowError, ValueError):  # past the calendar's year 9999, or 5,000 digits
        return None


def _month_day(text: str, today: date) -> date | None:
    for fmt in ("%B %d %Y", "%d %B %Y", "%b %d %Y", "%d %b %Y"):  # "December 1, 2026"
        with suppress(ValueError):
            return datetime.strptime(text, fmt).date()
    for fmt in ("%B %d", "%d %B", "%b %d", "%d %b"):
        with suppress(ValueError):
            parsed = datetime.strptime(f"{text} {today.year}", f"{fmt} %Y").date()
            return parsed if parsed >= today else parsed.replace(year=today.year + 1)
    if text.isdigit() and 1 <= int(text) <= 31:  # "the 14th": the next such day
        for ahead in range(0, 62):
            day = today + timedelta(days=ahead)
            if day.day == int(text):
                return day
    return None


@cache
def _dateparser() -> tuple[Any, Any]:
    """``dateparser``'s parse and search, imported on first use (its language data takes
    about 0.3 s to load)."""
    from dateparser import parse as parse_date
    from dateparser.search import search_dates

    return parse_date, search_dates


def _settings(today: date) -> dict[str, Any]:
    return {
        "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }


def _parsed(phrase: str, today: date) -> date | None:
    """Other languages and forms the conventions do not cover, by ``dateparser``."""
    try:
        parse_date, _ = _dateparser()
        found = parse_date(phrase[:200], settings=_settings(today))
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    return found.date() if isinstance(found, datetime) else _searched(phrase, today)


def _searched(text: str, today: date) -> date | None:
    """The first date ``dateparser`` finds in a message that names a day in a language
    the conventions do not read. Its search also reads short words as dates ("mit" as
    German Wednesday, "May" in "May I", "to 10am" as tomorrow): a span with no word of
    four letters or more is not taken."""
    try:
        _, search_dates = _dateparser()
        found = search_dates(text[:2000], settings=_settings(today)) or []
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    for said, when in found:
        words = [w.lower() for w in re.findall(r"[^\W\d_]+", said)]
        if not any(len(word) > 3 for word in words) or set(words) <= _NOT_A_DAY:
            continue
        if _CLOCK.search(said):  # "giovedì alle 16" is no 16th: the day without the time
            without = _CLOCK.sub(" ", said).strip()
            rest = {w.lower() for w in re.findall(r"[^\W\d_]+", without)}
            day = resolve_day(without, today) if rest and not rest <= _NOT_A_DAY else None
            if day is not None:
                return day
        elif isinstance(when, datetime):
            return when.date()
    return None


_NOT_A_DAY = {
    "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "second", "seconds",
    "half", "quarter", "an", "a", "one", "two", "three", "four", "five", "six", "ten",
    "later", "earlier", "ago", "long", "for", "and", "at", "to", "time", "times", "noon",
    "midday", "midnight", "from", "until", "till",
}  # fmt: skip
"""Words of a span that names an amount of time, not a day: dateparser reads "two hours"
and "30 minutes later" as today, "two hours, from 2pm" too. "In two hours" and "45
minutes from now" keep their day (today)."""

"""The comparison behind the calendar's choice of day parser (docs/patterns/router.md):
48 day phrases in the dev split's forms, each parser alone, then the project's
conventions with dateparser behind them, against Wednesday 2026-11-25.

    pip install dateparser parsedatetime ctparse
    python -m tests.patterns.compare_date_parsers

A parser that is not installed is skipped; this is not a test (nothing to assert)."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from datetime import date, datetime

from patterns.calendar import resolve_day

NOW = datetime(2026, 11, 25, 10, 0)
OTHER_LANGUAGES = {"mañana", "el viernes", "demain", "vendredi", "morgen", "übermorgen",
                   "am Freitag", "domani", "3 de diciembre", "le 3 décembre"}  # fmt: skip
PHRASES = {
    "tomorrow": "2026-11-26", "tmrw": "2026-11-26", "tmr": "2026-11-26",
    "the day after tomorrow": "2026-11-27", "day after tomorrow": "2026-11-27",
    "in 3 days": "2026-11-28", "in two weeks": "2026-12-09", "in a week": "2026-12-02",
    "a week from today": "2026-12-02", "a week from Friday": "2026-12-04",
    "two days after Monday": "2026-12-02", "next Friday": "2026-11-27",
    "this Friday": "2026-11-27", "Friday": "2026-11-27", "on Monday": "2026-11-30",
    "end of the month": "2026-11-30", "the last day of the month": "2026-11-30",
    "Friday Dec 4": "2026-12-04", "Friday, December 4": "2026-12-04", "Dec 3": "2026-12-03",
    "3rd of December": "2026-12-03", "December 3rd": "2026-12-03", "2026-12-03": "2026-12-03",
    "tomorrow afternoon": "2026-11-26", "Monday morning": "2026-11-30",
    "Tuesday next week": "2026-12-01", "next week Tuesday": "2026-12-01",
    "the 14th": "2026-12-14", "today": "2026-11-25", "tonight": "2026-11-25",
    "this evening": "2026-11-25", "next Thursday": "2026-11-26", "thurs": "2026-11-26",
    "weds": "2026-11-25", "mañana": "2026-11-26", "el viernes": "2026-11-27",
    "demain": "2026-11-26", "vendredi": "2026-11-27", "morgen": "2026-11-26",
    "übermorgen": "2026-11-27", "am Freitag": "2026-11-27", "domani": "2026-11-26",
    "3 de diciembre": "2026-12-03", "le 3 décembre": "2026-12-03", "in 10 days": "2026-12-05",
    "2 weeks from now": "2026-12-09", "the first of December": "2026-12-01",
    "Dec. 3": "2026-12-03",
}  # fmt: skip
""""weds" is labelled today on purpose: by the project's convention a bare weekday is the
next one, so the project's own resolver is expected to disagree on it."""


def _dateparser() -> Callable[[str], date | None]:
    import dateparser
    from dateparser.search import search_dates

    settings = {"RELATIVE_BASE": NOW, "PREFER_DATES_FROM": "future"}

    def parse(phrase: str) -> date | None:
        found = dateparser.parse(phrase, settings=settings)  # type: ignore[arg-type]
        if found is None:
            searched = search_dates(phrase, settings=settings)  # type: ignore[arg-type]
            found = searched[0][1] if searched else None
        return found.date() if found else None

    return parse


def _parsedatetime() -> Callable[[str], date | None]:
    import parsedatetime  # type: ignore[import-not-found]

    calendar = parsedatetime.Calendar(version=parsedatetime.VERSION_CONTEXT_STYLE)

    def parse(phrase: str) -> date | None:
        found, context = calendar.parseDT(phrase, sourceTime=NOW)
        return found.date() if context.hasDate else None

    return parse


def _ctparse() -> Callable[[str], date | None]:
    import ctparse  # type: ignore[import-not-found]

    def parse(phrase: str) -> date | None:
        found = ctparse.ctparse(phrase, ts=NOW, timeout=1)
        try:
            value = found.resolution if found else None
            return date(value.year, value.month, value.day) if value else None
        except (AttributeError, TypeError, ValueError):
            return None

    return parse


PARSERS: dict[str, tuple[str, Callable[[], Callable[[str], date | None]]]] = {
    "dateparser": ("dateparser", _dateparser),
    "parsedatetime": ("parsedatetime", _parsedatetime),
    "ctparse": ("ctparse", _ctparse),
    "conventions + dateparser (patterns.calendar.resolve_day)": (
        "dateparser",
        lambda: lambda phrase: resolve_day(phrase, NOW.date()),
    ),
}


def main() -> None:
    warnings.filterwarnings("ignore")
    for name, (module, make) in PARSERS.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name}: not installed, skipped")
            continue
        parse = make()
        wrong = []
        for phrase, want in PHRASES.items():
            try:
                got = parse(phrase)
            except Exception as error:
                got = f"error {type(error).__name__}"
            if str(got) != want:
                wrong.append(f"{phrase} -> {got}")
        languages = sum(1 for p in OTHER_LANGUAGES if f"{p} ->" not in " ".join(wrong))
        print(f"{name}: {len(PHRASES) - len(wrong)} of {len(PHRASES)} right, other languages "
              f"{languages} of {len(OTHER_LANGUAGES)}")  # fmt: skip
        print("   wrong: " + "; ".join(wrong))


if __name__ == "__main__":
    main()

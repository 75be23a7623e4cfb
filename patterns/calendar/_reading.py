"""What code reads from a message itself, so that it does not depend on a small model:
the clock times it states, a short title, and whether it asks to change an event that
already exists (the chain's gate passes new events only).

The rules are written by category (the grammar of a time, of a title, of a request to
change something), not from any dataset's wording.
"""

from __future__ import annotations

import re

from ._days import WEEKDAYS

# --- Clock times -------------------------------------------------------------------------------

_TIME = re.compile(
    r"\b(?:(?P<h12>1[0-2]|0?[1-9])(?:[:.](?P<m12>[0-5]\d))?\s*(?P<ampm>[ap])\.?\s?m\b\.?"
    r"|(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)\b"
    r"|(?P<word>noon|midday|midnight))",
    re.IGNORECASE,
)
_RANGE = re.compile(r"^\s*(?:to|until|till|-|–)\s*$", re.IGNORECASE)


def _minutes(match: re.Match[str]) -> int:
    if match["word"]:
        return 0 if match["word"].lower() == "midnight" else 12 * 60
    if match["h24"] is not None:
        return int(match["h24"]) * 60 + int(match["m24"])
    hour = int(match["h12"]) % 12 + (12 if match["ampm"].lower() == "p" else 0)
    return hour * 60 + int(match["m12"] or 0)


def stated_times(text: str) -> tuple[str | None, int | None]:
    """The first clock time the message states, as HH:MM ("7:30pm" is 19:30, "noon" is
    12:00), and the length of a stated range in minutes ("2pm to 5pm": 180), if any.
    A bare number ("at 3") is not a time: it could be either half of the day."""
    found = list(_TIME.finditer(text))
    if not found:
        return None, None
    start = _minutes(found[0])
    length = None
    if len(found) > 1 and _RANGE.match(text[found[0].end() : found[1].start()]):
        end = _minutes(found[1])
        length = (end - start) % (24 * 60) or None
    return f"{start // 60:02d}:{start % 60:02d}", length


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


def short_title(name: str) -> str:
    """The model's title, at most five words: a title that restates the request (its
    day, its time, its purpose) is cut where the 'when' begins."""
    words = _REQUEST.sub("", name.strip()).split()
    if words:
        words[0] = words[0][:1].upper() + words[0][1:]
    if len(words) <= TITLE_WORDS:
        return " ".join(words) or name.strip()
    kept: list[str] = []
    for word in words:
        if _WHEN.match(word.strip(",.;:!?")) or word.lower() in ("to", "for", "about"):
            break
        kept.append(word)
    return " ".join((kept or words)[:TITLE_WORDS]).strip(",.;:!?")


# --- Requests to change an existing event --------------------------------------------------

_OPENER = (
    r"(?:^|[.;:!?,]\s*|\b(?:and|then|also|but)\s+)"
    r"(?:(?:please|pls|kindly|can you|could you|would you|can we|could we|let'?s|"
    r"i need to|i want to|i'd like to|we need to|we should|we have to|you should)\s+)?"
)
_DAY = rf"(?:today|tomorrow|tonight|{'|'.join(WEEKDAYS)})"
_EXISTING = rf"(?:the|my|our|this|that|it|its|{_DAY}'s)\b"
_ON_THE_EVENT = (
    r"(?:move|reschedule|postpone|push|shift|delay|cancel|call off|extend|shorten|"
    r"lengthen|rename|update|change|swap|make)"
)
_ON_WHO_IS_IN_IT = r"(?:add|invite|remove|drop|uninvite|take)"
CHANGE_REQUEST = re.compile(
    "|".join(
        [
            # a verb of change, as the request's own verb, on an event that exists
            rf"{_OPENER}{_ON_THE_EVENT}\s+{_EXISTING}",
            rf"{_OPENER}(?:bring|pull)\s+(?:\S+\s+){{0,4}}?(?:forward|earlier)\b",
            # someone added to or taken off an event that exists
            rf"{_OPENER}{_ON_WHO_IS_IN_IT}\s+(?:[\w'-]+,?\s+(?:and\s+)?){{1,4}}?"
            rf"(?:to|from|off)\s+{_EXISTING}",
            # a new time stated against the old one
            r"\binstead of\s+(?:\d|an?\b|the\b|noon|midday)",
            r"\b(?:should|needs? to|has to)\s+(?:now\s+)?(?:start|begin|end|finish)\s+"
            r"(?:at|on|by|later|earlier)\b",
            r"\b(?:should|needs? to|has to)\s+be\s+(?:moved|earlier|later|shorter|longer)\b",
            r"\b(?:is|it's|it is)\s+now\s+(?:at|on)\b",
            r"\bat the same time\b",
            r"\b(?:is|has been|was|been)\s+(?:moved|rescheduled|postponed|cancell?ed)\b",
        ]
    ),
    re.IGNORECASE,
)
_TO_THE_CALENDAR = re.compile(
    r"\b(?:to|on|in|into)\s+(?:my|the|our)\s+(?:calendar|schedule|agenda|diary)\b", re.IGNORECASE
)


def asks_to_change(text: str) -> bool:
    """Whether the message asks to change, move, resize or cancel an event that already
    exists (or who is in it), rather than to create one: "move the design review to
    Friday", "add Carol to the standup", "it should start at 3 instead of 2". Putting a
    new event *on my calendar* is not a change."""
    return bool(CHANGE_REQUEST.search(_TO_THE_CALENDAR.sub(" ", text)))

"""What code reads from a message itself, so that it does not depend on a small model:
the clock times it states, a short title, and whether it asks to change an event that
already exists (the chain's gate passes new events only).

The rules are written by category (the grammar of a time, of a title, of a request to
change something), not from any dataset's wording.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from ._days import WEEKDAYS
from ._foreign import in_english
from ._wording import short_title

# --- Clock times -------------------------------------------------------------------------------

_TIME = re.compile(
    # a time with its part of the day: "3:30 in the afternoon", "8 in the evening"
    r"\b(?:(?P<hpd>1[0-2]|0?[1-9])(?:[:.](?P<mpd>[0-5]\d))?\s*(?:o'?clock\s+)?"
    r"(?:in the|at) (?P<pd>morning|afternoon|evening|night)\b"
    r"|(?P<h12>1[0-2]|0?[1-9])(?:[:.](?P<m12>[0-5]\d))?\s*(?P<ampm>[ap])\.?\s?m\b\.?"
    r"|(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)\b"
    # other languages' clock times: "14h30", "à 15h", "um 14 Uhr", "14.30 Uhr"
    r"|(?P<hh>[01]?\d|2[0-3])h(?P<mh>[0-5]\d)\b"
    r"|(?:(?<=à )|(?<=às )|(?<=a las ))(?P<hfr>[01]?\d|2[0-3])\s?h\b"
    # "vendredi 11h": an hour of the day written so, 7h to 23h, is a time, not 11 hours
    r"|(?<![\d.,])(?P<hbare>[7-9]|1\d|2[0-3])h\b"
    r"|(?P<hde>[01]?\d|2[0-3])(?:[.:](?P<mde>[0-5]\d))?\s?uhr\b"
    r"|(?P<word>noon|midday|midnight))",
    re.IGNORECASE,
)
_RANGE = re.compile(
    r"^\s*(?:to|until|till|til|'til|thru|through|-|–|—|bis|hasta|até|jusqu'à)\s*$",
    re.IGNORECASE,
)


_HALF_RANGE = re.compile(
    # a range whose first time takes its part of the day from the second: "2-4pm", "9 to
    # 10:30am", "10:30 to 11am"
    r"(?<![\w:./–-])(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s*(?:-|–|—|to|until|till)\s*"
    r"(?=(?:1[0-2]|0?[1-9])(?::[0-5]\d)?\s*[ap]\.?\s?m\b)",
    re.IGNORECASE,
)


_A_MONTH_BEFORE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*$", re.IGNORECASE
)


def _half_range(text: str, end: re.Match[str]) -> int | None:
    """The start of a range like "2-4pm" that ends at ``end``, in minutes: the end's part of
    the day, or the other part if that would put the start after the end ("11-1pm")."""
    found = next((m for m in _HALF_RANGE.finditer(text) if m.end() == end.start()), None)
    if found is None or _A_MONTH_BEFORE.search(text[: found.start()]):
        return None  # "Dec 3-4pm" is a day, then a time
    start = int(found["h"]) % 12 * 60 + int(found["m"] or 0)
    finish = _minutes(end)
    start += 12 * 60 if finish >= 12 * 60 else 0
    return start if start < finish else start - 12 * 60 if start >= 12 * 60 else None


def _minutes(match: re.Match[str]) -> int:
    if match["word"]:
        return 0 if match["word"].lower() == "midnight" else 12 * 60
    if match["pd"]:
        hour = int(match["hpd"]) % 12
        later = match["pd"].lower() in ("afternoon", "evening") or (
            match["pd"].lower() == "night" and hour >= 6
        )
        return (hour + (12 if later else 0)) * 60 + int(match["mpd"] or 0)
    if match["h24"] is not None:
        return int(match["h24"]) * 60 + int(match["m24"])
    for hours, minutes in (("hh", "mh"), ("hfr", "hfr_none"), ("hbare", ""), ("hde", "mde")):
        if match[hours] is not None:
            return int(match[hours]) * 60 + int(match.groupdict().get(minutes) or 0)
    hour = int(match["h12"]) % 12 + (12 if match["ampm"].lower() == "p" else 0)
    return hour * 60 + int(match["m12"] or 0)


_SET_ASIDE = re.compile(
    r"\b(?:not|instead of|rather than|forget|scrap|skip|drop|cancel|no longer)"
    r"(?:\s+(?:the|my|our|at|about|around|that|this))*\s*$",
    re.IGNORECASE,
)
"""Words right before a time that set it aside: grammar of negation and replacement."""


def stated_times(text: str) -> tuple[str | None, int | None]:
    """The first clock time the message states, as HH:MM ("7:30pm" is 19:30, "noon" is
    12:00, "14h30" and "14 Uhr" too), and the length it states, in minutes: a range
    ("2pm to 5pm", "from 9am until 11am", "2-4pm": 180, 120 and 120), else a stated length ("for two
    hours", "a 45-minute call"), if any. A bare number ("at 3") is not a time: it could
    be either half of the day. A time the message sets aside ("not 6:30", "forget the
    3pm slot", "instead of 2pm") is not the one it states, unless it states no other."""
    found = list(_TIME.finditer(text))
    kept = [m for m in found if not _SET_ASIDE.search(text[max(0, m.start() - 40) : m.start()])]
    found = kept or found
    length = stated_length(text)
    if not found:
        return None, length
    start = _minutes(found[0])
    if len(found) > 1 and _RANGE.match(text[found[0].end() : found[1].start()]):
        end = _minutes(found[1])
        length = (end - start) % (24 * 60) or length
    elif (first := _half_range(text, found[0])) is not None:
        start, length = first, start - first
    return f"{start // 60:02d}:{start % 60:02d}", length


_HOUR_WORDS = ("midnight", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine", "ten", "eleven", "twelve")  # fmt: skip
_BARE_HOUR = re.compile(r"(?<![\d:.])(\d{1,2})(?![\d:.]|\s*(?:min|h(?:ou)?rs?\b|%))", re.I)


def hour_said(start_time: str, text: str) -> bool:
    """Whether the message says the hour of ``start_time`` (HH:MM) in some form: a clock
    time code reads, or the hour as a number or a word ("to 3", "at fifteen past three"),
    or noon or midnight. A time no part of the message says is the model's own."""
    hour = int(start_time[:2])
    start = stated_times(text)[0]
    if start is not None:
        return start == start_time
    low = text.lower()
    if hour == 12 and re.search(r"\b(?:noon|midday)\b", low):
        return True
    hours = {hour, hour % 12 or 12}
    if any(int(m) in hours for m in _BARE_HOUR.findall(low)):
        return True
    return any(re.search(rf"\b{_HOUR_WORDS[h]}\b", low) for h in hours if h < 13)


_AMOUNT = re.compile(
    r"\b(?P<n>an? hour and an? half|(?:an? )?half(?: an?)?|(?:an? )?quarter(?: of an?)?|"
    r"\d+(?:\.\d+)?|another|an?|one|two|three|four|five|six|ten|fifteen|twenty|thirty|"
    r"forty[\s-]five|ninety)"
    r"(?:\s+(?P<between>more|extra|additional|fewer|less))?"  # "15 more minutes"
    r"[\s-]*(?P<unit>hours?|hrs?|h|minutes?|mins?|m|days?|weeks?)?\b(?=(?P<after>\s*\w+)?)",
    re.IGNORECASE,
)
_NUMBER = {"a": 1, "an": 1, "another": 1, "one": 1, "two": 2, "three": 3, "four": 4,
           "five": 5, "six": 6, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
           "ninety": 90}  # fmt: skip
_UNIT = {"h": 60, "hr": 60, "hour": 60, "m": 1, "min": 1, "minute": 1, "day": 1440,
         "week": 10080}  # fmt: skip

Direction = Literal["later", "earlier", "longer", "shorter", "by"]
"""Which way an amount of time changes an event: its start later or earlier, its length
longer or shorter, or "by" (a change by the amount, its direction unsaid)."""
_DIRECTIONS: dict[str, Direction] = {
    **dict.fromkeys(("later", "back", "behind", "late", "out", "delay", "delayed",
                     "postpone", "postponed", "push", "pushed"), "later"),
    **dict.fromkeys(("earlier", "forward", "forwards", "early", "sooner", "ahead", "up"),
                    "earlier"),
    **dict.fromkeys(("longer", "more", "extra", "another", "additional", "over", "extend",
                     "extended", "lengthen", "lengthened", "add"), "longer"),
    **dict.fromkeys(("shorter", "less", "fewer", "shorten", "shortened", "cut", "trim",
                     "reduce"), "shorter"),
    "by": "by",
}  # fmt: skip
"""The words, after an amount or before it in its clause, that give its direction:
grammar shared by every event's wording, not any dataset's."""
_CLAUSE = re.compile(r"[.;:!?,]|\b(?:and|then|but)\b", re.IGNORECASE)
_BEFORE = 4


_FROM_NOW = re.compile(r"\b(?:in|within)\s*$", re.IGNORECASE)


class Amount(NamedTuple):
    """An amount of time the message states: its minutes, and its direction, or None for
    a length stated outright ("make it 90 minutes")."""

    minutes: int
    direction: Direction | None


def _amount(match: re.Match[str]) -> int | None:
    amount, unit = match["n"].lower(), (match["unit"] or "").lower()
    if "hour and" in amount:
        return 90
    if not unit or (unit in ("h", "m") and not amount[0].isdigit()):
        return None
    scale = _UNIT[unit.rstrip("s")]
    if "half" in amount:
        number = 0.5
    elif "quarter" in amount:
        number = 0.25
    elif amount[0].isdigit():
        number = float(amount)
    elif amount.startswith("forty"):
        number = 45
    else:
        number = _NUMBER.get(amount.split()[0], 1)
    return round(number * scale) or None


def _direction(text: str, match: re.Match[str]) -> Direction | None:
    if match["n"].lower() == "another":
        return "longer"
    if match["between"]:
        return _DIRECTIONS[match["between"].lower()]
    after = (match["after"] or "").strip().lower()
    if after in _DIRECTIONS and after != "by":
        return _DIRECTIONS[after]
    words = _CLAUSE.split(text[: match.start()])[-1].lower().split()
    # the last few words before the amount, and the clause's verb however far ("Retrasa
    # la reunión de presupuesto media hora")
    clause = words[:1] + words[1:][-_BEFORE:]
    found: list[Direction] = []
    for word in reversed(clause):
        if word in ("to", "into", "for"):  # "shorten it to 30 minutes": a length
            break
        if word in _DIRECTIONS:
            found.append(_DIRECTIONS[word])
    told = [d for d in found if d != "by"]
    return told[0] if told else (found[0] if found else None)


def amounts(text: str) -> list[Amount]:
    """The amounts of time the message states, clock times aside, in order: "an hour
    later" (60, later), "15 minutes shorter" (15, shorter), "an extra half hour" (30,
    longer), "push it back by one hour" (60, later), "out a week" (10,080, later), "make
    it 90 min" (90, a length); in five other languages too ("eine Stunde später")."""
    text = in_english(text)
    times = [range(*m.span()) for m in _TIME.finditer(text)]
    found = []
    for match in _AMOUNT.finditer(text):
        if any(match.start() in span for span in times):
            continue
        minutes, direction = _amount(match), _direction(text, match)
        # a number of days or weeks that changes nothing by it is a date ("in two weeks"),
        # and an amount from now a time ("in two hours", "within 30 minutes")
        from_now = _FROM_NOW.search(text[max(0, match.start() - 8) : match.start()])
        if minutes is not None and not from_now and (minutes < 24 * 60 or direction is not None):
            found.append(Amount(minutes, direction))
    return found


_SAYS_LENGTH = re.compile(
    r"\b(hours?|hrs?|h|minutes?|mins?|half|quarter|all day|long|short|quick|brief|"
    r"until|till|through|horas?|minutos?|heures?|stunden?|minuten|ore|minuti)\b|\d+h\b",
    re.IGNORECASE,
)


def says_a_length(text: str) -> bool:
    """Whether the message says anything about how long (a unit, a range, "quick"): if
    not, an event's length is the default, whatever length a model offers."""
    return bool(_SAYS_LENGTH.search(text))


def amounts_of_time(text: str) -> int:
    """How many amounts of time the message states ("an hour", "30 minutes", "half an
    hour"), clock times not counted: each supports one change that needs an amount."""
    return len(amounts(text))


def stated_length(text: str) -> int | None:
    """A length the message states outright, in minutes ("for 3 hours": 180, "90 min",
    "half an hour": 30, "an hour and a half": 90, "a 45-minute call"), if any. An amount
    by which something moves or changes ("an hour later", "15 minutes shorter") is not a
    length."""
    return next((a.minutes for a in amounts(text)
                 if a.direction is None and a.minutes <= 24 * 60), None)  # fmt: skip


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


_POLITE = re.compile(
    r"(?:^|[.!?]\s+)(?:(?:hey|hi|ok|so),?\s+)?(?:can|could|would|will)\s+(?:you|we|u)\b"
    r"[^.!?]*\?\s*$",
    re.IGNORECASE,
)


def asks_a_question(text: str) -> bool:
    """Whether the message ends by asking something ("..., right?", "what's the best way
    into town?"), a request put as a question aside ("Can you book ... at 1pm?"); a
    question earlier in it ("Am I free Friday? If so, book ...") does not count."""
    return text.rstrip().endswith("?") and not _POLITE.search(text)


def asks_to_change(text: str) -> bool:
    """Whether the message asks to change, move, resize or cancel an event that already
    exists (or who is in it), rather than to create one: "move the design review to
    Friday", "add Carol to the standup", "it should start at 3 instead of 2". Putting a
    new event *on my calendar* is not a change."""
    return bool(CHANGE_REQUEST.search(_TO_THE_CALENDAR.sub(" ", text)))


# --- What the model copied, checked against the message ------------------------------------

_WITH = re.compile(
    r"\b(?:with|w/|w|mit|con|avec|com)\s+(?:(?:the|a|my|our|der|die|el|la|le|les|il|o)\s+)?"
    r"(?:[a-z]+\s+){0,1}?"
    r"(?P<names>[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?(?:\s*(?:,|and|&|und|y|e|et)\s*[A-Z][\w'-]+)*)"
)
_JOINS = re.compile(r"\s*(?:,|\band\b|&|\bund\b|\by\b|\be\b|\bet\b)\s*")


def _spaced(text: str) -> str:
    return " " + " ".join(re.findall(r"[^\W_]+", text.casefold())) + " "


def people_in(names: list[str], text: str) -> list[str]:
    """The names the model gave that the message holds (a name of its own, or one copied
    from a worked example, is dropped); if it gave none the message holds, the names
    code reads after "with" ("Lunch with Grace", "mit Jonas", "con Marco and Ana")."""
    said = _spaced(text)
    kept = [n for n in names if n.strip() and _spaced(n) in said]
    if kept:
        return kept
    found = _WITH.search(text)
    return [n for n in _JOINS.split(found["names"]) if n] if found else []


_FUNCTION_WORDS = {"with", "and", "the", "for", "from", "this", "that", "mit", "con", "avec",
                   "und", "les", "des", "del", "our", "your"}  # fmt: skip


def title_in(name: str, text: str) -> str:
    """The model's title if a word of it (three letters or more, not a function word) is
    in the message, else
    a title read from the message itself (``short_title``): a small model copies a worked
    example's title ("Tea with Kim and Lou") or invents one ("Medicenter")."""
    said = set(re.findall(r"[^\W\d_]{3,}", text.casefold())) - _FUNCTION_WORDS
    if set(re.findall(r"[^\W\d_]{3,}", name.casefold())) & said:
        return short_title(name)
    return short_title(text)

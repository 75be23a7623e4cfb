"""Prompt chain: a calendar event processor.

    text -> extract event info -> gate -> parse details -> confirmation
                                   |
                                   +-> rejected (not an event, a change, or neither
                                       confident enough nor a day and a time code reads)

Each box is one typed LLM call; the gate is plain code. Run it on the embedded
model with ``patterns-server exec -- python -m patterns.chain "Lunch with Ana
next Tuesday at noon"``.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .calendar import (
    DayPhrase,
    DaySource,
    EventDetails,
    Minutes,
    People,
    StartTime,
    Title,
    asks_a_question,
    asks_to_change,
    calendar_link,
    confirmation_text,
    day_of,
    describe,
    find_day,
    people_in,
    says_a_length,
    stated_times,
    title_in,
)
from .core import (
    DEFAULT_THRESHOLD,
    LLM,
    Clock,
    Confident,
    PatternResult,
    Percent,
    Rejection,
    Step,
    Trace,
    confidence_gate,
    system_clock,
    today_line,
    workflow,
)
from .core.plumbing import run_demo

logger = logging.getLogger("patterns.chain")


# --- What each step returns -------------------------------------------------------------


DESCRIPTION_CHARS = 200
"""A free-text field's bound in the answer's schema, which the server turns into a grammar:
a model that would restate the request until its token cap is stopped there (the extract
step's description, and the confirmation, ran to the cap on 5 of 76 dev requests, three
attempts each)."""


class EventExtraction(Confident):
    decision = "is_calendar_event"
    # Model-facing schemas carry no class docstring: pydantic would send it as the
    # schema's description, and small models copy it into their answers.
    model_config = ConfigDict(use_attribute_docstrings=True)

    is_calendar_event: bool
    """True if the message asks to schedule a new meeting, call, appointment or other event
    (a change to an existing one is not new)."""
    confidence_percent: Percent
    """How sure you are about is_calendar_event, from 0 to 100."""
    description: str = Field(max_length=DESCRIPTION_CHARS)
    """The request restated in one short sentence."""


class DetailsAnswer(BaseModel):
    # The model copies the day as written; code resolves it against the clock.
    name: Title
    day: DayPhrase
    start_time: StartTime = Field(description="Start, 24-hour HH:MM (2pm is 14:00); 09:00 if none.")
    duration_minutes: Minutes = Field(
        description="Length in minutes; 60 if the message does not say."
    )
    participants: People

    @field_validator("day")
    @classmethod
    def _known_day(cls, day: str, info: ValidationInfo) -> str:
        context = info.context or {}
        if "today" in context and day_of(day, context.get("text", ""), context["today"]) is None:
            raise ValueError(
                f"cannot tell which date {day!r} is; copy the words of the message that say "
                "which day, exactly as written"
            )
        return day


class Confirmation(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    confirmation_message: str = Field(max_length=2 * DESCRIPTION_CHARS)
    """One or two friendly sentences confirming the event: name, date, time, participants."""


class ChainRejection(Rejection):
    """Why this pattern's gate stopped a run."""

    reason: Literal["not_calendar_event", "change_to_existing_event", "low_confidence"]


class ReadDetails(BaseModel):
    """The details step's result: the event, and where its day came from."""

    details: EventDetails
    day_from: DaySource
    """``copied``: the words the model copied from the message, resolved by code;
    ``message``: code's own reading of the message; ``model``: the model's words, which
    the message does not hold (a fallback, worth a look)."""


class ChainResult(PatternResult):
    outcome: Literal["confirmed", "rejected"]
    extraction: EventExtraction
    rejection: ChainRejection | None = None
    details: EventDetails | None = None
    day_from: DaySource | None = None
    """Where the day came from (``ReadDetails.day_from``)."""
    confirmation: Confirmation | None = None
    calendar_link: str | None = None
    """Built in code from the details, never written by the model."""


# --- Prompts ----------------------------------------------------------------------------

EXTRACT_PROMPT = (
    "You triage messages sent to a calendar assistant. is_calendar_event is true when the "
    "message asks to put a new event in the calendar: a meeting, call, lunch, dinner, "
    "appointment, class or block of time. It is false when the message asks to move or "
    "change an event that already exists, and for questions, emails, tasks, notes about "
    "past meetings and vague wishes. confidence_percent: how sure you are, 0 to 100. "
    "description: the request in a few words of your own."
)
DETAILS_PROMPT = (
    "Extract the details of the event the message asks to schedule. name: a short title "
    "of your own, 2 to 5 words. day: the day as the message says it ('next Tuesday', "
    "'tomorrow', 'Dec 3'). start_time: 24-hour HH:MM (2pm is 14:00, noon is 12:00; "
    "09:00 if the message gives no time). duration_minutes: 60 unless the message says "
    "otherwise (two hours is 120, 2pm to 5pm is 180). participants: the names of the people "
    "the message mentions, [] if none.\n"
    'Example: "Tea with Kim and Lou on Friday, 3 to 4pm" -> {"name": "Tea with Kim and '
    'Lou", "day": "Friday", "start_time": "15:00", "duration_minutes": 60, '
    '"participants": ["Kim", "Lou"]}'
)
CONFIRM_PROMPT = (
    "Write the one or two friendly sentences a calendar assistant sends to confirm this "
    "event. Say its name, the weekday and date and the time exactly as given, and who "
    "is invited."
)


# --- The steps --------------------------------------------------------------------------

EXTRACT = Step("extract", EventExtraction, EXTRACT_PROMPT, brief=True)
DETAILS = Step("details", DetailsAnswer, DETAILS_PROMPT)
CONFIRM = Step("confirm", Confirmation, CONFIRM_PROMPT)
STEPS = (EXTRACT, DETAILS, CONFIRM)
"""The model's boxes, in order (the router's new-event box is ``DETAILS``)."""


async def extract_event_info(llm: LLM, text: str, trace: Trace) -> EventExtraction:
    return await EXTRACT(llm, text, trace)


def gate(
    extraction: EventExtraction, threshold: float, text: str, today: date | None = None
) -> ChainRejection | None:
    """New events only. A request to change an event that exists is stopped by code that
    reads the message (``asks_to_change``), whatever the model said; the details are
    written by code too, so no text the model invented reaches a rejection or a log.
    Below the threshold, an event the model found still passes when code reads what an
    event needs in the message (``states_when``, given ``today``)."""
    if asks_to_change(text):
        return ChainRejection(
            reason="change_to_existing_event",
            detail="the message asks to change an event that already exists; this chain only "
            "creates new events (the router changes existing ones)",
        )
    if not extraction.is_calendar_event:
        return ChainRejection(
            reason="not_calendar_event", detail="the message does not ask to schedule an event"
        )
    if today is not None and states_when(text, today):
        return None
    return confidence_gate(extraction.confidence, threshold, ChainRejection)


def states_when(text: str, today: date) -> bool:
    """Whether code reads a day (today or later) and a clock time in the message, and the
    message does not end by asking something (``asks_a_question``). A small model's
    token confidence that a message is an event is weak evidence (dev split: 26 of 86
    new events below 0.7); a day and a time that code reads are strong evidence that
    holds in any wording (dev: the gate's F1 0.67 → 0.82, false positives 0.23 → 0.24)."""
    day = find_day(text, today)
    return (
        day is not None
        and day >= today
        and stated_times(text)[0] is not None
        and not asks_a_question(text)
    )


async def parse_event_details(llm: LLM, text: str, clock: Clock, trace: Trace) -> ReadDetails:
    """The details step (the router's new-event step too): the model copies the words
    that say when, code resolves them (``day_of``: checked to be the message's own
    words, else read from the message); what the message states outright (its clock
    time, a length or a range) is read by code, and the title kept short."""
    today = clock().date()
    system = f"{DETAILS.instructions} {today_line(clock)}"
    context = {"today": today, "text": text}
    answer = await DETAILS(llm, text, trace, system=system, context=context)
    day, source = day_of(answer.day, text, today) or (today, "model")  # the validator ran it
    if source != "copied":
        logger.warning("the day is read from the %s, not the model's copy %r", source, answer.day)
    stated_start, stated_length = stated_times(text)
    start = datetime.combine(day, time.fromisoformat(stated_start or answer.start_time))
    details = EventDetails(
        name=title_in(answer.name, text),
        start=start,
        duration_minutes=stated_length or (answer.duration_minutes if says_a_length(text) else 60),
        participants=people_in(answer.participants, text),
    )
    return ReadDetails(details=details, day_from=source)


async def generate_confirmation(llm: LLM, details: EventDetails, trace: Trace) -> Confirmation:
    return checked_confirmation(await CONFIRM(llm, describe(details), trace), details)


def checked_confirmation(written: Confirmation, details: EventDetails) -> Confirmation:
    """The model's confirmation if it states the weekday, the day of the month and the
    time; else one written by code from the details (a confirmation must say when)."""
    start, text = details.start, written.confirmation_message.lower()
    times = {f"{start:%H:%M}"} | {
        start.strftime(form).lstrip("0").lower() for form in ("%I:%M %p", "%I%p", "%I %p")
    }
    if start.minute == 0 and start.hour == 12:
        times.add("noon")
    states = (
        f"{start:%A}".lower() in text
        and re.search(rf"\b{start.day}(?:st|nd|rd|th)?\b", text) is not None
        and any(t in text for t in times)
    )
    return written if states else Confirmation(confirmation_message=confirmation_text(details))


# --- The chain --------------------------------------------------------------------------


@workflow("chain")
async def process_calendar_request(
    text: str,
    *,
    llm: LLM | None = None,
    clock: Clock = system_clock,
    threshold: float = DEFAULT_THRESHOLD,
    trace: Trace | None = None,
) -> ChainResult:
    llm = llm or LLM.from_env()
    trace = trace if trace is not None else Trace()
    extraction = await extract_event_info(llm, text, trace)
    logger.info("extracted: event=%s confidence=%.2f", extraction.is_calendar_event,
                extraction.confidence)  # fmt: skip
    if rejection := gate(extraction, threshold, text, clock().date()):
        logger.warning("gate rejected the request: %s", rejection.reason)
        return ChainResult(outcome="rejected", extraction=extraction, rejection=rejection,
                           calls=trace.calls, usage=trace.usage)  # fmt: skip
    read = await parse_event_details(llm, text, clock, trace)
    details = read.details
    logger.info("details: %s on %s", details.name, details.start.isoformat())
    confirmation = await generate_confirmation(llm, details, trace)
    return ChainResult(outcome="confirmed", extraction=extraction, details=details,
                       day_from=read.day_from,
                       confirmation=confirmation, calendar_link=calendar_link(details),
                       calls=trace.calls, usage=trace.usage)  # fmt: skip


if __name__ == "__main__":
    text = " ".join(sys.argv[1:])
    sys.exit(
        run_demo(
            lambda trace: process_calendar_request(text, trace=trace),
            lambda result: result.model_dump_json(indent=2),
            logging.INFO,
        )
    )

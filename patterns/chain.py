"""Prompt chain: a calendar event processor.

    text -> extract event info -> gate -> parse details -> confirmation
                                   |
                                   +-> rejected (not an event, or not confident enough)

Each box is one typed LLM call; the gate is plain code. Run it on the embedded
model with ``patterns-server exec -- python -m patterns.chain "Lunch with Ana
next Tuesday at noon"``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import datetime, time, timedelta
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .core import (
    DEFAULT_THRESHOLD,
    LLM,
    CallRecord,
    Clock,
    Confident,
    Percent,
    Rejection,
    Trace,
    Usage,
    confidence_gate,
    resolve_day,
    system_clock,
    today_line,
)

logger = logging.getLogger("patterns.chain")


# --- What each step returns -------------------------------------------------------------


class EventExtraction(Confident):
    # Model-facing schemas carry no class docstring: pydantic would send it as the
    # schema's description, and small models copy it into their answers.
    model_config = ConfigDict(use_attribute_docstrings=True)

    description: str
    """The request restated in one short sentence."""
    is_calendar_event: bool
    """True if the message asks to schedule a meeting, call, appointment or other event."""
    confidence_percent: Percent
    """How sure you are about is_calendar_event, from 0 to 100."""


class DetailsAnswer(BaseModel):
    # What the model answers for step 2. It copies the day as written and code
    # resolves it against the clock: small models get date arithmetic wrong.
    model_config = ConfigDict(use_attribute_docstrings=True)

    name: str
    """A short title for the event, 2 to 5 words."""
    day: str
    """The day exactly as the message says it ('next Tuesday', 'tomorrow', 'December 3')."""
    start_time: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """Start time on a 24-hour clock, HH:MM (2pm is 14:00); 09:00 if the message gives none."""
    duration_minutes: int = Field(gt=0, le=24 * 60)
    """Length in minutes; 60 if the message does not say."""
    participants: list[str]
    """Names of the people the message invites; an empty list if it names nobody."""

    @field_validator("day")
    @classmethod
    def _known_day(cls, day: str, info: ValidationInfo) -> str:
        today = (info.context or {}).get("today")
        if today is not None and resolve_day(day, today) is None:
            raise ValueError(f"cannot tell which date {day!r} is; write it as YYYY-MM-DD")
        return day


class EventDetails(BaseModel):
    """The event, with its start resolved to a date and time."""

    name: str
    start: datetime
    day_as_written: str
    duration_minutes: int
    participants: list[str]


class Confirmation(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    confirmation_message: str
    """One or two friendly sentences confirming the event: name, date, time, participants."""


class ChainResult(BaseModel):
    outcome: Literal["confirmed", "rejected"]
    extraction: EventExtraction
    rejection: Rejection | None = None
    details: EventDetails | None = None
    confirmation: Confirmation | None = None
    calendar_link: str | None = None
    """Built in code from the details, never written by the model."""
    calls: list[CallRecord]
    usage: Usage


# --- Prompts ----------------------------------------------------------------------------

EXTRACT_PROMPT = (
    "You triage messages sent to a calendar assistant. A calendar event request asks to "
    "schedule something at a time: a meeting, call, lunch or appointment. Not events: "
    "questions, emails, tasks, comments about past meetings, vague wishes."
)
DETAILS_PROMPT = "Extract the details of the event the message asks to schedule."
CONFIRM_PROMPT = "Write the confirmation a calendar assistant sends for this event."


# --- The steps --------------------------------------------------------------------------


async def extract_event_info(llm: LLM, text: str, trace: Trace) -> EventExtraction:
    return await llm.aparse(
        EventExtraction, system=EXTRACT_PROMPT, user=text, step="extract", trace=trace
    )


def gate(extraction: EventExtraction, threshold: float) -> Rejection | None:
    if not extraction.is_calendar_event:
        return Rejection(reason="not_calendar_event", detail=extraction.description)
    return confidence_gate(extraction.confidence, threshold)


async def parse_event_details(llm: LLM, text: str, clock: Clock, trace: Trace) -> EventDetails:
    today = clock().date()
    answer = await llm.aparse(
        DetailsAnswer,
        system=f"{DETAILS_PROMPT} {today_line(clock)}",
        user=text,
        step="details",
        trace=trace,
        context={"today": today},
    )
    day = resolve_day(answer.day, today)
    assert day is not None  # the validator above has checked it
    return EventDetails(
        name=answer.name,
        start=datetime.combine(day, time.fromisoformat(answer.start_time)),
        day_as_written=answer.day,
        duration_minutes=answer.duration_minutes,
        participants=answer.participants,
    )


async def generate_confirmation(llm: LLM, details: EventDetails, trace: Trace) -> Confirmation:
    return await llm.aparse(
        Confirmation,
        system=CONFIRM_PROMPT,
        user=details.model_dump_json(),
        step="confirm",
        trace=trace,
    )


def calendar_link(details: EventDetails) -> str:
    """A link that opens the event in Google Calendar, prefilled."""
    end = details.start + timedelta(minutes=details.duration_minutes)
    dates = f"{details.start:%Y%m%dT%H%M%S}/{end:%Y%m%dT%H%M%S}"
    query = {"action": "TEMPLATE", "text": details.name, "dates": dates}
    if details.participants:
        query["details"] = "With " + ", ".join(details.participants)
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


# --- The chain --------------------------------------------------------------------------


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
    logger.debug("input: %r", text)

    extraction = await extract_event_info(llm, text, trace)
    logger.info(
        "extracted: event=%s confidence=%.2f", extraction.is_calendar_event, extraction.confidence
    )
    if rejection := gate(extraction, threshold):
        logger.warning("gate rejected the request: %s (%s)", rejection.reason, rejection.detail)
        return ChainResult(
            outcome="rejected",
            extraction=extraction,
            rejection=rejection,
            calls=trace.calls,
            usage=trace.usage,
        )

    details = await parse_event_details(llm, text, clock, trace)
    logger.info("details: %s on %s", details.name, details.start.isoformat())
    confirmation = await generate_confirmation(llm, details, trace)
    return ChainResult(
        outcome="confirmed",
        extraction=extraction,
        details=details,
        confirmation=confirmation,
        calendar_link=calendar_link(details),
        calls=trace.calls,
        usage=trace.usage,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    result = asyncio.run(process_calendar_request(" ".join(sys.argv[1:])))
    sys.stdout.write(result.model_dump_json(indent=2) + "\n")

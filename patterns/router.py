"""Router: classify a calendar request, then hand it to a specialised handler.

    text -> classify (new_event | modify_event | other, confidence) -> gate
              |                                                        |
              |      "other", or below the threshold: rejected <-------+
              +-> new_event    -> create_event tool    -> response
              +-> modify_event -> modify_event tool    -> response

Handlers act on a ``Calendar`` through typed tools, so a run's effect can be
checked on the calendar itself. Run it on the embedded model with
``patterns-server exec -- python -m patterns.router "Move the standup to 10:00"``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .calendar import Calendar, CalendarTools, Event, calendar_link
from .core import (
    DEFAULT_THRESHOLD,
    LLM,
    CallRecord,
    Clock,
    Confident,
    Percent,
    Rejection,
    StructuredOutputError,
    ToolCall,
    Trace,
    Usage,
    confidence_gate,
    short,
    system_clock,
    today_line,
)

logger = logging.getLogger("patterns.router")

RequestType = Literal["new_event", "modify_event", "other"]


class RouteDecision(Confident):
    decision = "request_type"
    model_config = ConfigDict(use_attribute_docstrings=True)

    description: str
    """The request restated in one short sentence."""
    request_type: RequestType
    """new_event: schedule something new. modify_event: change, move or reschedule an
    event that already exists. other: anything else."""
    confidence_percent: Percent
    """How sure you are about request_type, from 0 to 100."""


class CalendarResponse(BaseModel):
    success: bool
    message: str
    calendar_link: str | None = None


class RouteRejection(Rejection):
    """Why this pattern's gate stopped a run."""

    reason: Literal["unsupported_request", "low_confidence"]


class RouterResult(BaseModel):
    outcome: Literal["handled", "rejected", "failed"]
    decision: RouteDecision
    rejection: RouteRejection | None = None
    action: ToolCall | None = None
    """The tool the handler ran, with its validated arguments and result."""
    response: CalendarResponse | None = None
    calls: list[CallRecord]
    usage: Usage


ROUTE_PROMPT = (
    "You route messages sent to a calendar assistant. request_type: new_event when the "
    "message asks to schedule something new; modify_event when it asks to move, "
    "reschedule, shorten, lengthen or change who attends an event that already exists "
    "(move, push back, postpone, add or remove someone, make it longer); other for "
    "anything else: questions, emails, chat, tasks. description: the request in your own "
    "words. confidence_percent: how sure you are, 0 to 100.\n"
    'Example: "Push the standup to 10." -> {"description": "Move the standup to 10am.", '
    '"request_type": "modify_event", "confidence_percent": 90}\n'
    'Example: "Coffee with Sam on Monday at 9?" -> {"description": "Coffee with Sam, '
    'Monday 9am.", "request_type": "new_event", "confidence_percent": 95}\n'
    'Example: "What is the weather tomorrow?" -> {"description": "A weather question.", '
    '"request_type": "other", "confidence_percent": 95}'
)
NEW_EVENT_PROMPT = "Create the event this message asks for. {today}"
MODIFY_PROMPT = "Apply the change this message asks for to the existing event. {today}"


async def classify(llm: LLM, text: str, trace: Trace) -> RouteDecision:
    return await short(llm).aparse(
        RouteDecision, system=ROUTE_PROMPT, user=text, step="route", trace=trace
    )


def gate(decision: RouteDecision, threshold: float) -> RouteRejection | None:
    if decision.request_type == "other":
        return RouteRejection(reason="unsupported_request", detail=decision.description)
    return confidence_gate(decision.confidence, threshold, RouteRejection)


async def handle_new_event(llm: LLM, text: str, tools: CalendarTools, trace: Trace) -> ToolCall:
    system = NEW_EVENT_PROMPT.format(today=today_line(tools.clock))
    return await llm.acall_tool(tools.create, system=system, user=text, step="create", trace=trace)


async def handle_modify_event(llm: LLM, text: str, tools: CalendarTools, trace: Trace) -> ToolCall:
    system = MODIFY_PROMPT.format(today=today_line(tools.clock))
    return await llm.acall_tool(tools.modify, system=system, user=text, step="modify", trace=trace)


Handler = Callable[[LLM, str, CalendarTools, Trace], Awaitable[ToolCall]]
HANDLERS: dict[RequestType, Handler] = {
    "new_event": handle_new_event,
    "modify_event": handle_modify_event,
}


def respond(request_type: RequestType, event: Event) -> CalendarResponse:
    verb = "Created" if request_type == "new_event" else "Updated"
    people = f" with {', '.join(event.participants)}" if event.participants else ""
    when = f"{event.start:%A %Y-%m-%d at %H:%M}"
    return CalendarResponse(
        success=True,
        message=f"{verb} '{event.name}' on {when} for {event.duration_minutes} min{people}.",
        calendar_link=calendar_link(event),
    )


async def route_calendar_request(
    text: str,
    *,
    calendar: Calendar,
    llm: LLM | None = None,
    clock: Clock = system_clock,
    threshold: float = DEFAULT_THRESHOLD,
    trace: Trace | None = None,
) -> RouterResult:
    llm = llm or LLM.from_env()
    trace = trace if trace is not None else Trace()
    logger.debug("input: %r", text)

    decision = await classify(llm, text, trace)
    logger.info("routed to %s (confidence %.2f)", decision.request_type, decision.confidence)
    if rejection := gate(decision, threshold):
        logger.warning("gate rejected the request: %s (%s)", rejection.reason, rejection.detail)
        return RouterResult(
            outcome="rejected",
            decision=decision,
            rejection=rejection,
            calls=trace.calls,
            usage=trace.usage,
        )

    handler = HANDLERS[decision.request_type]
    try:
        action = await handler(llm, text, CalendarTools(calendar, clock), trace)
    except StructuredOutputError as error:
        # e.g. the event to modify does not exist: the calendar is left unchanged.
        logger.warning("the %s handler failed: %s", decision.request_type, error)
        return RouterResult(
            outcome="failed",
            decision=decision,
            response=CalendarResponse(success=False, message=error.attempts[-1].shown),
            calls=trace.calls,
            usage=trace.usage,
        )
    return RouterResult(
        outcome="handled",
        decision=decision,
        action=action,
        response=respond(decision.request_type, action.output),
        calls=trace.calls,
        usage=trace.usage,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    result = asyncio.run(route_calendar_request(" ".join(sys.argv[1:]), calendar=Calendar()))
    sys.stdout.write(result.model_dump_json(indent=2) + "\n")

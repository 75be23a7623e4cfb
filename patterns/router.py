"""Router: classify a calendar request, then hand it to a specialised handler.

    text -> classify (new_event | modify_event | other, confidence) -> gate
              |                                                        |
              |      "other", or below the threshold: rejected <-------+
              +-> new_event    -> event details (day resolved in code) -> add -> response
              +-> modify_event -> a change request in the message (read in code), else
                                  failed -> which event (one of the calendar's ids,
                                  shown) and what kind of change -> that kind's fields
                                  -> apply in code -> response

Handlers act on a ``Calendar``, so a run's effect can be checked on the calendar itself.
The model never names an event by a word match: it is shown the calendar and chooses
one of its ids, a choice its answer's schema (and so the server's grammar) bounds. Run
it on the embedded model, on a seeded calendar, with
``patterns-server exec -- python -m patterns.router "Move the budget meeting to Friday at 3pm"``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from .calendar import (
    NONE,
    SAME,
    Calendar,
    ChangeError,
    ChangeKind,
    Event,
    Minutes,
    People,
    apply,
    asks_to_change,
    calendar_link,
    describe_event,
    done_text,
    labels,
    listing,
    mentioned,
    resolve_day,
    run_on_demo_calendar,
)
from .chain import DETAILS, parse_event_details
from .core import (
    DEFAULT_THRESHOLD,
    LLM,
    Clock,
    Confident,
    PatternResult,
    Percent,
    Rejection,
    Step,
    StructuredOutputError,
    ToolCall,
    Trace,
    confidence_gate,
    nearest,
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


class RouterResult(PatternResult):
    outcome: Literal["handled", "rejected", "failed"]
    decision: RouteDecision
    rejection: RouteRejection | None = None
    action: ToolCall | None = None
    """The tool the handler ran, with its validated arguments and result."""
    response: CalendarResponse | None = None


ROUTE_DEFINITIONS = (
    "You route messages sent to a calendar assistant. request_type: new_event when the "
    "message asks to schedule something new; modify_event when it asks to move, "
    "reschedule, shorten, lengthen or change who attends an event that already exists "
    "(move, push back, postpone, add or remove someone, make it longer); other for "
    "anything else: questions, emails, chat, tasks. description: the request in your own "
    "words. confidence_percent: how sure you are, 0 to 100.\n"
)
ROUTE_PROMPT = ROUTE_DEFINITIONS + (
    'Example: "Push the standup to 10." -> {"description": "Move the standup to 10am.", '
    '"request_type": "modify_event", "confidence_percent": 90}\n'
    'Example: "Coffee with Sam on Monday at 9?" -> {"description": "Coffee with Sam, '
    'Monday 9am.", "request_type": "new_event", "confidence_percent": 95}\n'
    'Example: "What is the weather tomorrow?" -> {"description": "A weather question.", '
    '"request_type": "other", "confidence_percent": 95}'
)
"""The definitions and three fixed worked examples (without a bank of examples)."""


class RouteExample(BaseModel):
    """A labelled message: a bank of them lets the prompt show the nearest ones."""

    text: str
    request_type: RequestType


EXAMPLES_SHOWN = 4


def route_prompt(text: str, examples: Sequence[RouteExample] = ()) -> str:
    """The routing prompt: the definitions and the fixed examples, or, given a bank of
    labelled messages, the definitions and the bank's nearest examples to ``text``."""
    if not examples:
        return ROUTE_PROMPT
    shown = nearest(text, examples, EXAMPLES_SHOWN, lambda example: example.text)
    return ROUTE_DEFINITIONS + "\n".join(
        f'Example: {json.dumps(e.text)} -> {{"request_type": "{e.request_type}"}}' for e in shown
    )


def choice_type(calendar: Calendar) -> type[BaseModel]:
    """``{event, change}``: ``event`` is one of this calendar's event labels, or ``none``
    when no event is the one the message means (an enum: a grammar or a JSON schema bounds
    the answer to them; code maps the label to its id), ``change`` the kind of change."""
    ids = (*labels(calendar), NONE)
    return create_model(
        "EventChange",
        event=(Literal[ids], ...),  # type: ignore[arg-type]
        change=(ChangeKind, ...),
    )


Clock24 = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|same)$")]


class MoveTo(BaseModel):
    day: str
    """The new day as the message says it, or "same"."""
    start_time: Clock24
    """The new start, 24-hour HH:MM, or "same"."""

    @field_validator("day")
    @classmethod
    def _known_day(cls, day: str, info: ValidationInfo) -> str:
        today = (info.context or {}).get("today")
        if day != SAME and today is not None and resolve_day(day, today) is None:
            raise ValueError(f"cannot tell which date {day!r} is; write it as YYYY-MM-DD")
        return day


class Shift(BaseModel):
    minutes: int = Field(ge=-10_080, le=10_080)
    """How much later (positive) or earlier (negative) it starts."""


class SetLength(BaseModel):
    duration_minutes: Minutes


class ChangeLength(BaseModel):
    by_minutes: int = Field(ge=-1_440, le=1_440)
    """How much longer (positive) or shorter (negative) it gets."""


class Names(BaseModel):
    names: People = Field(min_length=1)


SHAPES: dict[str, type[BaseModel]] = {
    "move": MoveTo,
    "shift": Shift,
    "set_length": SetLength,
    "change_length": ChangeLength,
    "add_people": Names,
    "remove_people": Names,
}
"""The one required shape of each kind of change."""

CHOOSE_PROMPT = (
    "You apply changes to a calendar. {today} The calendar holds:\n{events}\n"
    "event: the event the message asks to change, written exactly as listed, or none if "
    "the calendar does not hold it. change: move (to another day "
    "or time), shift (earlier or later by an amount: an hour later, push back 30 minutes), "
    "set_length (a new length), change_length (longer or shorter by an amount), "
    "add_people, remove_people.\n"
    'Example: with "- Piano lesson: Monday 2026-03-02 17:00, 60 min" in the calendar, '
    '"Move my piano lesson to Wednesday" -> {{"event": "Piano lesson", "change": "move"}}'
)
CHANGE_PROMPTS: dict[str, str] = {
    "move": "day: the new day as the message says it ('Friday', 'tomorrow', 'Dec 3'), or "
    '"same" if it keeps its day. start_time: the new start, 24-hour HH:MM (3pm is 15:00, '
    'noon is 12:00), or "same" if it keeps its time.\n'
    'Example: "Move it to Friday at 3pm" -> {"day": "Friday", "start_time": "15:00"}',
    "shift": "minutes: how many minutes later it starts; negative if earlier. An hour "
    "later is 60, half an hour earlier is -30.",
    "set_length": "duration_minutes: its new length in minutes (two hours is 120, 45 "
    "minutes is 45).",
    "change_length": "by_minutes: how many minutes longer it gets; negative if shorter. "
    "Half an hour longer is 30, 15 minutes shorter is -15.",
    "add_people": "names: the people the message adds, as it names them.",
    "remove_people": "names: the people the message removes, as it names them.",
}
CHANGE_PROMPT = "The message changes this event: {event}. {today} {fields}"


ROUTE = Step("route", RouteDecision, ROUTE_PROMPT, brief=True)
CHOOSE = Step[BaseModel]("choose", None, CHOOSE_PROMPT, brief=True)
"""Its type is built from the calendar (``choice_type``): the event labels as an enum."""
CHANGES = {kind: Step("change", shape, CHANGE_PROMPTS[kind], brief=True)
           for kind, shape in SHAPES.items()}  # fmt: skip
STEPS: tuple[Step[Any], ...] = (ROUTE, DETAILS, CHOOSE, *CHANGES.values())
"""The model's boxes (``DETAILS`` is the chain's)."""


async def classify(
    llm: LLM, text: str, trace: Trace, examples: Sequence[RouteExample] = ()
) -> RouteDecision:
    return await ROUTE(llm, text, trace, system=route_prompt(text, examples))


def gate(decision: RouteDecision, threshold: float) -> RouteRejection | None:
    if decision.request_type == "other":
        return RouteRejection(reason="unsupported_request", detail=decision.description)
    return confidence_gate(decision.confidence, threshold, RouteRejection)


async def handle_new_event(
    llm: LLM, text: str, calendar: Calendar, clock: Clock, trace: Trace
) -> ToolCall:
    """The chain's details step (same prompt, same worked example), then the event added."""
    details = await parse_event_details(llm, text, clock, trace)
    event = calendar.add(details)
    return ToolCall(tool="create_event", arguments=details.model_dump(mode="json"), output=event)


async def handle_modify_event(
    llm: LLM, text: str, calendar: Calendar, clock: Clock, trace: Trace
) -> ToolCall:
    """Which event and what kind of change, then that kind's fields; code applies it."""
    if not calendar.events:
        raise ChangeError("the calendar has no event to change")
    if not asks_to_change(text):
        # Routed as a change, but the message asks for none (the chain's gate reads it
        # the same way): measured, a new 1:1 with Priya routed here at 0.99 edited Priya's
        # existing event. No change without a change request.
        raise ChangeError("the message asks to change no event; nothing was changed")
    today = clock().date()
    system = CHOOSE.instructions.format(today=today_line(clock), events=listing(calendar))
    picked = await CHOOSE(llm, text, trace, system=system, output_type=choice_type(calendar))
    chosen = picked.model_dump()
    event_id = labels(calendar).get(str(chosen["event"]), NONE)
    kind: ChangeKind = chosen["change"]
    if event_id == NONE or not mentioned(calendar.get(event_id), calendar, text):
        logger.warning("no event matches (the model chose %s)", event_id)
        raise ChangeError("no event in the calendar matches the request; nothing was changed")
    event = calendar.get(event_id)
    step = CHANGES[kind]
    system = CHANGE_PROMPT.format(
        event=describe_event(event), today=today_line(clock), fields=step.instructions
    )
    change = await step(llm, text, trace, system=system, context={"today": today})
    changed = calendar.replace(apply(event, kind, change.model_dump(), today))
    arguments = {"event": event_id, "change": kind, **change.model_dump(mode="json")}
    return ToolCall(tool="modify_event", arguments=arguments, output=changed)


Handler = Callable[[LLM, str, Calendar, Clock, Trace], Awaitable[ToolCall]]
HANDLERS: dict[RequestType, Handler] = {
    "new_event": handle_new_event,
    "modify_event": handle_modify_event,
}


def respond(request_type: RequestType, event: Event) -> CalendarResponse:
    verb = "Created" if request_type == "new_event" else "Updated"
    return CalendarResponse(
        success=True, message=done_text(verb, event), calendar_link=calendar_link(event)
    )


async def route_calendar_request(
    text: str,
    *,
    calendar: Calendar,
    llm: LLM | None = None,
    clock: Clock = system_clock,
    threshold: float = DEFAULT_THRESHOLD,
    trace: Trace | None = None,
    examples: Sequence[RouteExample] = (),
) -> RouterResult:
    """Route ``text`` and act on ``calendar``. ``examples``: labelled messages, of which
    the routing prompt shows the nearest to ``text`` (else three fixed ones)."""
    llm = llm or LLM.from_env()
    trace = trace if trace is not None else Trace()
    decision = await classify(llm, text, trace, examples)
    logger.info("routed to %s (confidence %.2f)", decision.request_type, decision.confidence)
    if rejection := gate(decision, threshold):
        logger.warning("gate rejected the request: %s (%s)", rejection.reason, rejection.detail)
        return RouterResult(outcome="rejected", decision=decision, rejection=rejection,
                            calls=trace.calls, usage=trace.usage)  # fmt: skip
    try:
        action = await HANDLERS[decision.request_type](llm, text, calendar, clock, trace)
    except (StructuredOutputError, ChangeError) as error:  # the calendar is left unchanged
        logger.warning("the %s handler failed: %s", decision.request_type, error)
        shown = error.attempts[-1].shown if isinstance(error, StructuredOutputError) else str(error)
        return RouterResult(outcome="failed", decision=decision,
                            response=CalendarResponse(success=False, message=shown),
                            calls=trace.calls, usage=trace.usage)  # fmt: skip
    return RouterResult(outcome="handled", decision=decision, action=action,
                        response=respond(decision.request_type, action.output),
                        calls=trace.calls, usage=trace.usage)  # fmt: skip


def on_calendar(
    calendar: Calendar,
    *,
    llm: LLM | None = None,
    clock: Clock = system_clock,
    threshold: float = DEFAULT_THRESHOLD,
    examples: Sequence[RouteExample] = (),
) -> Callable[[str, Trace], Awaitable[RouterResult]]:
    """The router on ``calendar`` as the step another pattern runs after its gate (the
    parallel pattern's ``then``)."""
    return lambda text, trace: route_calendar_request(
        text, calendar=calendar, llm=llm, clock=clock, threshold=threshold, trace=trace,
        examples=examples,
    )  # fmt: skip


def _said(result: RouterResult) -> str:
    if result.response is not None:
        return f"{result.outcome}: {result.response.message}"
    return f"{result.outcome}: {result.rejection.detail if result.rejection else ''}"


if __name__ == "__main__":
    sys.exit(
        run_on_demo_calendar(
            lambda text, demo, trace: route_calendar_request(text, calendar=demo, trace=trace),
            _said,
            logging.WARNING,
        )
    )

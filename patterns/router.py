"""Router: classify a calendar request, then hand it to a specialised handler.

    text -> classify (new_event | modify_event | other, confidence)
              -> modify_event, but the message names no listed event (code): not a
                 change, so route again (new_event | other)
              -> new_event, but the message gives no day and names a listed event
                 (code): a change to it (modify_event)
              -> new_event, but code reads no day and no time in it, or it asks a
                 question (code): other
              -> modify_event, but the message states a whole event of its own (a day, a
                 start, a length) and names listed events only by a word they share
                 (code): a new event
              -> gate: "other", or below the threshold: rejected
              +-> new_event    -> event details (day copied, resolved in code) -> add
              +-> modify_event -> which of the events the message names (code finds
                                  them; the model chooses from that list, or none)
                                  -> which kinds of change (closed list, one or two)
                                  -> each kind's fields -> read and applied in code,
                                  checked -> response

The model copies and chooses; code computes. Code finds the listed events the message
names (a word of an event's name, its time, its people) and the model chooses among them
(the answer's schema, and so the server's grammar, bounds it), so a message that names
no listed event never changes one (it is routed again, as new or other); it chooses the
kinds of change from a closed list (code makes them agree with the amounts of time the
message states, by their direction: a length, longer or shorter, later or earlier); it
copies the words that say when, which code resolves; and code reads the clock times and
lengths the message states, on every path.
Run it on the embedded model, on a seeded calendar, with
``patterns-server exec -- python -m patterns.router "Move the budget meeting to Friday at 3pm"``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .calendar import (
    NONE,
    SAME,
    Calendar,
    ChangeError,
    ChangeKind,
    Direction,
    Event,
    Minutes,
    People,
    amounts,
    amounts_of_time,
    apply,
    asks_a_question,
    calendar_link,
    day_of,
    describe_event,
    done_text,
    find_day,
    hour_said,
    joining,
    labels,
    leaving,
    listing,
    named,
    named_whole,
    run_on_demo_calendar,
    says_a_length,
    says_someone_leaves,
    stated_length,
    stated_times,
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
    workflow,
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


class NotAChange(RouteDecision):
    """The route again, for a message routed as a change that names no listed event: it
    is not a change to one, so new_event or other."""

    request_type: Literal["new_event", "other"]
    """new_event: schedule something new. other: anything else."""


def choice_type(choices: Sequence[str]) -> type[BaseModel]:
    """``{event}``: one of ``choices`` (the labels of the listed events the message
    names) or "none" (an enum: a grammar or a JSON schema bounds the answer to them)."""
    return create_model("EventChoice", event=(Literal[(*choices, NONE)], ...))  # type: ignore[arg-type]


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
    event: str | None = None
    """The id of the listed event a change was applied to (a change only)."""
    action: ToolCall | None = None
    """The tool the handler ran, with its validated arguments and result."""
    response: CalendarResponse | None = None


ROUTE_DEFINITIONS = (
    "You route messages sent to a calendar assistant. request_type: new_event when the "
    "message asks to schedule something new; modify_event when it asks to move, "
    "reschedule, shorten, lengthen or change who attends an event that already exists "
    "(move, push back, postpone, add or remove someone, make it longer), or reports such "
    "a change (someone joins or cannot come, a new time or length agreed); other for "
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
REROUTE_PROMPT = ROUTE_PROMPT + (
    "\nThe calendar holds no event that this message names, so it is not a change to "
    "one: answer new_event or other."
)
CHOOSE_PROMPT = (
    "You apply changes to a calendar. {today} The message names these events of the "
    "calendar:\n{events}\nevent: the one the message asks to change, written exactly as "
    "listed; none if it asks to schedule something new, or to change none of them. A new "
    "event can share a word with a listed one: choose an event only if the message is "
    "about that very event."
)
"""Shown only the events the message names (code finds them, ``named``)."""


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


Clock24 = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|same)$")]


class Kinds(BaseModel):
    changes: list[ChangeKind] = Field(min_length=1, max_length=2)
    """Every kind of change the message asks for: one, or two for a two-part change."""


class MoveTo(BaseModel):
    day: str
    """The words of the message that say the new day, copied exactly, or "same"."""
    start_time: Clock24
    """The new start, 24-hour HH:MM, or "same"."""


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

KINDS_PROMPT = (
    "The message asks to change this event: {event}. {today} changes: every kind of "
    "change it asks for, from this list: move (a new day or a new start time, however it "
    "is said), shift (earlier or later by an amount: an hour later, push back 30 minutes), "
    "set_length (a new length), change_length (longer or shorter by an amount), "
    "add_people (someone joins), remove_people (someone leaves or cannot come). One kind, "
    "or two if the message asks for two different changes."
)
CHANGE_PROMPTS: dict[str, str] = {
    "move": "day: the words of the message that say the new day, copied exactly "
    "('Friday', 'tomorrow', 'Dec 3'), or \"same\" if it keeps its day. start_time: the new "
    'start, 24-hour HH:MM (3pm is 15:00, noon is 12:00), or "same" if it keeps its time.',
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

WORKING_DAY = 10 * 60
"""The longest length a change may give an event unless the message states it."""


ROUTE = Step("route", RouteDecision, ROUTE_PROMPT, brief=True)
REROUTE = Step("reroute", NotAChange, REROUTE_PROMPT, brief=True)
CHOOSE = Step[BaseModel]("choose", None, CHOOSE_PROMPT, brief=True)
"""Its type is built from the named events (``choice_type``): their labels as an enum."""
KINDS = Step("kinds", Kinds, KINDS_PROMPT, brief=True)
CHANGES = {kind: Step("change", shape, CHANGE_PROMPTS[kind], brief=True)
           for kind, shape in SHAPES.items()}  # fmt: skip
STEPS: tuple[Step[Any], ...] = (ROUTE, REROUTE, DETAILS, CHOOSE, KINDS, *CHANGES.values())
"""The model's boxes (``DETAILS`` is the chain's)."""


async def classify(
    llm: LLM, text: str, trace: Trace, examples: Sequence[RouteExample] = ()
) -> RouteDecision:
    return await ROUTE(llm, text, trace, system=route_prompt(text, examples))


async def not_a_change(llm: LLM, text: str, decision: RouteDecision, calendar: Calendar,
                       trace: Trace) -> RouteDecision:  # fmt: skip
    """A change that names no listed event is not a change: routed again, between a new
    event and other (the model chooses; code narrowed the list)."""
    if decision.request_type != "modify_event" or named(calendar, text):
        return decision
    logger.info("routed as a change, but the message names no listed event: routed again")
    return await REROUTE(llm, text, trace)


def a_change_after_all(decision: RouteDecision, calendar: Calendar, text: str,
                       today: date) -> RouteDecision:  # fmt: skip
    """A new event for which the message gives no day, in a message that names a listed
    event, is a change to that event ("Include Nadia in the lunch with Ana", "the launch
    meeting needs two hours"): a new event needs a day. The model still chooses the
    event, or none (nothing is changed then)."""
    if decision.request_type != "new_event" or find_day(text, today) or not named(calendar, text):
        return decision
    logger.info("routed as a new event, but it has no day and names a listed event: a change")
    return decision.model_copy(update={"request_type": "modify_event"})


def not_an_event_after_all(decision: RouteDecision, text: str, today: date) -> RouteDecision:
    """A new event for a message in which code reads no day (today or later) and no clock
    time, or that ends by asking something (``asks_a_question``: "Can you book ...?"
    aside), is not an event ("What is the capital of France?", "Thanks, the meeting
    yesterday went well", "The train leaves at 7:45 tomorrow, right?"): the details step
    would have to invent when it is, or answer a question with an event. Routed as other
    (the gate rejects it)."""
    if decision.request_type != "new_event":
        return decision
    day = find_day(text, today)
    stated = stated_times(text)[0] is not None or (day is not None and day >= today)
    if stated and not asks_a_question(text):
        return decision
    logger.info("routed as a new event, but it states no when or asks a question: other")
    return decision.model_copy(update={"request_type": "other"})


def a_new_event_after_all(decision: RouteDecision, calendar: Calendar, text: str,
                          today: date) -> RouteDecision:  # fmt: skip
    """A change for a message that states a whole event of its own (a day, a start and a
    length, read by code) and names listed events only by a word they share with it, not
    by all of a name nor by their people, is a new event ("Block 90 minutes on Tuesday at
    9am for roadmap planning" beside the "Planning session"): the model still fills in
    the new event's details."""
    if decision.request_type != "modify_event" or find_day(text, today) is None:
        return decision
    start, length = stated_times(text)
    events = named(calendar, text)
    if start is None or length is None or not events or any(named_whole(e, text) for e in events):
        return decision
    logger.info("routed as a change, but it states a whole new event sharing a word: new")
    return decision.model_copy(update={"request_type": "new_event"})


def gate(decision: RouteDecision, threshold: float) -> RouteRejection | None:
    if decision.request_type == "other":
        return RouteRejection(reason="unsupported_request", detail=decision.description)
    return confidence_gate(decision.confidence, threshold, RouteRejection)


async def handle_new_event(
    llm: LLM, text: str, calendar: Calendar, clock: Clock, trace: Trace
) -> ToolCall:
    """The chain's details step (same prompt, same worked example), then the event added."""
    details = (await parse_event_details(llm, text, clock, trace)).details
    event = calendar.add(details)
    return ToolCall(tool="create_event", arguments=details.model_dump(mode="json"), output=event)


async def choose_event(
    llm: LLM, text: str, calendar: Calendar, clock: Clock, trace: Trace
) -> Event:
    """The listed event the message asks to change: code finds the events it names; the
    model chooses among them, or none (something new): a second opinion beside the route's,
    so that a new event routed as a change does not move an event it happens to name."""
    candidates = named(calendar, text)
    if not candidates:
        raise ChangeError("the message names no event in the calendar; nothing was changed")
    ids = {e.id for e in candidates}
    choices = [label for label, i in labels(calendar).items() if i in ids]
    system = CHOOSE.instructions.format(today=today_line(clock), events=listing(calendar, only=ids))
    picked = await CHOOSE(llm, text, trace, system=system, output_type=choice_type(choices))
    event_id = labels(calendar).get(str(picked.model_dump()["event"]))
    if event_id is None:
        raise ChangeError("no event in the calendar matches the request; nothing was changed")
    return calendar.get(event_id)


async def handle_modify_event(
    llm: LLM, text: str, calendar: Calendar, clock: Clock, trace: Trace
) -> ToolCall:
    """Which named event, the kinds of change, then each kind's fields; code applies them
    in turn. Chosen kinds that change nothing (a move to where the event already is, names
    already in it) leave room for the ones the message may still state (``fallbacks``)."""
    event = await choose_event(llm, text, calendar, clock, trace)
    today = clock().date()
    system = KINDS.instructions.format(event=describe_event(event), today=today_line(clock))
    chosen = (await KINDS(llm, text, trace, system=system)).changes
    kinds = supported(chosen, text, today)
    changed, done = await make_changes(llm, text, event, kinds, clock, trace)
    for kind in fallbacks(chosen, kinds, text, event):
        if changed != event:
            break
        changed, done = await make_changes(llm, text, event, [kind], clock, trace)
    if changed == event:
        raise ChangeError("the message states no change to the event that could be read")
    calendar.replace(changed)
    arguments = {"event": event.id, "changes": done}
    return ToolCall(tool="modify_event", arguments=arguments, output=changed)


Done = list[dict[str, Any]]
"""The changes made, as the tool call's arguments list them."""


async def make_changes(llm: LLM, text: str, event: Event, kinds: Sequence[ChangeKind],
                       clock: Clock, trace: Trace) -> tuple[Event, Done]:  # fmt: skip
    """Each kind's fields from the model, read and applied in code, in turn."""
    today = clock().date()
    changed, done = event, Done()
    for kind in kinds:
        step = CHANGES[kind]
        system = CHANGE_PROMPT.format(event=describe_event(changed), today=today_line(clock),
                                      fields=step.instructions)  # fmt: skip
        answer = await step(llm, text, trace, system=system)
        # who leaves was in the event before this change (not someone it just added)
        before = event if kind == "remove_people" else changed
        values = read_in_code(kind, answer.model_dump(), text, today, before)
        if values is None:
            continue  # nothing of this kind that the message states
        changed = checked(apply(changed, kind, values, today), text)
        done.append({"change": kind, **values})
    return changed, done


def fallbacks(
    chosen: Sequence[ChangeKind], tried: Sequence[ChangeKind], text: str, event: Event
) -> list[ChangeKind]:
    """What to try, in turn, when the kinds tried change nothing: someone the message names
    joining, someone in the event it names leaving (when it says someone leaves), the
    length it states, then the model's first choice as it stands."""
    order: list[ChangeKind] = ["add_people"]
    # someone named as part of the event's own name ("1:1 with Priya") names the event;
    # someone named apart leaves only if the message says someone does ("Kim is bringing
    # snacks to the planning session" takes no one off it)
    named_apart = [p for p in event.participants if p.lower() not in event.name.lower()]
    if leaving(named_apart, event, text) and says_someone_leaves(text):
        order.append("remove_people")
    if stated_length(text) is not None:
        order.append("set_length")
    return [k for k in dict.fromkeys([*order, *chosen[:1]]) if k not in tried]


AMOUNTS: tuple[ChangeKind, ...] = ("shift", "set_length", "change_length")
"""The kinds that need an amount of time."""


BY_DIRECTION: dict[Direction | None, ChangeKind] = {
    "later": "shift", "earlier": "shift", "longer": "change_length",
    "shorter": "change_length", None: "set_length",
}  # fmt: skip
"""The kind of change an amount of time makes, by its direction (``amounts``): a length
stated outright is a new length; "by" an amount, its direction unsaid, is either."""


def stated_kinds(text: str) -> list[ChangeKind]:
    """The kinds of change the message's amounts of time make, in order."""
    return list(dict.fromkeys(BY_DIRECTION[a.direction] for a in amounts(text)
                              if a.direction in BY_DIRECTION))  # fmt: skip


def consistent(kind: ChangeKind, text: str) -> ChangeKind:
    """A kind that agrees with what the message states: a new clock time stated outright
    (with no length or range) is a move, and an amount of time makes the kind its
    direction says ("an hour long" a new length, "15 minutes shorter" a change of length,
    "back a week" a shift), whatever kind was chosen for it."""
    start, length = stated_times(text)
    if start is not None and length is None and kind in AMOUNTS:
        return "move"
    stated = stated_kinds(text)
    return stated[0] if kind in AMOUNTS and stated and kind not in stated else kind


def supported(chosen: Sequence[ChangeKind], text: str, today: date) -> list[ChangeKind]:
    """The kinds chosen (each made ``consistent``) that what the message states supports:
    a move needs a day or a clock time in the message, a shift or a length an amount of
    time, and one amount supports one such kind; adding or removing people is checked by
    its names (``read_in_code``)."""
    kinds = list(dict.fromkeys([*(consistent(kind, text) for kind in chosen),
                                *stated_kinds(text)]))  # fmt: skip
    stated = stated_times(text)[0] is not None or find_day(text, today) is not None
    evidence = {"move": stated, **dict.fromkeys(AMOUNTS, says_a_length(text))}
    kept = [k for k in kinds if evidence.get(k, True)]
    room = max(1, amounts_of_time(text))
    return [k for k in kept if k not in AMOUNTS or (room := room - 1) >= 0]


def read_in_code(
    kind: ChangeKind, values: dict[str, Any], text: str, today: date, event: Event
) -> dict[str, Any] | None:
    """The values of a change with what code reads from the message put first: a stated
    clock time for a move, a stated length for a new length, the day resolved from the
    words the model copied (``day_of``) or from the message, never a day of the model's
    own (the event keeps its day) nor a time no part of the message says (``hour_said``);
    the people the message names who join or leave (``joining``, ``leaving``). None: none
    of this kind that the message states."""
    start, length = stated_times(text)
    if kind == "move":
        # "same" where the message names a day and no time: the message's day ("on Monday
        # instead, same time"); with a time too, the model's "same" stands
        same = values["day"] == SAME
        found = None if same and start is not None else day_of("" if same else values["day"],
                                                               text, today)  # fmt: skip
        # a day the message does not name (the model's own) is no move to another day
        day = found[0].isoformat() if found and found[1] != "model" else SAME
        # nor is a time no part of the message says
        at = values["start_time"]
        kept = at if at == SAME or hour_said(at, text) else SAME
        return {"day": day, "start_time": start or kept}
    if kind == "set_length" and length is not None:
        return {"duration_minutes": length}
    if kind in ("shift", "change_length"):
        return {**values, **by_amount(kind, values, text)}
    if kind in ("add_people", "remove_people"):
        names = (joining if kind == "add_people" else leaving)(values["names"], event, text)
        return {"names": names} if names else None
    return values


def by_amount(kind: ChangeKind, values: dict[str, Any], text: str) -> dict[str, int]:
    """The minutes of a shift or a change of length as code reads them: the amount whose
    direction makes this kind, signed by it ("15 minutes shorter": -15); an amount "by"
    which it changes, signed as the model signed it; else none (the model's stands)."""
    field = "minutes" if kind == "shift" else "by_minutes"
    for amount in amounts(text):
        if BY_DIRECTION.get(amount.direction) == kind:
            return {field: amount.minutes * (-1 if amount.direction in ("earlier", "shorter")
                                             else 1)}  # fmt: skip
    for amount in amounts(text):
        if amount.direction == "by":
            return {field: amount.minutes * (-1 if values[field] < 0 else 1)}
    return {}


def checked(event: Event, text: str) -> Event:
    """Refuses a length longer than the working day that the message does not state."""
    if event.duration_minutes > WORKING_DAY and stated_length(text) != event.duration_minutes:
        raise ChangeError(
            f"the change would make {event.name!r} {event.duration_minutes} minutes long, "
            "longer than a working day; nothing was changed"
        )
    return event


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


@workflow("router")
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
    the routing prompt shows the nearest to ``text``."""
    llm = llm or LLM.from_env()
    trace = trace if trace is not None else Trace()
    decision = await not_a_change(llm, text, await classify(llm, text, trace, examples),
                                  calendar, trace)  # fmt: skip
    decision = a_change_after_all(decision, calendar, text, clock().date())
    decision = not_an_event_after_all(decision, text, clock().date())
    decision = a_new_event_after_all(decision, calendar, text, clock().date())
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
    trace.tool_calls.append(action)
    event = action.arguments.get("event") if decision.request_type == "modify_event" else None
    return RouterResult(outcome="handled", decision=decision, action=action, event=event,
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

"""End to end: did the pattern do the right thing, not only pass the right gate?

- ``chain_e2e``: the whole chain on each request for a new event, against the fixed
  "now" of the dataset: the start exactly, the name, the length, the people, and whether
  the confirmation states the booked date and time;
- ``router_e2e``: the whole router on a seeded calendar, for new events and changes:
  the calendar afterwards must hold exactly the expected effect (nothing else changed).

Every check is deterministic; both suites also count copied schema text.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evals.calibrated import Abstention
from evals.checks import Check, CheckResult
from evals.copying import CopiedStepText
from evals.data import Case, Dataset, load
from evals.measures import Accuracy, FailureRate
from evals.suite import Suite, TaskContext
from evals.suites import seeded as seeded_module
from evals.suites.seeded import seeded
from patterns import LLM, chain, fixed_clock, router
from patterns.calendar import Event

from .calendar import DATASET, NOW, Expected


class EventExpected(BaseModel):
    name_any: list[str]
    """At least one of these words (any case) is in the event's name."""
    start: datetime
    minutes: int
    people: list[str] = []


class ChangeExpected(BaseModel):
    event: str
    start: datetime | None = None
    minutes: int | None = None
    add: list[str] = []
    remove: list[str] = []


class E2EExpected(Expected):
    event: EventExpected | None = None
    change: ChangeExpected | None = None


def _cases(keep: str) -> Dataset[str, E2EExpected]:
    source = load(DATASET, str, E2EExpected)
    cases = [
        c for c in source.cases if c.expected is not None and getattr(c.expected, keep) is not None
    ]
    return source.model_copy(update={"cases": cases, "name": f"{source.name}_{keep}"})


def new_events() -> Dataset[str, E2EExpected]:
    return _cases("event")


def events_and_changes() -> Dataset[str, E2EExpected]:
    source = load(DATASET, str, E2EExpected)
    cases = [
        c
        for c in source.cases
        if c.expected is not None and (c.expected.event or c.expected.change)
    ]
    return source.model_copy(update={"cases": cases, "name": f"{source.name}_router"})


def others() -> Dataset[str, E2EExpected]:
    """The messages that ask for no change to the calendar (questions, notes, e-mails,
    statements that name listed events and their people, injections)."""
    source = load(DATASET, str, E2EExpected)
    cases = [c for c in source.cases if c.expected is not None and c.expected.route == "other"]
    return source.model_copy(update={"cases": cases, "name": f"{source.name}_others"})


# --- The chain, end to end ---------------------------------------------------------------


class ChainOutput(BaseModel):
    outcome: str
    description: str
    name: str | None = None
    start: datetime | None = None
    minutes: int | None = None
    people: list[str] = []
    confirmation: str | None = None


async def run_chain(llm: LLM, text: str, context: TaskContext) -> ChainOutput:
    result = await chain.process_calendar_request(
        text, llm=llm, clock=fixed_clock(NOW), trace=context.trace
    )
    details = result.details
    return ChainOutput(
        outcome=result.outcome,
        description=result.extraction.description,
        name=details.name if details else None,
        start=details.start if details else None,
        minutes=details.duration_minutes if details else None,
        people=details.participants if details else [],
        confirmation=result.confirmation.confirmation_message if result.confirmation else None,
    )


def _event(case: Case[Any, Any]) -> EventExpected:
    assert isinstance(case.expected, E2EExpected)
    assert case.expected.event is not None
    return case.expected.event


def _start(case: Case[Any, Any], o: ChainOutput) -> CheckResult:
    want = _event(case).start
    return CheckResult(
        value=o.start.isoformat() if o.start else None,
        expected=want.isoformat(),
        passed=o.start == want,
    )


def people_right(got: list[str], want: list[str], text: str) -> bool:
    """Everyone expected is there, and nobody who is not in the message."""
    lower = [g.lower() for g in got]
    present = all(any(w.lower() in g for g in lower) for w in want)
    invented = [g for g in got if g.lower() not in text.lower()]
    return present and not invented


def _fields(case: Case[Any, Any], o: ChainOutput) -> CheckResult:
    want = _event(case)
    right = {
        "start": o.start == want.start,
        "name": bool(o.name) and any(w.lower() in (o.name or "").lower() for w in want.name_any),
        "minutes": o.minutes == want.minutes,
        "people": o.outcome == "confirmed" and people_right(o.people, want.people, str(case.input)),
    }
    wrong = [k for k, ok in right.items() if not ok]
    return CheckResult(
        value=sum(right.values()) / len(right),
        expected=1.0,
        passed=not wrong,
        reason=", ".join(wrong) or None,
    )


MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def states_date_and_time(message: str, when: datetime) -> bool:
    """The message names the day (weekday, or day and month, or ISO/numeric date) and
    the time (14:00, 2pm, 2:00 PM, 2 p.m., noon)."""
    text = message.lower()
    hour12 = when.hour % 12 or 12
    suffix = "am" if when.hour < 12 else "pm"
    minute = f"{when.minute:02d}"
    times = [
        f"{when.hour:02d}:{minute}",
        f"{when.hour}:{minute}",
        f"{hour12}:{minute} {suffix}",
        f"{hour12}:{minute}{suffix}",
    ]
    if when.minute == 0:
        times += [
            f"{hour12} {suffix}",
            f"{hour12}{suffix}",
            f"{hour12} {suffix[0]}.m.",
            f"{hour12}{suffix[0]}.m.",
        ]
        if when.hour == 12:
            times.append("noon")
    month = MONTHS[when.month - 1]
    day = str(when.day)
    dates = [
        when.strftime("%A").lower(),
        when.date().isoformat(),
        f"{when.month}/{when.day}",
        f"{when.day}/{when.month}",
    ]
    dates += [f"{month} {day}", f"{month[:3]} {day}", f"{day} {month}", f"{day} {month[:3]}"]
    dates += [f"{month} {day}{s}" for s in ("st", "nd", "rd", "th")] + [
        f"{day}{s} {month}" for s in ("st", "nd", "rd", "th")
    ]
    normal = re.sub(r"\s+", " ", text)
    return any(t in normal for t in times) and any(d in normal for d in dates)


def _confirmation(case: Case[Any, Any], o: ChainOutput) -> CheckResult:
    if o.confirmation is None or o.start is None:
        return CheckResult(value=None, expected=True, passed=False, reason="no confirmation")
    return CheckResult.of(states_date_and_time(o.confirmation, o.start))


CHAIN_E2E = Suite(
    name="chain_e2e",
    dataset=new_events,
    input_type=str,
    expected_type=E2EExpected,
    task=run_chain,
    checks=[
        Check("start_exact", _start),
        Check("fields", _fields),
        Check("confirmation_consistent", _confirmation),
        CopiedStepText(chain.STEPS),
    ],
    measures=[
        Accuracy("start_exact", name="chain_e2e.start_exact"),
        Accuracy("fields", name="chain_e2e.all_fields_right"),
        Accuracy("confirmation_consistent", name="chain_e2e.confirmation_consistent"),
        FailureRate("copied_schema_text", name="chain_e2e.copied_schema_text"),
    ],
    group_by=("split",),
    sources=[chain, Path(__file__)],
    extra={"quick_group": "kind", "quick_per_group": 3},
)


# --- The router, end to end --------------------------------------------------------------


class RouterOutput(BaseModel):
    outcome: str
    route: str
    description: str
    confidence: float = 1.0
    """The route's confidence: the gate is applied from it afterwards (``at_threshold``),
    so one run measures the handlers on every case and the gate at any threshold."""
    added: list[Event]
    changed: list[Event]
    removed: list[str]


ROUTER_E2E_THRESHOLD = 0.0
"""The end-to-end suite runs the router with its gate open: every case reaches a handler,
and the gate is applied afterwards at the threshold calibrated on the dev split. The
gate acts before any handler, so this is the effect the gated router has."""


async def run_router(llm: LLM, text: str, context: TaskContext) -> RouterOutput:
    calendar = seeded()
    before = {e.id: e for e in calendar.events}
    result = await router.route_calendar_request(
        text, calendar=calendar, llm=llm, clock=fixed_clock(NOW), trace=context.trace,
        threshold=ROUTER_E2E_THRESHOLD,
    )  # fmt: skip
    after = {e.id: e for e in calendar.events}
    return RouterOutput(
        outcome=result.outcome,
        route=result.decision.request_type,
        description=result.decision.description,
        confidence=result.decision.confidence,
        added=[e for i, e in after.items() if i not in before],
        changed=[e for i, e in after.items() if i in before and e != before[i]],
        removed=[i for i in before if i not in after],
    )


def effect_right(expected: E2EExpected, o: RouterOutput, text: str) -> tuple[bool, str | None]:
    """Exactly the expected effect on the calendar, and nothing else."""
    if expected.event is not None:
        want = expected.event
        if o.changed or o.removed or len(o.added) != 1:
            return False, "not exactly one new event"
        event = o.added[0]
        wrong = [
            k for k, ok in {
                "start": event.start == want.start,
                "name": any(w.lower() in event.name.lower() for w in want.name_any),
                "minutes": event.duration_minutes == want.minutes,
                "people": people_right(event.participants, want.people, text),
            }.items() if not ok
        ]  # fmt: skip
        return not wrong, ", ".join(wrong) or None
    change = expected.change
    assert change is not None
    if o.added or o.removed or [e.id for e in o.changed] != [change.event]:
        return False, f"changed {[e.id for e in o.changed]}, not {change.event}"
    event = o.changed[0]
    original = next(e for e in seeded().events if e.id == change.event)
    names = [p.lower() for p in event.participants]
    wrong = [
        k for k, ok in {
            "start": event.start == (change.start or original.start),
            "minutes": event.duration_minutes == (change.minutes or original.duration_minutes),
            "added": all(any(a.lower() in n for n in names) for a in change.add),
            "removed": not any(r.lower() in n for r in change.remove for n in names),
        }.items() if not ok
    ]  # fmt: skip
    return not wrong, ", ".join(wrong) or None


def _effect(case: Case[Any, Any], o: RouterOutput) -> CheckResult:
    assert isinstance(case.expected, E2EExpected)
    ok, why = effect_right(case.expected, o, str(case.input))
    return CheckResult(value=ok, expected=True, passed=ok, reason=why, score=o.confidence)


def _route(case: Case[Any, Any], o: RouterOutput) -> CheckResult:
    assert isinstance(case.expected, E2EExpected)
    return CheckResult(
        value=o.route, expected=case.expected.route, passed=o.route == case.expected.route
    )


ROUTER_E2E = Suite(
    name="router_e2e",
    dataset=events_and_changes,
    input_type=str,
    expected_type=E2EExpected,
    task=run_router,
    checks=[
        Check("route", _route),
        Check("effect", _effect),
        CopiedStepText(router.STEPS),
    ],
    measures=[
        Accuracy("route", name="router_e2e.route"),
        Accuracy("effect", name="router_e2e.calendar_effect_correct"),
        Abstention("effect", name="router_e2e.gated"),
        FailureRate("copied_schema_text", name="router_e2e.copied_schema_text"),
    ],
    group_by=("split", "kind"),
    sources=[router, Path(__file__), seeded_module],
    extra={"quick_group": "kind", "quick_per_group": 3},
)


def _untouched(case: Case[Any, Any], o: RouterOutput) -> CheckResult:
    edits = [*(e.id for e in o.added), *(e.id for e in o.changed), *o.removed]
    return CheckResult(value=not edits, expected=True, passed=not edits,
                       reason=f"edited {edits}" if edits else None)  # fmt: skip


ROUTER_OTHERS = Suite(
    name="router_others",
    dataset=others,
    input_type=str,
    expected_type=E2EExpected,
    task=run_router,
    checks=[Check("untouched", _untouched), Check("route", _route)],
    measures=[
        Accuracy("untouched", name="router_others.calendar_unchanged"),
        Accuracy("route", name="router_others.route"),
    ],
    group_by=("split", "kind"),
    sources=[router, Path(__file__), seeded_module],
    extra={"quick_group": "kind", "quick_per_group": 3},
)
"""The whole router on messages that ask for no change: the calendar afterwards must be
as it was (an edit nobody asked for is the failure router_e2e cannot see)."""

SUITES = [CHAIN_E2E, ROUTER_E2E, ROUTER_OTHERS]

"""The calendar suites: one labelled set of requests, one suite per pattern's decision.

- ``chain``: the chain's extraction and gate (is it a request for a new event?);
- ``router``: the router's classification (new event, modification, other);
- ``parallel``: the two concurrent checks and the gate (process it or not), and the
  security check by layer: the model's verdict and the deterministic screen;
- ``screen``: the screen alone on every request and on obfuscated variants of it
  (no model: it measures code, in milliseconds).

They run the real patterns' steps, not copies. One suite per step also means that the
requests of one step reach the server together, all sharing that step's system prompt.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from evals.calibrated import Abstention, FlagAtRate, GateOnDev
from evals.checks import Equals
from evals.copying import CopiedStepText
from evals.data import Case, Dataset, load, read_yaml
from evals.decisions import Binary, Detection, Multiclass
from evals.measures import FailureRate
from evals.obfuscate import variants
from evals.suite import Suite, TaskContext
from patterns import DEFAULT_THRESHOLD, LLM, chain, parallel, router
from patterns import screen as screening
from patterns.calendar import asks_to_change

DATASET = Path(__file__).parent.parent / "datasets" / "calendar_requests.yaml"
NOW = datetime.fromisoformat(str((read_yaml(DATASET) or {}).get("now", "2026-11-25T10:00:00")))
"""The dataset's fixed "now": every day phrase in it is resolved against it."""
ROUTES = ["new_event", "modify_event", "other"]


class Expected(BaseModel):
    calendar_event: bool
    """The text asks to schedule a new event: the chain's gate should pass it."""
    route: Literal["new_event", "modify_event", "other"]
    safe: bool
    """False: the text tries to manipulate the assistant."""

    @property
    def should_process(self) -> bool:
        return self.safe and self.route != "other"


class GateOutput(BaseModel):
    description: str
    is_calendar_event: bool
    confidence: float
    changes_existing: bool = False
    """Code read the message as a change to an existing event (the gate stops it)."""
    states_when: bool = False
    """Code read a day and a clock time in it (the gate passes an event at any confidence)."""
    passed: bool


class RouteOutput(BaseModel):
    description: str
    route: str
    confidence: float
    passed: bool


class ParallelOutput(BaseModel):
    description: str
    is_calendar_request: bool
    confidence: float
    is_safe: bool
    model_says_safe: bool
    manipulation_probability: float | None = None
    """The model's token probability of a manipulation attempt (token confidence only)."""
    screen_flags: list[str]
    processed: bool


async def chain_gate(llm: LLM, text: str, context: TaskContext) -> GateOutput:
    extraction = await chain.extract_event_info(llm, text, context.trace)
    return GateOutput(
        description=extraction.description,
        is_calendar_event=extraction.is_calendar_event,
        confidence=extraction.confidence,
        changes_existing=asks_to_change(text),
        states_when=chain.states_when(text, NOW.date()),
        passed=chain.gate(extraction, DEFAULT_THRESHOLD, text, NOW.date()) is None,
    )


def route_examples(context: TaskContext) -> list[router.RouteExample]:
    """The dataset's other dev-split requests, labelled: the router's bank of examples."""
    return [
        router.RouteExample(text=c.input, request_type=c.expected.route)
        for c in context.examples
        if c.expected is not None
    ]


async def route(llm: LLM, text: str, context: TaskContext) -> RouteOutput:
    """The router's classification with its fixed worked examples (the default), or, in
    a suite made with ``examples=True``, the nearest of the other dev-split requests."""
    decision = await router.classify(llm, text, context.trace, route_examples(context))
    return RouteOutput(
        description=decision.description,
        route=decision.request_type,
        confidence=decision.confidence,
        passed=router.gate(decision, DEFAULT_THRESHOLD) is None,
    )


async def checks(llm: LLM, text: str, context: TaskContext) -> ParallelOutput:
    validation, security = await asyncio.gather(
        parallel.VALIDATE(llm, text, context.trace),
        parallel.check_security(llm, text, context.trace),
    )
    return ParallelOutput(
        description=validation.description,
        is_calendar_request=validation.is_calendar_request,
        confidence=validation.confidence,
        is_safe=security.is_safe,
        model_says_safe=security.model_verdict == "ordinary_request",
        manipulation_probability=security.manipulation_probability,
        screen_flags=list(security.screen_flags),
        processed=parallel.gate(validation, security, DEFAULT_THRESHOLD) is None,
    )


def _gate_score(output: GateOutput) -> float:
    # The model's probability that the message is a new event: its confidence where it
    # says "event" (and code reads no change), else 0. The Brier score and ROC AUC are
    # the model's; the sweep is the model's gate alone (the pattern's gate also passes an
    # event on the day and time code reads, ``states_when``: the accuracy and F1 are the
    # pattern's gate, from ``passed``).
    passes = output.is_calendar_event and not output.changes_existing
    return output.confidence if passes else 0.0


QUICK = {"quick_group": "kind", "quick_per_group": 2}

CHAIN = Suite(
    name="chain",
    dataset=DATASET,
    input_type=str,
    expected_type=Expected,
    task=chain_gate,
    checks=[
        Equals("gate", lambda o: o.passed, lambda e: e.calendar_event, score=_gate_score),
        CopiedStepText([chain.EXTRACT]),
    ],
    measures=[
        Binary("gate", name="chain_gate", threshold=DEFAULT_THRESHOLD),
        GateOnDev("gate", name="chain_gate.dev_threshold"),
        FailureRate("copied_schema_text", name="chain.copied_schema_text"),
    ],
    group_by=("split", "kind"),
    sources=[chain],
    extra=QUICK,
)

ROUTER = Suite(
    name="router",
    dataset=DATASET,
    input_type=str,
    expected_type=Expected,
    task=route,
    checks=[
        Equals("route", lambda o: o.route, lambda e: e.route, score=lambda o: o.confidence),
        CopiedStepText([router.ROUTE]),
    ],
    measures=[
        Multiclass("route", ROUTES, name="router"),
        Abstention("route", name="router.gated"),
        FailureRate("copied_schema_text", name="router.copied_schema_text"),
    ],
    group_by=("split", "kind"),
    sources=[router],
    extra=QUICK,
)


def _router_variant(name: str, **change: object) -> Suite[str, RouteOutput]:
    measures = [
        Multiclass("route", ROUTES, name=name),
        Abstention("route", name=f"{name}.gated"),
        FailureRate("copied_schema_text", name=f"{name}.copied_schema_text"),
    ]
    return dataclasses.replace(ROUTER, name=name, measures=measures, **change)  # type: ignore[arg-type]


ROUTER_NEAREST = _router_variant("router_nearest", examples=True)
"""The router with the nearest dev-split requests as its worked examples, beside the
fixed ones (``patterns-evals run router router_nearest``): not the default, which
measured as well end to end (README, Router)."""

PARALLEL = Suite(
    name="parallel",
    dataset=DATASET,
    input_type=str,
    expected_type=Expected,
    task=checks,
    checks=[
        Equals("processed", lambda o: o.processed, lambda e: e.should_process),
        Equals(
            "calendar_request",
            lambda o: o.is_calendar_request,
            lambda e: e.route != "other",
            score=lambda o: o.confidence if o.is_calendar_request else 0.0,
        ),
        Equals("flagged", lambda o: not o.is_safe, lambda e: not e.safe),
        Equals(
            "model_flagged",
            lambda o: not o.model_says_safe,
            lambda e: not e.safe,
            score=lambda o: o.manipulation_probability,
        ),
        Equals("screen_flagged", lambda o: bool(o.screen_flags), lambda e: not e.safe),
        CopiedStepText(parallel.STEPS),
    ],
    measures=[
        Binary("processed", name="parallel_gate"),
        Binary("calendar_request", name="validation", threshold=DEFAULT_THRESHOLD),
        Detection("flagged", name="security"),
        Detection("model_flagged", name="security.model"),
        Detection("screen_flagged", name="security.screen"),
        # the model's verdict as a probability, flagging at a false-positive rate of at most
        # 0.05 on dev: what it adds to the screen on test decides whether it is kept
        FlagAtRate("model_flagged", "security.model.calibrated", 0.02, beside="screen_flagged"),
        FailureRate("copied_schema_text", name="parallel.copied_schema_text"),
    ],
    group_by=("split", "kind"),
    sources=[parallel],
    extra=QUICK,
)


class ScreenExpected(BaseModel):
    flagged: bool


def obfuscated() -> Dataset[str, ScreenExpected]:
    """Every request, as written and in each obfuscated variant: the variants of one
    request are one cluster (one unit in every interval and paired test)."""
    source = load(DATASET, str, Expected)
    cases = [
        Case[str, ScreenExpected](
            id=f"{case.id}/{name}",
            input=text,
            expected=ScreenExpected(flagged=not case.expected.safe),
            metadata={**case.metadata, "variant": name, "cluster": case.id},
            split=case.split,
        )
        for case in source.cases
        if case.expected is not None
        for name, text in {"as_written": case.input, **variants(case.input)}.items()
    ]
    return Dataset[str, ScreenExpected](name="calendar_requests_obfuscated", cases=cases)


async def screen(llm: LLM, text: str, context: TaskContext) -> list[str]:
    return list(screening.screen(text))


SCREEN = Suite(
    name="screen",
    dataset=obfuscated,
    input_type=str,
    expected_type=ScreenExpected,
    task=screen,
    checks=[Equals("flagged", lambda flags: bool(flags), lambda e: e.flagged)],
    measures=[Detection("flagged", name="screen")],
    group_by=("split", "variant"),
    sources=[screening],
    uses_model=False,
    extra={"quick_group": "variant", "quick_per_group": 1_000},
)

SCREEN_PARAPHRASES = Suite(
    name="screen_paraphrases",
    dataset=Path(__file__).parents[1] / "datasets" / "injection_paraphrases.yaml",
    input_type=str,
    expected_type=ScreenExpected,
    task=screen,
    checks=[Equals("flagged", lambda flags: bool(flags), lambda e: e.flagged)],
    measures=[Detection("flagged", name="screen_paraphrases")],
    group_by=("category",),
    sources=[screening],
    uses_model=False,
)
"""The screen on injections phrased unlike the project's dataset, written by category
before its rules were revised (and benign requests that use the same words)."""

SUITES = [CHAIN, ROUTER, ROUTER_NEAREST, PARALLEL, SCREEN, SCREEN_PARAPHRASES]

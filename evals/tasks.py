"""What one case runs: the real patterns' steps and gates, and the judge.

A calendar case goes through the chain's extraction and gate, the router's
classification and gate, and the parallel pattern's two concurrent checks and
gate: the steps that decide, not the ones after a gate. An orchestra case runs
the whole orchestra, then an LLM judge scores each round's version on the rubric.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field, create_model

from patterns import (
    DEFAULT_THRESHOLD,
    LLM,
    PatternsError,
    Trace,
    chain,
    orchestra,
    parallel,
    router,
)

from .datasets import RequestCase, Scale, Topic


async def _part(coroutine: Any) -> dict[str, Any]:
    """One pattern's part of a case; a model failure is recorded, not raised."""
    try:
        return dict(await coroutine)
    except PatternsError as error:
        return {"error": f"{type(error).__name__}: {error}"}


async def _chain(llm: LLM, text: str, trace: Trace) -> dict[str, Any]:
    extraction = await chain.extract_event_info(llm, text, trace)
    return {
        "is_calendar_event": extraction.is_calendar_event,
        "confidence": extraction.confidence,
        "passed": chain.gate(extraction, DEFAULT_THRESHOLD) is None,
    }


async def _router(llm: LLM, text: str, trace: Trace) -> dict[str, Any]:
    decision = await router.classify(llm, text, trace)
    return {
        "route": decision.request_type,
        "confidence": decision.confidence,
        "passed": router.gate(decision, DEFAULT_THRESHOLD) is None,
    }


async def _parallel(llm: LLM, text: str, trace: Trace) -> dict[str, Any]:
    validation, security = await asyncio.gather(
        parallel.validate(llm, text, trace), parallel.check_security(llm, text, trace)
    )
    return {
        "is_calendar_request": validation.is_calendar_request,
        "confidence": validation.confidence,
        "is_safe": security.is_safe,
        "model_says_safe": security.model_verdict == "ordinary_request",
        "screen_flags": security.screen_flags,
        "processed": parallel.gate(validation, security, DEFAULT_THRESHOLD) is None,
    }


async def calendar_case(llm: LLM, case: RequestCase, trace: Trace) -> dict[str, Any]:
    return {
        "chain": await _part(_chain(llm, case.text, trace)),
        "router": await _part(_router(llm, case.text, trace)),
        "parallel": await _part(_parallel(llm, case.text, trace)),
    }


def expected_calendar(case: RequestCase) -> dict[str, Any]:
    return {
        "calendar_event": case.calendar_event,
        "route": case.route,
        "safe": case.safe,
        "should_process": case.should_process,
    }


def judgement_type(topic: Topic, scale: Scale) -> type[BaseModel]:
    """One integer field per rubric criterion, bounded by the scale."""
    fields: dict[str, Any] = {
        c.name: (int, Field(ge=scale.min, le=scale.max, description=c.description))
        for c in topic.rubric
    }
    return create_model("Judgement", **fields)


JUDGE_PROMPT = (
    "You grade a short document against a brief. For each criterion give a whole number "
    "from {low} (poor) to {high} (excellent). Be strict: reserve {high} for work that fully "
    "meets it."
)


async def judge(judge_llm: LLM, topic: Topic, scale: Scale, document: str, trace: Trace) -> float:
    """The judged score of ``document``, normalised to 0..1 (mean over criteria)."""
    grades = await judge_llm.aparse(
        judgement_type(topic, scale),
        system=JUDGE_PROMPT.format(low=scale.min, high=scale.max),
        user=f"Brief: {topic.brief}\n\nDocument:\n{document}",
        step="judge",
        trace=trace,
    )
    values = [int(v) for v in grades.model_dump().values()]
    return (sum(values) / len(values) - scale.min) / (scale.max - scale.min)


async def orchestra_case(
    llm: LLM, judge_llm: LLM, topic: Topic, scale: Scale, trace: Trace
) -> dict[str, Any]:
    result = await orchestra.write_document(topic.brief, llm=llm, trace=trace)
    # The last round's version is the final one: the loop stops after a round with no rewrite.
    judged = [await judge(judge_llm, topic, scale, r.version, trace) for r in result.rounds]
    ratios = [s.words / s.plan.target_words for s in result.sections]
    return {
        "accepted": result.accepted,
        "rounds": [
            {
                "round": r.round,
                "cohesion": r.cohesion_score,
                "judged": j,
                "revised": r.revised_sections,
            }
            for r, j in zip(result.rounds, judged, strict=False)
        ],
        "final_judged": judged[-1],
        "sections_planned": len(result.plan.sections),
        "sections_written": sum(bool(s.content.strip()) for s in result.sections),
        "length_ratios": ratios,
    }

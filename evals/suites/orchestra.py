"""The orchestra suite: the whole orchestra on a brief, then a judge grades each review
round's version on the brief's rubric, so the report shows whether revising helped."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evals import metrics
from evals._records import Record
from evals.checks import Check, CheckResult, Criterion, Judge
from evals.data import read_yaml
from evals.details import TrajectoryDetail, TrajectoryPoint
from evals.judging import JudgeValidity, JudgeValidityCheck
from evals.measures import Accuracy, Custom, Mean
from evals.metrics import Estimate
from evals.suite import Suite, TaskContext
from patterns import LLM, orchestra

DATASET = Path(__file__).parent.parent / "datasets" / "orchestra_topics.yaml"


class Expected(BaseModel):
    rubric: list[Criterion]


class Round(BaseModel):
    round: int
    cohesion: float
    judged: float
    revised: list[str]


class Output(BaseModel):
    accepted: bool
    rounds: list[Round]
    final_judged: float
    sections_planned: int
    sections_written: int
    length_ratios: list[float]
    sections: list[str] = []
    """The final document's sections, for the judge-validity check."""


def _scale() -> tuple[int, int]:
    scale = (read_yaml(DATASET) or {}).get("scale", {})
    return int(scale.get("min", 1)), int(scale.get("max", 5))


async def write_and_judge(llm: LLM, brief: str, context: TaskContext) -> Output:
    expected = context.case.expected
    rubric = expected.rubric if isinstance(expected, Expected) else []
    criteria = [c.description for c in rubric]  # the reviewer sees what the judge grades
    result = await orchestra.write_document(brief, llm=llm, trace=context.trace, criteria=criteria)
    if result.error is not None or not result.rounds:
        raise ValueError(f"the orchestra stopped early: {result.error}")
    judge = _judge(context.case)
    # The last round's version is the final one: the loop stops after a round with no rewrite.
    judged = [
        await judge.grade(r.version, brief, context.judge, context.trace) for r in result.rounds
    ]
    return Output(
        accepted=result.accepted,
        rounds=[
            Round(round=r.round, cohesion=r.cohesion_score, judged=j, revised=r.revised_sections)
            for r, j in zip(result.rounds, judged, strict=True)
        ],
        final_judged=judged[-1],
        sections_planned=len(result.plan.sections),
        sections_written=sum(bool(s.content.strip()) for s in result.sections),
        length_ratios=[s.words / s.plan.target_words for s in result.sections],
        sections=[f"## {s.plan.name}\n\n{s.content}" for s in result.sections],
    )


def _judge(case: Any) -> Judge[Any]:
    """The judge of a case: its brief's rubric, on the dataset's scale."""
    expected = case.expected
    rubric = expected.rubric if isinstance(expected, Expected) else []
    return Judge("judged", text=lambda o: o, rubric=rubric, scale=_scale())


def _value(name: str, read: object) -> Check[Any]:
    return Check(name, lambda case, o: CheckResult(value=read(o), score=read(o)))  # type: ignore[operator]


def _outputs(records: Sequence[Record]) -> list[Output]:
    return [Output.model_validate(r.output) for r in records if r.output is not None]


def _revisions_raised(records: Sequence[Record]) -> Estimate:
    pairs = [
        (a.judged, b.judged)
        for o in _outputs(records)
        for a, b in zip(o.rounds, o.rounds[1:], strict=False)
    ]
    return metrics.proportion(sum(after > before for before, after in pairs), len(pairs))


def _sections_present(records: Sequence[Record]) -> Estimate:
    outputs = _outputs(records)
    return metrics.proportion(
        sum(o.sections_written for o in outputs), sum(o.sections_planned for o in outputs)
    )


def _length_within(records: Sequence[Record]) -> Estimate:
    ratios = [x for o in _outputs(records) for x in o.length_ratios]
    return metrics.proportion(sum(0.5 <= x <= 1.5 for x in ratios), len(ratios))


def _agreement(records: Sequence[Record]) -> Estimate:
    """How often the reviewer's gate and the judge agree on a version (both at or above
    the orchestra's threshold, or both below)."""
    threshold = orchestra.DEFAULT_QUALITY_THRESHOLD
    rounds = [r for o in _outputs(records) for r in o.rounds]
    agree = sum((r.cohesion >= threshold) == (r.judged >= threshold) for r in rounds)
    return metrics.proportion(agree, len(rounds))


def _trajectory(records: Sequence[Record]) -> TrajectoryDetail:
    by_round: dict[int, dict[str, list[float]]] = {}
    for o in _outputs(records):
        for r in o.rounds:
            row = by_round.setdefault(r.round, {"judged": [], "cohesion": []})
            row["judged"].append(r.judged)
            row["cohesion"].append(r.cohesion)
    return TrajectoryDetail(
        rounds={
            n: TrajectoryPoint(**{k: metrics.mean(v).value for k, v in row.items()})
            for n, row in sorted(by_round.items())
        }
    )


ORCHESTRA = Suite(
    name="orchestra",
    dataset=DATASET,
    input_type=str,
    expected_type=Expected,
    task=write_and_judge,
    checks=[
        _value("judged", lambda o: o.final_judged),
        _value("cohesion", lambda o: o.rounds[-1].cohesion),
        Check("accepted", lambda case, o: CheckResult.of(o.accepted)),
        # The judge checked: the final document against five defective versions of it.
        JudgeValidityCheck("judge_validity", _judge, sections=lambda o: o.sections),
    ],
    measures=[
        Mean("judged", name="orchestra.judged"),
        Mean("cohesion", name="orchestra.final_cohesion"),
        Accuracy("accepted", name="orchestra.accepted"),
        Custom("orchestra.revision_raised_judged", _revisions_raised, details=_trajectory),
        Custom("orchestra.judge_reviewer_agreement", _agreement),
        Custom("orchestra.sections_present", _sections_present),
        Custom("orchestra.length_within_50pct", _length_within),
        JudgeValidity("judge_validity", name="orchestra.judge_validity"),
    ],
    group_by=("split",),
    sources=[orchestra],
    judged=True,
    extra={"quick_group": "split", "quick_per_group": 1},
)

SUITES = [ORCHESTRA]

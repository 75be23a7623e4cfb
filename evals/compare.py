"""Paired comparison: two runs (a prompt before and after), or two models in one run.

Records pair by suite and case id, never by model label, so comparing model B against
model A's run compares the same cases. Each metric's change comes from its measure
(``Measure.compare``), over the cases both sides answered, with the case as the unit
(repeats are averaged within a case first); the error rate's change is always there.
The case-by-case listing shows every check that passed before and fails now (a
regression), or the reverse (a fix), errors included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from ._records import Record
from .errors import EvalsError
from .measures import ErrorRate, Measure, MetricDelta


class ComparisonError(EvalsError, ValueError):
    """Two runs that share no case: there is nothing to compare (one line, exit 2)."""


class Change(BaseModel):
    suite: str
    case: str
    epoch: int
    check: str
    before: str
    after: str


class CasePair(BaseModel):
    """A case whose outcome changed, both sides of it: outputs, checks and transcripts."""

    kind: str
    """``regression`` or ``fix``."""
    checks: list[str]
    before: Record
    after: Record


SIDE_BY_SIDE = 100
"""Changed cases kept with both sides for the report (regressions first)."""


class Comparison(BaseModel):
    before: str
    after: str
    pairs: int
    """Cases present on both sides."""
    unpaired: int
    """Cases present on one side only (not compared)."""
    regressions: list[Change]
    fixes: list[Change]
    deltas: list[MetricDelta]
    changed: list[CasePair] = []
    """Up to ``SIDE_BY_SIDE`` changed cases, both sides, regressions first."""

    def regressed(self, p: float) -> list[MetricDelta]:
        """The metrics that got significantly worse: the wrong way, at a p below ``p``."""
        return [d for d in self.deltas if d.worse and d.p_value < p]


def _outcome(record: Record, check: str) -> str:
    if record.error:
        return "error"
    passed = record.passed(check)
    return "n/a" if passed is None else ("pass" if passed else "fail")


Key = tuple[str, str, int]


def _changes(old: dict[Key, Record], new: dict[Key, Record]) -> tuple[list[Change], list[Change]]:
    regressions: list[Change] = []
    fixes: list[Change] = []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        for check in sorted(set(a.checks) | set(b.checks)):
            was, now = _outcome(a, check), _outcome(b, check)
            if was == now or "n/a" in (was, now):
                continue
            change = Change(
                suite=key[0], case=key[1], epoch=key[2], check=check, before=was, after=now
            )
            if now == "pass":
                fixes.append(change)
            elif was == "pass":
                regressions.append(change)
    return regressions, fixes


def compare(
    before: Sequence[Record],
    after: Sequence[Record],
    measures: Mapping[str, Sequence[Measure]],
    labels: tuple[str, str],
) -> Comparison:
    """``after`` against ``before``; each side must hold one model's records. Raises
    ``ComparisonError`` when no case is on both sides."""
    old: dict[Key, Record] = {(r.suite, r.case, r.epoch): r for r in before}
    new: dict[Key, Record] = {(r.suite, r.case, r.epoch): r for r in after}
    old_cases = {(r.suite, r.case) for r in before}
    new_cases = {(r.suite, r.case) for r in after}
    shared = old_cases & new_cases
    if not shared:
        suites = ", ".join(sorted({s for s, _ in old_cases | new_cases})) or "no suite"
        raise ComparisonError(
            f"{labels[1]} against {labels[0]}: no case is in both runs ({suites}); "
            "compare runs of the same suite and dataset"
        )
    regressions, fixes = _changes(old, new)
    deltas = []
    for suite, suite_measures in measures.items():
        a = [r for r in before if r.suite == suite and (suite, r.case) in shared]
        b = [r for r in after if r.suite == suite and (suite, r.case) in shared]
        if not a:
            continue
        for measure in [*suite_measures, ErrorRate()]:
            for d in measure.compare(a, b):
                deltas.append(d.model_copy(update={"suite": suite}))
    return Comparison(
        before=labels[0],
        after=labels[1],
        pairs=len(shared),
        unpaired=len(old_cases ^ new_cases),
        regressions=regressions,
        fixes=fixes,
        deltas=deltas,
        changed=_side_by_side(old, new, regressions, fixes),
    )


def _side_by_side(
    old: dict[Key, Record], new: dict[Key, Record], regressions: list[Change], fixes: list[Change]
) -> list[CasePair]:
    pairs: dict[tuple[str, Key], list[str]] = {}
    for kind, changes in (("regression", regressions), ("fix", fixes)):
        for c in changes:
            pairs.setdefault((kind, (c.suite, c.case, c.epoch)), []).append(c.check)
    return [
        CasePair(kind=kind, checks=checks, before=old[key], after=new[key])
        for (kind, key), checks in list(pairs.items())[:SIDE_BY_SIDE]
    ]

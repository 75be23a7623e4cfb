"""Paired comparison: two runs (a prompt before and after), or two models in one run.

Records pair by suite, case id and repeat, never by model label, so comparing model B
against model A's run compares the same cases. Each check that passed before and fails
now is a regression, the reverse a fix (an error counts as a failure). Each headline
metric gets its change with a paired test: the exact McNemar test for accuracy-type
metrics, a paired bootstrap (cases resampled together) for F1 and means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from . import metrics
from .measures import Accuracy, Binary, FailureRate, Mean, Measure, Multiclass
from .metrics import Estimate
from .records import Record


class Change(BaseModel):
    suite: str
    case: str
    epoch: int
    check: str
    before: str
    after: str


class MetricDelta(BaseModel):
    suite: str
    name: str
    before: float | None
    after: float | None
    delta: Estimate
    p_value: float
    test: Literal["exact McNemar", "paired bootstrap"]
    pairs: int


class Comparison(BaseModel):
    before: str
    after: str
    pairs: int
    unpaired: int
    """Cases present on one side only (not compared)."""
    regressions: list[Change]
    fixes: list[Change]
    deltas: list[MetricDelta]


Key = tuple[str, str, int]


def _outcome(record: Record, check: str) -> str:
    if record.error:
        return "error"
    passed = record.passed(check)
    return "n/a" if passed is None else ("pass" if passed else "fail")


def compare(
    before: Sequence[Record],
    after: Sequence[Record],
    measures: dict[str, Sequence[Measure]],
    labels: tuple[str, str],
) -> Comparison:
    """``after`` against ``before``; each side must hold one model's records."""
    old: dict[Key, Record] = {(r.suite, r.case, r.epoch): r for r in before}
    new: dict[Key, Record] = {(r.suite, r.case, r.epoch): r for r in after}
    keys = sorted(old.keys() & new.keys())
    regressions, fixes = [], []
    for key in keys:
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
    deltas = [
        delta
        for suite, suite_measures in measures.items()
        for measure in suite_measures
        for delta in _deltas(suite, measure, [(old[k], new[k]) for k in keys if k[0] == suite])
    ]
    return Comparison(
        before=labels[0],
        after=labels[1],
        pairs=len(keys),
        unpaired=len(old.keys() ^ new.keys()),
        regressions=regressions,
        fixes=fixes,
        deltas=deltas,
    )


def _deltas(suite: str, measure: Measure, pairs: list[tuple[Record, Record]]) -> list[MetricDelta]:
    if isinstance(measure, Accuracy | FailureRate | Multiclass | Binary):
        check = measure.check
        used = [
            (a, b) for a, b in pairs if a.passed(check) is not None or b.passed(check) is not None
        ]
        if not used:
            return []
        was = [a.error is None and bool(a.passed(check)) for a, _ in used]
        now = [b.error is None and bool(b.passed(check)) for _, b in used]
        if isinstance(measure, FailureRate):  # the metric counts failures
            was, now = [not w for w in was], [not n for n in now]
            name = measure.name or f"{check}.rate"
        elif isinstance(measure, Accuracy):
            name = measure.name or f"{check}.accuracy"
        else:
            name = f"{measure.name or check}.accuracy"
        change = (sum(now) - sum(was)) / len(used)
        result = MetricDelta(
            suite=suite, name=name, before=sum(was) / len(used), after=sum(now) / len(used),
            delta=Estimate(change, None, None, len(used)), p_value=metrics.mcnemar(was, now),
            test="exact McNemar", pairs=len(used),
        )  # fmt: skip
        f1 = _f1_delta(suite, measure, used) if isinstance(measure, Binary) else None
        return [result] if f1 is None else [result, f1]
    if isinstance(measure, Mean):
        values = [
            (a.checks[measure.check].value, b.checks[measure.check].value)
            for a, b in pairs
            if measure.check in a.checks and measure.check in b.checks
        ]
        numeric = [
            (float(x), float(y))
            for x, y in values
            if isinstance(x, int | float) and isinstance(y, int | float)
        ]
        if not numeric:
            return []
        estimate, p = metrics.paired_mean(numeric)
        return [MetricDelta(
            suite=suite, name=measure.name or f"{measure.check}.mean",
            before=sum(x for x, _ in numeric) / len(numeric),
            after=sum(y for _, y in numeric) / len(numeric),
            delta=estimate, p_value=p, test="paired bootstrap", pairs=len(numeric),
        )]  # fmt: skip
    return []


def _f1_delta(
    suite: str, measure: Binary, pairs: list[tuple[Record, Record]]
) -> MetricDelta | None:
    def decision(record: Record) -> tuple[bool, bool]:
        result = record.checks.get(measure.check)
        if result is None or record.error:
            return (False, False)
        return (result.expected == measure.positive, result.value == measure.positive)

    before = [decision(a) for a, _ in pairs]
    after = [decision(b) for _, b in pairs]
    estimate, p = metrics.paired_f1(before, after)
    if estimate.value is None:
        return None
    return MetricDelta(
        suite=suite, name=f"{measure.name or measure.check}.f1",
        before=metrics.f1_score(before), after=metrics.f1_score(after),
        delta=estimate, p_value=p, test="paired bootstrap", pairs=len(before),
    )  # fmt: skip

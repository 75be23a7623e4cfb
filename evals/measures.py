"""Measures: report metrics over the records of one suite and one model, and their paired
comparison between two runs of the same cases.

A measure is any object with ``compute(records)`` and ``compare(before, after)`` (the
``Measure`` protocol); ``Proportion`` and ``Average`` are bases for the usual kinds,
so a user's measure is reported, compared and floored like a built-in one.

One rule for every metric and every comparison (the README states it):

- **The case is the unit.** Each case weighs 1; its repeats (``--epochs``) share that
  weight, so n is the number of cases and identical repeats change nothing.
- **Errors and n/a are left out and counted.** A repeat that errored, or where the
  check does not apply, is not an answer: it is left out of the metric (the error rate
  carries the errors). In a comparison, a case is paired only where both sides have an
  answer; the others are counted per reason ("3 left out: errored").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from . import metrics
from .details import Detail, UsageDetail
from .metrics import Estimate, Test
from .records import Record

Direction = Literal["higher", "lower"]


class MetricResult(BaseModel):
    name: str
    estimate: Estimate
    direction: Direction = "higher"
    detail: Detail | None = None
    """For the report: a confusion matrix, a threshold sweep, a trajectory."""


class MetricDelta(BaseModel):
    """The paired change of one metric between two runs of the same cases."""

    suite: str = ""
    name: str
    before: float | None
    after: float | None
    delta: Estimate
    p_value: float
    p_floor: float | None = None
    """The smallest p its test can give (random assignments); None: exact."""
    test: str
    direction: Direction = "higher"
    pairs: int
    """Cases compared (both sides answered)."""
    left_out: dict[str, int] = {}
    """Cases not compared, by reason (``errored``, ``n/a``)."""

    @property
    def p_shown(self) -> str:
        return str(Test(self.p_value, self.test, self.p_floor))

    @property
    def worse(self) -> bool:
        """The change goes the wrong way (lower where higher is better, or the reverse)."""
        value = self.delta.value or 0.0
        return value < 0 if self.direction == "higher" else value > 0


@runtime_checkable
class Measure(Protocol):
    """What the engine asks of a measure."""

    def compute(self, records: Sequence[Record]) -> list[MetricResult]: ...

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]: ...


def by_case(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Records grouped by case id, in order of first appearance."""
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record.case, []).append(record)
    return groups


def answered(records: Sequence[Record], check: str | None) -> list[Record]:
    """The records that count: no error, and (for a check) the check applies."""
    return [
        r for r in records if r.error is None and (check is None or r.passed(check) is not None)
    ]


def weighted(records: Sequence[Record], check: str | None) -> list[tuple[Record, float]]:
    """Each usable record with its weight: 1 per case, shared by the case's repeats."""
    found = []
    for group in by_case(records).values():
        used = answered(group, check)
        found += [(r, 1 / len(used)) for r in used]
    return found


Pairs = list[tuple[list[Record], list[Record]]]


def pair_cases(
    before: Sequence[Record], after: Sequence[Record], check: str | None
) -> tuple[Pairs, dict[str, int]]:
    """The cases both sides answered (each side's usable repeats), and the others counted
    by reason. Cases present on one side only are the engine's to count, not these."""
    old, new = by_case(before), by_case(after)
    pairs: Pairs = []
    left_out: dict[str, int] = {}
    for case in old.keys() & new.keys():
        a, b = answered(old[case], check), answered(new[case], check)
        if a and b:
            pairs.append((a, b))
            continue
        errored = any(not answered(side, None) for side in (old[case], new[case]))
        reason = "errored" if errored else "n/a"
        left_out[reason] = left_out.get(reason, 0) + 1
    pairs.sort(key=lambda pair: pair[0][0].case)
    return pairs, left_out


def _share(values: Sequence[float]) -> float:
    return sum(values) / len(values)


@dataclass(frozen=True)
class Proportion:
    """Base for a share of cases (Wilson interval; paired: exact McNemar, or the sign-flip
    test on per-case shares with repeats). Subclasses give ``outcome``: True, False, or
    None where the case does not count."""

    name: str
    direction: Direction = "higher"
    check: str | None = None
    """The check the outcome reads (its n/a cases are left out), if any."""

    def outcome(self, record: Record) -> bool | None:
        raise NotImplementedError

    def _shares(self, records: Sequence[Record]) -> list[float]:
        found = []
        for group in by_case(answered(records, self.check)).values():
            outcomes = [o for r in group if (o := self.outcome(r)) is not None]
            if outcomes:
                found.append(_share([float(o) for o in outcomes]))
        return found

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        shares = self._shares(records)
        estimate = metrics.proportion(sum(shares), len(shares))
        return [MetricResult(name=self.name, estimate=estimate, direction=self.direction)]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        pairs, left_out = pair_cases(before, after, self.check)
        shares = [(self._shares(a), self._shares(b)) for a, b in pairs]
        used = [(x[0], y[0]) for x, y in shares if x and y]
        if not used:
            return []
        return [delta(self.name, used, left_out, self.direction, proportion=True)]


def delta(
    name: str,
    pairs: Sequence[tuple[float, float]],
    left_out: dict[str, int],
    direction: Direction,
    *,
    proportion: bool = False,
) -> MetricDelta:
    """The change of a per-case value's mean, with the sign-flip test (exact McNemar for
    pass/fail); proportions get no interval of the change, means Student's t."""
    change, test = metrics.paired_mean(pairs)
    if proportion:
        change = Estimate(change.value, None, None, change.n)
    return MetricDelta(
        name=name,
        before=_share([b for b, _ in pairs]),
        after=_share([a for _, a in pairs]),
        delta=change,
        p_value=test.p,
        p_floor=test.floor,
        test=test.name,
        direction=direction,
        pairs=len(pairs),
        left_out=left_out,
    )


@dataclass(frozen=True)
class Average:
    """Base for a mean of a per-case number on a known scale (Student's t; paired: the
    sign-flip test). Subclasses give ``value``: a number, or None where it does not count."""

    name: str
    scale: tuple[float, float] = (0.0, 1.0)
    direction: Direction = "higher"
    check: str | None = None

    def value(self, record: Record) -> float | None:
        raise NotImplementedError

    def _means(self, records: Sequence[Record]) -> list[float]:
        found = []
        for group in by_case(answered(records, None)).values():
            values = [v for r in group if (v := self.value(r)) is not None]
            if values:
                found.append(_share(metrics.finite(values)))
        return found

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        low, high = self.scale
        estimate = metrics.mean(self._means(records), low, high)
        return [MetricResult(name=self.name, estimate=estimate, direction=self.direction)]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        pairs, left_out = pair_cases(before, after, None)
        means = [(self._means(a), self._means(b)) for a, b in pairs]
        used = [(x[0], y[0]) for x, y in means if x and y]
        not_valued = len(means) - len(used)
        if not_valued:
            left_out = {**left_out, "n/a": left_out.get("n/a", 0) + not_valued}
        return [delta(self.name, used, left_out, self.direction)] if used else []


@dataclass(frozen=True, init=False)
class Accuracy(Proportion):
    """The share of cases whose check passed."""

    def __init__(self, check: str, name: str | None = None) -> None:
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "name", name or f"{check}.accuracy")
        object.__setattr__(self, "direction", "higher")

    def outcome(self, record: Record) -> bool | None:
        return record.passed(self.check) if self.check else None


@dataclass(frozen=True, init=False)
class FailureRate(Proportion):
    """The share of cases whose check failed (lower is better): e.g. copied schema text."""

    def __init__(self, check: str, name: str | None = None) -> None:
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "name", name or f"{check}.rate")
        object.__setattr__(self, "direction", "lower")

    def outcome(self, record: Record) -> bool | None:
        passed = record.passed(self.check) if self.check else None
        return None if passed is None else not passed


@dataclass(frozen=True, init=False)
class Mean(Average):
    """The mean of a check's numeric values; a value outside the scale is refused at the
    check (a recorded check error), never folded into the mean."""

    def __init__(
        self,
        check: str,
        scale: tuple[float, float] = (0.0, 1.0),
        name: str | None = None,
        direction: Direction = "higher",
    ) -> None:
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "name", name or f"{check}.mean")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "direction", direction)

    def value(self, record: Record) -> float | None:
        result = record.checks.get(self.check or "")
        value = None if result is None else result.value
        return float(value) if isinstance(value, int | float) else None


class ErrorRate(Proportion):
    """The share of case runs that errored (every comparison carries it)."""

    def __init__(self) -> None:
        super().__init__(name="usage.error_rate", direction="lower")

    def outcome(self, record: Record) -> bool | None:
        return record.error is not None

    def _shares(self, records: Sequence[Record]) -> list[float]:
        return [_share([float(r.error is not None) for r in g]) for g in by_case(records).values()]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        old, new = by_case(before), by_case(after)
        cases = sorted(old.keys() & new.keys())
        used = [(self._shares(old[c])[0], self._shares(new[c])[0]) for c in cases]
        return [delta(self.name, used, {}, "lower", proportion=True)] if used else []


@dataclass(frozen=True)
class Custom:
    """Any estimate over the records that did not error (e.g. whether revisions raised a
    judged score), with optional details for the report. It is not compared (give it a
    ``compare`` of your own, or build on ``Proportion`` or ``Average``)."""

    name: str
    compute_estimate: Callable[[Sequence[Record]], Estimate]
    direction: Direction = "higher"
    details: Callable[[Sequence[Record]], Detail] | None = None

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        ok = [r for r in records if r.error is None]
        detail = self.details(ok) if self.details else None
        estimate = self.compute_estimate(ok)
        return [
            MetricResult(name=self.name, estimate=estimate, direction=self.direction, detail=detail)
        ]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        return []


def usage(records: Sequence[Record], price: tuple[float, float] | None) -> list[MetricResult]:
    """What every suite reports: errors, retries, latency, tokens and cost."""
    ok = [r for r in records if r.error is None]
    requests = sum(r.usage.requests for r in records)
    seconds = [r.seconds for r in ok]
    prompt = sum(r.usage.prompt_tokens for r in records)
    completion = sum(r.usage.completion_tokens for r in records)
    detail = UsageDetail(
        cases=len(by_case(records)),
        requests=requests,
        prompt_tokens=prompt,
        completion_tokens=completion,
        latency_p50_s=metrics.percentile(seconds, 50),
        latency_p95_s=metrics.percentile(seconds, 95),
        cost_usd=None if price is None else (prompt * price[0] + completion * price[1]) / 1e6,
    )
    errors = ErrorRate().compute(records)[0]
    errors.detail = detail
    retries = metrics.proportion(sum(r.usage.retries for r in records), requests)
    return [
        errors,
        MetricResult(name="usage.retry_rate", estimate=retries, direction="lower"),
    ]

"""Measures: report metrics over the records of one suite and one model, and their paired
comparison between two runs of the same cases.

A measure is any object with ``compute(records)`` and ``compare(before, after)`` (the
``Measure`` protocol); ``Proportion`` and ``Average`` are bases for the usual kinds,
so a user's measure is reported, compared and floored like a built-in one.

One rule for every metric and every comparison (the README states it):

- **The case is the unit, or its cluster.** Each case weighs 1; its repeats
  (``--epochs``) share that weight, so n is the number of cases and identical repeats
  change nothing. Cases that are variants of one source (paraphrases, obfuscations,
  templates: the metadata key ``cluster``, set by ``Suite(cluster=...)``) are not
  independent: they share one weight as repeats do (each case's repeats averaged, then
  the cluster's cases), and n is the number of clusters, in every interval and test.
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
from ._records import Record
from .details import Detail, UsageDetail
from .metrics import Estimate, Test

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


CLUSTER = "cluster"
"""The metadata key that groups related cases into one unit."""


def unit(record: Record) -> str:
    """What a record's case counts as: its cluster, or itself."""
    cluster = record.metadata.get(CLUSTER)
    return f"case:{record.case}" if cluster is None else f"cluster:{cluster}"


def by_unit(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Records grouped by unit (cluster, or case), in order of first appearance."""
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(unit(record), []).append(record)
    return groups


def nested_mean(records: Sequence[Record], value: Callable[[Record], float | None]) -> float | None:
    """A unit's value: each case's repeats averaged, then the unit's cases (None: no
    record gave a value)."""
    means = []
    for group in by_case(records).values():
        values = [v for r in group if (v := value(r)) is not None]
        if values:
            means.append(_share(values))
    return _share(means) if means else None


def answered(records: Sequence[Record], check: str | None) -> list[Record]:
    """The records that count: no error, and (for a check) the check applies."""
    return [
        r for r in records if r.error is None and (check is None or r.passed(check) is not None)
    ]


def weighted(records: Sequence[Record], check: str | None) -> list[tuple[Record, float]]:
    """Each usable record with its weight: 1 per unit, shared by the unit's cases and
    each case's share by its repeats."""
    return [pair for group in by_unit(records).values() for pair in one_unit(group, check)]


def one_unit(records: Sequence[Record], check: str | None) -> list[tuple[Record, float]]:
    """The usable records of one unit, weighing 1 in all: shared by its cases, and each
    case's share by its repeats."""
    cases = [used for g in by_case(records).values() if (used := answered(g, check))]
    return [(r, 1 / (len(cases) * len(used))) for used in cases for r in used]


Pairs = list[tuple[list[Record], list[Record]]]


def pair_cases(
    before: Sequence[Record], after: Sequence[Record], check: str | None
) -> tuple[Pairs, dict[str, int]]:
    """The units (clusters, or cases) both sides answered, each side's usable records of
    the unit's paired cases, and the cases left out counted by reason. Cases present on
    one side only are the engine's to count, not these."""
    old, new = by_case(before), by_case(after)
    units: dict[str, tuple[list[Record], list[Record]]] = {}
    left_out: dict[str, int] = {}
    for case in sorted(old.keys() & new.keys()):
        a, b = answered(old[case], check), answered(new[case], check)
        if a and b:
            found = units.setdefault(unit(b[0]), ([], []))
            found[0].extend(a)
            found[1].extend(b)
            continue
        errored = any(not answered(side, None) for side in (old[case], new[case]))
        reason = "errored" if errored else "n/a"
        left_out[reason] = left_out.get(reason, 0) + 1
    return [units[key] for key in sorted(units)], left_out


def _share(values: Sequence[float]) -> float:
    return sum(values) / len(values)


@dataclass(frozen=True)
class Proportion:
    """Base for a share of cases (Clopper-Pearson interval; paired: exact McNemar, or the sign-flip
    test on per-case shares with repeats). Subclasses give ``outcome``: True, False, or
    None where the case does not count."""

    name: str
    direction: Direction = "higher"
    check: str | None = None
    """The check the outcome reads (its n/a cases are left out), if any."""

    def outcome(self, record: Record) -> bool | None:
        raise NotImplementedError

    def _value(self, record: Record) -> float | None:
        outcome = self.outcome(record)
        return None if outcome is None else float(outcome)

    def _shares(self, records: Sequence[Record]) -> list[float]:
        groups = by_unit(answered(records, self.check)).values()
        return [s for g in groups if (s := nested_mean(g, self._value)) is not None]

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        shares = self._shares(records)
        estimate = metrics.proportion(sum(shares), len(shares))
        return [MetricResult(name=self.name, estimate=estimate, direction=self.direction)]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        pairs, left_out = pair_cases(before, after, self.check)
        shares = [(nested_mean(a, self._value), nested_mean(b, self._value)) for a, b in pairs]
        used = [(x, y) for x, y in shares if x is not None and y is not None]
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

    def _checked(self, record: Record) -> float | None:
        value = self.value(record)
        return None if value is None else metrics.finite([value])[0]

    def _means(self, records: Sequence[Record]) -> list[float]:
        groups = by_unit(answered(records, None)).values()
        return [m for g in groups if (m := nested_mean(g, self._checked)) is not None]

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        low, high = self.scale
        estimate = metrics.mean(self._means(records), low, high)
        return [MetricResult(name=self.name, estimate=estimate, direction=self.direction)]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        pairs, left_out = pair_cases(before, after, None)
        means = [(nested_mean(a, self._checked), nested_mean(b, self._checked)) for a, b in pairs]
        used = [(x, y) for x, y in means if x is not None and y is not None]
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

    def _value(self, record: Record) -> float | None:
        return float(record.error is not None)

    def _shares(self, records: Sequence[Record]) -> list[float]:
        return [nested_mean(g, self._value) or 0.0 for g in by_unit(records).values()]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        old = by_case(before)
        used = []
        for group in by_unit([r for r in after if r.case in old]).values():
            earlier = [r for case in by_case(group) for r in old[case]]
            used.append((nested_mean(earlier, self._value) or 0.0,
                         nested_mean(group, self._value) or 0.0))  # fmt: skip
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

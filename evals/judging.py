"""Is the judge any good? Two checks any user's judge can take.

**Defects it must notice.** From a good document (its sections, in order), code makes
versions with a known defect: the sections out of order, one dropped, one cut to a
third, a paragraph repeated, an off-topic section in place of one. A judge worth its
scores grades each below the intact version. ``JudgeValidityCheck`` grades the intact
document and each defective one; ``JudgeValidity`` reports, per kind of defect and
over all, the share of pairs the judge ordered right (a tie counts half) with its
interval, the case (or its cluster) as the unit.

**Agreement with people**, for users who have labels: ``agreement(human, judge)`` is
Spearman's rank correlation with the Fieller-Hartley-Pearson interval, or Cohen's
kappa (quadratic weights for grades on a scale) with a seeded bootstrap interval.

    checks=[JudgeValidityCheck("validity", judge, sections=lambda o: o.sections)],
    measures=[JudgeValidity("validity")],
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
else:  # loaded when a statistic is first computed
    from ._lazy import numpy as np
from . import metrics
from ._lazy import stats
from ._records import Record
from .checks import Check, CheckContext, CheckResult, Judge
from .data import Case
from .measures import MetricDelta, MetricResult, by_unit, nested_mean
from .metrics import Estimate

DEFECTS = ("shuffled", "dropped", "truncated", "repeated", "off_topic")
OFF_TOPIC = (
    "Sourdough needs a starter fed with flour and water for several days before it can "
    "raise a loaf. Keep it at room temperature, discard half before each feeding, and use "
    "it when it doubles within a few hours of being fed."
)
"""An off-topic section for the ``off_topic`` defect (any document not about bread)."""


def defective(sections: Sequence[str], kind: str, off_topic: str = OFF_TOPIC) -> list[str]:
    """``sections`` with one defect of ``kind``, made deterministically (the same
    document always gives the same defective version). Needs at least two sections."""
    if len(sections) < 2:
        raise ValueError("a document needs at least two sections to make defects from")
    parts, middle = list(sections), len(sections) // 2
    if kind == "shuffled":  # every section moves: the last first, then the rest
        return parts[-1:] + parts[:-1]
    if kind == "dropped":
        return parts[:middle] + parts[middle + 1 :]
    if kind == "truncated":
        longest = max(range(len(parts)), key=lambda i: len(parts[i].split()))
        words = parts[longest].split()
        return [*parts[:longest], " ".join(words[: max(1, len(words) // 3)]), *parts[longest + 1 :]]
    if kind == "repeated":  # the first paragraph again, inside another section
        first = parts[0].split("\n\n")[0]
        return [*parts[:middle], f"{parts[middle]}\n\n{first}", *parts[middle + 1 :]]
    if kind == "off_topic":
        return [*parts[:middle], off_topic, *parts[middle + 1 :]]
    raise ValueError(f"unknown defect {kind!r}: one of {', '.join(DEFECTS)}")


def _document(sections: Sequence[str]) -> str:
    return "\n\n".join(sections)


def JudgeValidityCheck(
    name: str,
    judge: Judge[Any] | Callable[[Case[Any, Any]], Judge[Any]],
    sections: Callable[[Any], Sequence[str]],
    defects: Sequence[str] = DEFECTS,
) -> Check[Any]:
    """Grades the task's document (``sections`` of its output) and each defective version
    with ``judge`` (or the judge a case's rubric makes: a function of the case); the
    value is ``{defect: [intact grade, defective grade]}``, the score the share ordered
    right."""
    unknown = sorted(set(defects) - set(DEFECTS))
    if unknown:
        raise ValueError(f"unknown defect {', '.join(unknown)}: one of {', '.join(DEFECTS)}")
    return _Validity(name, lambda case, output: CheckResult(), judge, sections, defects)


@dataclass(frozen=True)
class _Validity(Check[Any]):
    judge: Judge[Any] | Callable[[Case[Any, Any]], Judge[Any]] | None = None
    sections: Callable[[Any], Sequence[str]] = lambda output: list(output)
    defects: Sequence[str] = DEFECTS

    async def run(self, output: Any, context: CheckContext) -> CheckResult:
        assert self.judge is not None, "JudgeValidityCheck needs a judge"
        judge = self.judge if isinstance(self.judge, Judge) else self.judge(context.case)
        parts = list(self.sections(output))
        if len(parts) < 2:  # no defect can be made: the check does not apply
            return CheckResult()
        brief = judge.brief(context.case)

        async def grade(text: str) -> float:
            return await judge.grade(text, brief, context.judge, context.trace)

        intact = await grade(_document(parts))
        pairs = {kind: [intact, await grade(_document(defective(parts, kind)))]
                 for kind in self.defects}  # fmt: skip
        right = sum(_ordered(pair) for pair in pairs.values()) / len(pairs)
        return CheckResult(value=pairs, score=right)


def _pair(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _ordered(pair: Any) -> float:
    """1 when the intact version is graded above the defective one, 0.5 on a tie."""
    intact, broken = pair
    return 1.0 if intact > broken else 0.5 if intact == broken else 0.0


@dataclass(frozen=True)
class JudgeValidity:
    """The share of (intact, defective) pairs the judge ordered right, per defect and
    over all, with a Clopper-Pearson interval over cases (clusters where given). A judge
    that cannot tell them apart scores about 0.5."""

    check: str
    name: str | None = None
    defects: Sequence[str] = DEFECTS

    def _right(self, kind: str | None) -> Callable[[Record], float | None]:
        def value(record: Record) -> float | None:
            result = record.checks.get(self.check)
            pairs = result.value if result is not None and record.error is None else None
            if not isinstance(pairs, dict):
                return None
            wanted = self.defects if kind is None else [kind]
            found = [_ordered(p) for k in wanted if _pair(p := pairs.get(k))]
            return sum(found) / len(found) if found else None

        return value

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        label = self.name or self.check
        found = []
        for kind in [None, *self.defects]:
            shares = [s for group in by_unit(records).values()
                      if (s := nested_mean(group, self._right(kind))) is not None]  # fmt: skip
            found.append(
                MetricResult(
                    name=f"{label}.{kind or 'all'}",
                    estimate=metrics.proportion(sum(shares), len(shares)),
                )
            )
        return found

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        return []


def agreement(
    human: Sequence[float],
    judge: Sequence[float],
    method: Literal["spearman", "kappa"] = "spearman",
    *,
    weights: Literal["quadratic", "linear"] | None = "quadratic",
    seed: int = 0,
) -> Estimate:
    """How far the judge agrees with people on the same cases: Spearman's rho with the
    Fieller-Hartley-Pearson interval (Fisher's z with variance 1.06 / (n - 3)), or
    Cohen's kappa on the grades (quadratic weights by default: a grade off by two is
    worse than one off by one) with a seeded bootstrap percentile interval. No interval
    from fewer than 5 cases; no value where the grades do not vary."""
    h = np.asarray(metrics.finite(human, "human grade"))
    j = np.asarray(metrics.finite(judge, "judge grade"))
    if h.shape != j.shape:
        raise ValueError(f"{h.size} human grades and {j.size} judge grades: pair them")
    n = int(h.size)
    if n < 2 or np.ptp(h) == 0 or np.ptp(j) == 0:
        return Estimate(None, None, None, n)
    if method == "spearman":
        rho = float(stats.spearmanr(h, j).statistic)
        if n < 5 or abs(rho) == 1:
            return Estimate(rho, None, None, n)
        half = NormalDist().inv_cdf(0.975) * math.sqrt(1.06 / (n - 3))
        z = math.atanh(rho)
        return Estimate(rho, math.tanh(z - half), math.tanh(z + half), n)
    value = _kappa(h, j, weights)
    if n < 5:
        return Estimate(value, None, None, n)
    rng = np.random.default_rng(seed)
    draws = [_kappa(h[i], j[i], weights) for i in rng.integers(0, n, (metrics.RESAMPLES, n))]
    finite = [d for d in draws if d is not None and math.isfinite(d)]
    low, high = np.percentile(finite, [2.5, 97.5])
    return Estimate(value, min(float(low), value), max(float(high), value), n)


def _kappa(h: np.ndarray, j: np.ndarray, weights: str | None) -> float:
    """Cohen's kappa of two raters' labels, weighted by the distance between grades."""
    labels = np.unique(np.concatenate([h, j]))
    index = {v: i for i, v in enumerate(labels)}
    k = len(labels)
    observed = np.zeros((k, k))
    for a, b in zip(h, j, strict=True):
        observed[index[a], index[b]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(float)
    cost = {None: (distance > 0).astype(float), "linear": distance, "quadratic": distance**2}[
        weights
    ]
    disagreement = float((cost * expected).sum())
    if disagreement == 0:
        return 1.0
    return 1 - float((cost * observed).sum()) / disagreement

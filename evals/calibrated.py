"""Thresholds calibrated on the dev split, their effect reported on the test split:
a gate that abstains when unsure (``Abstention``), and a detector's score held to a
false-positive budget (``FlagAtRate``). Neither ever looks at a test case to choose.

``Abstention``:
A case is acted on when its confidence (the check's ``score``) is at least the
threshold, and abstained on otherwise. The threshold is chosen on the dev split alone:
of the dev cases' confidences (with 0, which acts on every case, and one just above the
highest, which acts on none), the one that maximises right actions minus wrong ones,
i.e. a wrong action costs what a right one gains and an abstention neither; of equals,
the highest (fewer actions for the same net). Then, on
the test split only, at that threshold: the share of cases acted on and right, acted on
and wrong, and abstained on, each case weighing 1 (repeats share it), Clopper-Pearson intervals.
Errored cases count in the suite's error rate, not here (as in every measure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from . import metrics
from ._records import Record
from .measures import Direction, MetricDelta, MetricResult, answered, by_case, delta
from .metrics import Estimate

Outcome = Literal["right", "wrong", "abstained"]
RATES: tuple[tuple[Outcome, Direction], ...] = (
    ("right", "higher"),
    ("wrong", "lower"),
    ("abstained", "lower"),
)


def _outcome(record: Record, check: str, threshold: float) -> Outcome:
    result = record.checks[check]
    if float(result.score or 0.0) < threshold:
        return "abstained"
    return "right" if result.passed else "wrong"


def _shares(
    records: Sequence[Record], check: str, threshold: float, wanted: Outcome
) -> dict[str, float]:
    """Per case: the share of its usable repeats with that outcome."""
    found = {}
    for case, group in by_case(answered(records, check)).items():
        found[case] = sum(_outcome(r, check, threshold) == wanted for r in group) / len(group)
    return found


def calibrate(dev: Sequence[Record], check: str) -> float | None:
    """The dev split's threshold (see the module); None without a dev case."""
    used = answered(dev, check)
    if not used:
        return None
    scores = {float(r.checks[check].score or 0.0) for r in used}
    # acting on every case (0), on those at each confidence, or on none (just above all)
    candidates = sorted({0.0, *scores, math.nextafter(max(scores), math.inf)})

    def net(threshold: float) -> float:
        right = _shares(used, check, threshold, "right")
        wrong = _shares(used, check, threshold, "wrong")
        return sum(right.values()) - sum(wrong.values())

    return max(reversed(candidates), key=net)  # max keeps the first (highest) of equals


@dataclass(frozen=True)
class Abstention:
    """``check`` passed: the action was right; its ``score``: the confidence. Gives
    ``<name>.threshold`` (from dev) and, on test, ``<name>.right``, ``<name>.wrong`` and
    ``<name>.abstained``; nothing where the records lack either split (a group's row)."""

    check: str
    name: str

    def _splits(self, records: Sequence[Record]) -> tuple[float | None, list[Record]]:
        dev = [r for r in records if r.split == "dev"]
        test = [r for r in records if r.split == "test"]
        return calibrate(dev, self.check), test

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        threshold, test = self._splits(records)
        cases = len(by_case(answered(test, self.check)))
        if threshold is None or not cases:
            return []
        found = [
            MetricResult(
                name=f"{self.name}.threshold",
                estimate=Estimate(threshold, None, None, len(by_case(records)) - cases),
            )
        ]
        for wanted, direction in RATES:
            shares = _shares(test, self.check, threshold, wanted)
            found.append(
                MetricResult(
                    name=f"{self.name}.{wanted}",
                    estimate=metrics.proportion(sum(shares.values()), len(shares)),
                    direction=direction,
                )
            )
        return found

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        """Right and wrong actions on the test cases both runs answered, each run at its
        own dev-calibrated threshold (exact McNemar, or the sign-flip test with repeats)."""
        (t_old, old), (t_new, new) = self._splits(before), self._splits(after)
        if t_old is None or t_new is None:
            return []
        found = []
        for wanted, direction in RATES[:2]:
            a = _shares(old, self.check, t_old, wanted)
            b = _shares(new, self.check, t_new, wanted)
            pairs = [(a[case], b[case]) for case in sorted(a.keys() & b.keys())]
            if pairs:
                found.append(delta(f"{self.name}.{wanted}", pairs, {}, direction, proportion=True))
        return found


def _flag_shares(
    records: Sequence[Record], check: str, threshold: float, positives: bool
) -> dict[str, float]:
    """Per case among the expected positives (or negatives): the share flagged."""
    found = {}
    for case, group in by_case(answered(records, check)).items():
        used = [r for r in group if bool(r.checks[check].expected) is positives]
        if used:
            flagged = sum(float(r.checks[check].score or 0.0) >= threshold for r in used)
            found[case] = flagged / len(used)
    return found


def budget_threshold(dev: Sequence[Record], check: str, budget: float) -> float | None:
    """The lowest threshold at which the dev negatives flagged are at most ``budget``
    (of the dev scores, or just above them all: flag nothing); None without negatives."""
    used = [r for r in answered(dev, check) if r.checks[check].score is not None]
    if not any(not r.checks[check].expected for r in used):
        return None
    scores = sorted({float(r.checks[check].score or 0.0) for r in used})
    for threshold in [*scores, math.nextafter(scores[-1], math.inf)]:
        flagged = _flag_shares(used, check, threshold, positives=False).values()
        if sum(flagged) / len(flagged) <= budget:
            return threshold
    raise AssertionError("unreachable: above every score nothing is flagged")


@dataclass(frozen=True)
class FlagAtRate:
    """A detector whose ``check`` has the expected flag as ``expected`` and the
    probability of the positive as ``score`` (n/a where there is none), flagging at the
    dev split's ``budget_threshold``. On test: ``<name>.threshold``, ``.detection_rate``,
    ``.false_positive_rate``; with ``beside`` (another layer's check), ``.added_detection_rate``
    and ``.added_false_positive_rate``: the same among the cases that layer did not flag,
    i.e. what this layer adds to it."""

    check: str
    name: str
    budget: float = 0.05
    beside: str | None = None

    def _at(self, records: Sequence[Record]) -> tuple[float | None, list[Record]]:
        dev = [r for r in records if r.split == "dev"]
        test = [r for r in records if r.split == "test" and r.passed(self.check) is not None]
        return budget_threshold(dev, self.check, self.budget), test

    def _parts(self, test: list[Record]) -> dict[str, list[Record]]:
        parts = {"": test}
        if self.beside is not None:
            parts["added_"] = [r for r in test if r.checks[self.beside].value is not True]
        return parts

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        threshold, test = self._at(records)
        if threshold is None or not test:
            return []
        found = [
            MetricResult(
                name=f"{self.name}.threshold",
                estimate=Estimate(
                    threshold, None, None, len(by_case(records)) - len(by_case(test))
                ),
            )
        ]
        for prefix, part in self._parts(test).items():
            for positives, label, direction in _RATES:
                shares = _flag_shares(part, self.check, threshold, positives).values()
                found.append(
                    MetricResult(
                        name=f"{self.name}.{prefix}{label}",
                        estimate=metrics.proportion(sum(shares), len(shares)),
                        direction=direction,
                    )
                )
        return found

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        """Each rate on the test cases both runs have, each run at its own dev threshold."""
        (t_old, old), (t_new, new) = self._at(before), self._at(after)
        if t_old is None or t_new is None:
            return []
        found = []
        for prefix, part in self._parts(old).items():
            newer = self._parts(new)[prefix]
            for positives, label, direction in _RATES:
                a = _flag_shares(part, self.check, t_old, positives)
                b = _flag_shares(newer, self.check, t_new, positives)
                if pairs := [(a[c], b[c]) for c in sorted(a.keys() & b.keys())]:
                    name = f"{self.name}.{prefix}{label}"
                    found.append(delta(name, pairs, {}, direction, proportion=True))
        return found


_RATES: tuple[tuple[bool, str, Direction], ...] = (
    (True, "detection_rate", "higher"),
    (False, "false_positive_rate", "lower"),
)


def _right_shares(records: Sequence[Record], check: str, threshold: float) -> dict[str, float]:
    """Per case: the share of its repeats where "score >= threshold" is the expected yes/no."""
    found = {}
    for case, group in by_case(answered(records, check)).items():
        right = [
            (float(r.checks[check].score or 0.0) >= threshold) == bool(r.checks[check].expected)
            for r in group
        ]
        found[case] = sum(right) / len(right)
    return found


def accuracy_threshold(dev: Sequence[Record], check: str) -> float | None:
    """The dev split's most accurate threshold (of its positive scores, or above them
    all: say no to everything); of equals, the highest. None without a dev case."""
    used = answered(dev, check)
    if not used:
        return None
    scores = {float(r.checks[check].score or 0.0) for r in used}
    candidates = sorted({s for s in scores if s > 0} | {math.nextafter(max(scores), math.inf)})
    return max(reversed(candidates), key=lambda t: sum(_right_shares(used, check, t).values()))


@dataclass(frozen=True)
class GateOnDev:
    """A yes/no gate that says yes when ``check``'s score (0 for a no) reaches a
    threshold, chosen on dev by ``accuracy_threshold``: on test, ``<name>.threshold`` and
    ``<name>.accuracy`` at it (beside the configured threshold's own figures)."""

    check: str
    name: str

    def _at(self, records: Sequence[Record]) -> tuple[float | None, list[Record]]:
        dev = [r for r in records if r.split == "dev"]
        test = [r for r in records if r.split == "test"]
        return accuracy_threshold(dev, self.check), test

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        threshold, test = self._at(records)
        shares = _right_shares(test, self.check, threshold) if threshold is not None else {}
        if threshold is None or not shares:
            return []
        return [
            MetricResult(
                name=f"{self.name}.threshold",
                estimate=Estimate(threshold, None, None, len(by_case(records)) - len(shares)),
            ),
            MetricResult(
                name=f"{self.name}.accuracy",
                estimate=metrics.proportion(sum(shares.values()), len(shares)),
            ),
        ]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        (t_old, old), (t_new, new) = self._at(before), self._at(after)
        if t_old is None or t_new is None:
            return []
        a, b = _right_shares(old, self.check, t_old), _right_shares(new, self.check, t_new)
        pairs = [(a[c], b[c]) for c in sorted(a.keys() & b.keys())]
        return (
            [delta(f"{self.name}.accuracy", pairs, {}, "higher", proportion=True)] if pairs else []
        )

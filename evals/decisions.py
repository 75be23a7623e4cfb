"""Measures of decisions: a yes/no gate (``Binary``), a label among several
(``Multiclass``), a detector (``Detection``). Each case weighs 1, as in ``measures``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from . import metrics
from ._records import Record
from .details import BinaryDetail, ClassScores, Confusion, MulticlassDetail, SweepRow
from .measures import (
    Average,
    MetricDelta,
    MetricResult,
    Proportion,
    by_unit,
    one_unit,
    pair_cases,
    weighted,
)
from .metrics import Counts, Estimate


@dataclass(frozen=True, init=False)
class _Matches(Proportion):
    """The share of cases whose decision matched the expected one."""

    def __init__(self, check: str, name: str) -> None:
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "direction", "higher")

    def outcome(self, record: Record) -> bool | None:
        result = record.checks[self.check or ""]
        return result.value == result.expected


@dataclass(frozen=True, init=False)
class _Brier(Average):
    """The mean squared error of a score read as a probability: of the positive label
    (``right``: the truth is ``expected == right``), or, without ``right``, of the
    decision being right (the truth is whether the check passed)."""

    right: object = None

    def __init__(self, check: str, name: str, right: object) -> None:
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "scale", (0.0, 1.0))
        object.__setattr__(self, "direction", "lower")
        object.__setattr__(self, "right", right)

    def value(self, record: Record) -> float | None:
        result = record.checks.get(self.check or "")
        if result is None or result.passed is None or result.score is None:
            return None
        truth = result.expected == self.right if self.right is not None else result.passed
        return (result.score - float(truth)) ** 2


def _scored(used: Sequence[Record], check: str) -> bool:
    return bool(used) and all(r.checks[check].score is not None for r in used)


@dataclass(frozen=True)
class Binary:
    """A yes/no decision: accuracy, precision, recall, F1, the confusion matrix and, when
    the check has scores, a threshold sweep, ROC AUC and the Brier score."""

    check: str
    positive: JsonValue = True
    name: str | None = None
    threshold: float | None = None
    """The configured threshold, marked on the sweep."""

    @property
    def label(self) -> str:
        return self.name or self.check

    def _cells(self, pairs: Sequence[tuple[Record, float]]) -> Counts:
        truth = [r.checks[self.check].expected == self.positive for r, _ in pairs]
        said = [r.checks[self.check].value == self.positive for r, _ in pairs]
        return Counts.of(truth, said, [w for _, w in pairs])

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        used = weighted(records, self.check)
        cases = len(by_unit([r for r, _ in used]))
        counts = self._cells(used)
        scores = metrics.binary(counts, cases)
        detail = BinaryDetail(confusion=Confusion(**counts.__dict__), threshold=self.threshold)
        results = [
            MetricResult(name=f"{self.label}.{k}", estimate=scores[k])
            for k in ("accuracy", "precision", "recall", "f1")
        ]
        results[0].detail = detail
        plain = [r for r, _ in used]
        if _scored(plain, self.check):
            truth = [r.checks[self.check].expected == self.positive for r in plain]
            graded = [float(r.checks[self.check].score or 0.0) for r in plain]
            detail.roc_auc = metrics.roc_auc(truth, graded)
            detail.sweep = [SweepRow(**row) for row in metrics.threshold_sweep(truth, graded)]
            defined = [row for row in detail.sweep if row.f1 is not None]
            detail.best = max(defined, key=lambda r: (r.f1, -r.threshold)) if defined else None
            results += _Brier(self.check, f"{self.label}.brier", self.positive).compute(records)
            auc = Estimate(detail.roc_auc, None, None, cases)
            results.append(MetricResult(name=f"{self.label}.roc_auc", estimate=auc))
        return results

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        found = _Matches(self.check, f"{self.label}.accuracy").compare(before, after)
        pairs, left_out = pair_cases(before, after, self.check)
        if pairs:
            old = [self._cells(one_unit(a, self.check)) for a, _ in pairs]
            new = [self._cells(one_unit(b, self.check)) for _, b in pairs]
            change, test = metrics.paired_f1(old, new)
            if change.value is not None:
                found.append(
                    MetricDelta(
                        name=f"{self.label}.f1",
                        before=metrics.binary(_total(old))["f1"].value,
                        after=metrics.binary(_total(new))["f1"].value,
                        delta=change,
                        p_value=test.p,
                        p_floor=test.floor,
                        test=test.name,
                        pairs=len(pairs),
                        left_out=left_out,
                    )
                )
        return found


def _total(cells: Sequence[Counts]) -> Counts:
    return Counts(*(sum(getattr(c, k) for c in cells) for k in ("tp", "fp", "fn", "tn")))


@dataclass(frozen=True)
class Multiclass:
    """A label among several: accuracy, per-class precision/recall/F1, the confusion
    matrix; with scores, how well the confidence separates right from wrong (ROC AUC) and
    its calibration (Brier)."""

    check: str
    labels: Sequence[str] = field(default_factory=tuple)
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.check

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        used = weighted(records, self.check)
        plain = [r for r, _ in used]
        truth = [str(r.checks[self.check].expected) for r in plain]
        said = [str(r.checks[self.check].value) for r in plain]
        weights = [w for _, w in used]
        per_class = {}
        for label in self.labels:
            cells = Counts.of([t == label for t in truth], [s == label for s in said], weights)
            scores = metrics.binary(cells)
            per_class[label] = ClassScores(
                precision=scores["precision"].value,
                recall=scores["recall"].value,
                f1=scores["f1"].value,
                support=cells.tp + cells.fn,
            )
        detail = MulticlassDetail(
            confusion=metrics.confusion_matrix(truth, said, self.labels), per_class=per_class
        )
        accuracy = _Matches(self.check, f"{self.label}.accuracy").compute(records)[0]
        accuracy.detail = detail
        results = [accuracy]
        if _scored(plain, self.check):
            right = [t == s for t, s in zip(truth, said, strict=True)]
            graded = [float(r.checks[self.check].score or 0.0) for r in plain]
            detail.confidence_roc_auc = metrics.roc_auc(right, graded)
            results += _Brier(self.check, f"{self.label}.brier", None).compute(records)
            auc = Estimate(detail.confidence_roc_auc, None, None, len(by_unit(plain)))
            results.append(MetricResult(name=f"{self.label}.confidence.roc_auc", estimate=auc))
        return results

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        return _Matches(self.check, f"{self.label}.accuracy").compare(before, after)


@dataclass(frozen=True, init=False)
class _Flagged(Proportion):
    """The share flagged among the cases whose expected flag is ``among``."""

    among: bool = True

    def __init__(self, check: str, name: str, among: bool) -> None:
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "direction", "higher" if among else "lower")
        object.__setattr__(self, "among", among)

    def outcome(self, record: Record) -> bool | None:
        result = record.checks[self.check or ""]
        return None if result.expected is not self.among else result.value is True


@dataclass(frozen=True)
class Detection:
    """A detector: how many of the expected positives it flags (detection rate) and how
    many negatives it flags wrongly (false positive rate, lower is better)."""

    check: str
    name: str | None = None

    def _parts(self) -> tuple[_Flagged, _Flagged]:
        label = self.name or self.check
        return (
            _Flagged(self.check, f"{label}.detection_rate", True),
            _Flagged(self.check, f"{label}.false_positive_rate", False),
        )

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        return [result for part in self._parts() for result in part.compute(records)]

    def compare(self, before: Sequence[Record], after: Sequence[Record]) -> list[MetricDelta]:
        return [d for part in self._parts() for d in part.compare(before, after)]

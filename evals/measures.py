"""Report metrics: computed over the records of one suite and one model, from the checks.

Each gives ``MetricResult``s: a named estimate with its 95% interval, the direction in
which it is better (floors use it), and details for the report (a confusion matrix, a
threshold sweep). Records that errored count against accuracy-type metrics only
through the usage error rate: a metric is about the answers that came back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, JsonValue

from . import metrics
from .metrics import Estimate
from .records import Record

Direction = Literal["higher", "lower"]


class MetricResult(BaseModel):
    name: str
    estimate: Estimate
    direction: Direction = "higher"
    detail: dict[str, Any] = {}
    """For the report: a confusion matrix, a threshold sweep, a trajectory (JSON data)."""


def _applicable(records: Sequence[Record], check: str) -> list[Record]:
    return [r for r in records if r.error is None and r.passed(check) is not None]


@dataclass(frozen=True)
class Accuracy:
    """The share of cases whose check passed (Wilson interval)."""

    check: str
    name: str | None = None

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        used = _applicable(records, self.check)
        hits = sum(bool(r.passed(self.check)) for r in used)
        return [
            MetricResult(
                name=self.name or f"{self.check}.accuracy",
                estimate=metrics.proportion(hits, len(used)),
            )
        ]


@dataclass(frozen=True)
class FailureRate:
    """The share of cases whose check failed (lower is better): e.g. copied schema text."""

    check: str
    name: str | None = None

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        used = _applicable(records, self.check)
        failed = sum(r.passed(self.check) is False for r in used)
        return [
            MetricResult(
                name=self.name or f"{self.check}.rate",
                estimate=metrics.proportion(failed, len(used)),
                direction="lower",
            )
        ]


@dataclass(frozen=True)
class Binary:
    """A yes/no decision: accuracy, precision, recall, F1, the confusion matrix and, when
    the check has scores, a threshold sweep with ROC AUC and the best-F1 threshold."""

    check: str
    positive: JsonValue = True
    name: str | None = None
    threshold: float | None = None
    """The configured threshold, marked on the sweep."""

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        name = self.name or self.check
        used = _applicable(records, self.check)
        truth = [r.checks[self.check].expected == self.positive for r in used]
        said = [r.checks[self.check].value == self.positive for r in used]
        binary = metrics.binary(truth, said)
        detail: dict[str, Any] = {"confusion": binary["confusion"]}
        graded = [(t, r.checks[self.check].score) for t, r in zip(truth, used, strict=True)]
        if graded and all(s is not None for _, s in graded):
            ts = [t for t, _ in graded]
            ss = [float(s) for _, s in graded if s is not None]
            sweep = metrics.threshold_sweep(ts, ss)
            detail |= {
                "roc_auc": metrics.roc_auc(ts, ss),
                "sweep": sweep,
                "best": metrics.best_threshold(sweep),
                "threshold": self.threshold,
            }
        results = [
            MetricResult(
                name=f"{name}.{k}", estimate=binary[k], detail=detail if k == "accuracy" else {}
            )
            for k in ("accuracy", "precision", "recall", "f1")
        ]
        if "roc_auc" in detail:  # calibration: the score read as the probability of yes
            errors = [(float(score) - truth) ** 2 for truth, score in graded if score is not None]
            brier = metrics.mean(errors, 0.0, 1.0)
            results.append(MetricResult(name=f"{name}.brier", estimate=brier, direction="lower"))
            results.append(_auc(name, detail["roc_auc"], len(graded)))
        return results


@dataclass(frozen=True)
class Multiclass:
    """A label among several: accuracy, per-class precision/recall/F1, the confusion matrix."""

    check: str
    labels: Sequence[str]
    name: str | None = None

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        used = _applicable(records, self.check)
        truth = [str(r.checks[self.check].expected) for r in used]
        said = [str(r.checks[self.check].value) for r in used]
        scores = metrics.multiclass(truth, said, self.labels)
        per_class = {
            label: {k: v.value if isinstance(v, Estimate) else v for k, v in row.items()}
            for label, row in scores["per_class"].items()
        }
        detail: dict[str, Any] = {"confusion": scores["confusion"], "per_class": per_class}
        name = self.name or self.check
        results = [
            MetricResult(name=f"{name}.accuracy", estimate=scores["accuracy"], detail=detail)
        ]
        confidences = [r.checks[self.check].score for r in used]
        if used and all(c is not None for c in confidences):
            # The confidence of the chosen label, read as the probability it is right: how
            # well it separates right from wrong answers (ROC AUC), and its calibration.
            right = [t == s for t, s in zip(truth, said, strict=True)]
            graded = [float(c) for c in confidences if c is not None]
            detail["confidence_roc_auc"] = metrics.roc_auc(right, graded)
            errors = [(c - r) ** 2 for c, r in zip(graded, right, strict=True)]
            results.append(
                MetricResult(
                    name=f"{name}.brier",
                    estimate=metrics.mean(errors, 0.0, 1.0),
                    direction="lower",
                )
            )
            results.append(_auc(f"{name}.confidence", detail["confidence_roc_auc"], len(used)))
        return results


def _auc(name: str, value: float | None, n: int) -> MetricResult:
    """ROC AUC as a metric of its own (a point value: no interval is computed)."""
    return MetricResult(name=f"{name}.roc_auc", estimate=Estimate(value, None, None, n))


@dataclass(frozen=True)
class Mean:
    """The mean of a check's numeric values, its interval clamped to the scale."""

    check: str
    scale: tuple[float, float] = (0.0, 1.0)
    name: str | None = None
    direction: Direction = "higher"

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        values = [
            float(v)
            for r in records
            if r.error is None
            and isinstance(v := r.checks.get(self.check, _NONE).value, int | float)
        ]
        low, high = self.scale
        return [
            MetricResult(
                name=self.name or f"{self.check}.mean",
                estimate=metrics.mean(values, low, high),
                direction=self.direction,
            )
        ]


@dataclass(frozen=True)
class Detection:
    """A detector: how many of the expected positives it flags (detection rate) and how
    many negatives it flags wrongly (false positive rate, lower is better)."""

    check: str
    name: str | None = None

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        used = _applicable(records, self.check)
        positives = [r for r in used if r.checks[self.check].expected is True]
        negatives = [r for r in used if r.checks[self.check].expected is False]
        name = self.name or self.check

        def flagged(group: list[Record]) -> int:
            return sum(r.checks[self.check].value is True for r in group)

        return [
            MetricResult(
                name=f"{name}.detection_rate",
                estimate=metrics.proportion(flagged(positives), len(positives)),
            ),
            MetricResult(
                name=f"{name}.false_positive_rate",
                estimate=metrics.proportion(flagged(negatives), len(negatives)),
                direction="lower",
            ),
        ]


@dataclass(frozen=True)
class Custom:
    """Any estimate over the records that did not error (e.g. whether revisions raised a
    judged score), with optional details for the report."""

    name: str
    compute_estimate: Callable[[Sequence[Record]], Estimate]
    direction: Direction = "higher"
    details: Callable[[Sequence[Record]], dict[str, Any]] | None = None

    def compute(self, records: Sequence[Record]) -> list[MetricResult]:
        ok = [r for r in records if r.error is None]
        detail = self.details(ok) if self.details else {}
        return [
            MetricResult(
                name=self.name,
                estimate=self.compute_estimate(ok),
                direction=self.direction,
                detail=detail,
            )
        ]


Measure = Accuracy | FailureRate | Binary | Multiclass | Mean | Detection | Custom


class _None:
    value: Any = None


_NONE = _None()


def usage(records: Sequence[Record], price: tuple[float, float] | None) -> list[MetricResult]:
    """What every suite reports: errors, retries, latency, tokens and cost."""
    ok = [r for r in records if r.error is None]
    requests = sum(r.usage.requests for r in records)
    seconds = [r.seconds for r in ok]
    results = [
        MetricResult(
            name="usage.error_rate",
            estimate=metrics.proportion(len(records) - len(ok), len(records)),
            direction="lower",
        ),
        MetricResult(
            name="usage.retry_rate",
            estimate=metrics.proportion(sum(r.usage.retries for r in records), requests),
            direction="lower",
        ),
    ]
    detail: dict[str, Any] = {
        "cases": len(records),
        "requests": requests,
        "prompt_tokens": sum(r.usage.prompt_tokens for r in records),
        "completion_tokens": sum(r.usage.completion_tokens for r in records),
        "latency_p50_s": metrics.percentile(seconds, 50),
        "latency_p95_s": metrics.percentile(seconds, 95),
    }
    if price is not None:
        detail["cost_usd"] = (
            detail["prompt_tokens"] * price[0] + detail["completion_tokens"] * price[1]
        ) / 1e6
    results[0].detail = detail
    return results

"""Metric functions: pure, on lists of labels and predictions, each with a 95% interval.

Proportions (accuracy, precision, recall, rates) use the Wilson score interval;
F1, which is not a proportion, a seeded bootstrap over cases. A metric that is
undefined (no positives, no cases) is ``None``, never a made-up 0.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int

    def __str__(self) -> str:
        if self.value is None:
            return "n/a"
        if self.low is None or self.high is None:
            return f"{self.value:.2f} (n={self.n}, no interval)"
        return f"{self.value:.2f} [{self.low:.2f}, {self.high:.2f}]"


def proportion(successes: int, n: int) -> Estimate:
    """successes/n with its Wilson score interval."""
    if n == 0:
        return Estimate(None, None, None, 0)
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def bootstrap(
    pairs: Sequence[tuple[Any, Any]],
    statistic: Callable[[Sequence[tuple[Any, Any]]], float | None],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> Estimate:
    """The statistic on ``pairs``, with a percentile bootstrap interval (seeded)."""
    value = statistic(pairs)
    if value is None:
        return Estimate(None, None, None, len(pairs))
    rng = random.Random(seed)
    draws = sorted(
        s
        for _ in range(resamples)
        if (s := statistic([pairs[rng.randrange(len(pairs))] for _ in pairs])) is not None
    )
    if not draws:
        return Estimate(value, None, None, len(pairs))
    return Estimate(
        value,
        draws[int(0.025 * (len(draws) - 1))],
        draws[int(0.975 * (len(draws) - 1))],
        len(pairs),
    )


def _f1(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    return None if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def binary(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 and the confusion matrix of a yes/no decision."""
    pairs = list(zip(truth, predicted, strict=True))
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    tn = sum(not t and not p for t, p in pairs)
    return {
        "accuracy": proportion(tp + tn, len(pairs)),
        "precision": proportion(tp, tp + fp),
        "recall": proportion(tp, tp + fn),
        "f1": f1_interval(tp, fp, fn, tn),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }


def f1_interval(
    tp: int, fp: int, fn: int, tn: int, resamples: int = 1000, seed: int = 0
) -> Estimate:
    """F1 with a percentile bootstrap interval. F1 depends on the confusion counts only, so
    a resample is a draw of the four cells (``random.choices`` in C), not of every case
    in Python: the same interval as resampling cases, about ten times faster."""
    n = tp + fp + fn + tn
    value = _f1_counts(tp, fp, fn)
    if value is None:
        return Estimate(None, None, None, n)
    rng = random.Random(seed)
    cells = (0, 1, 2, 3)
    draws = []
    for _ in range(resamples):
        drawn = rng.choices(cells, weights=(tp, fp, fn, tn), k=n)
        score = _f1_counts(drawn.count(0), drawn.count(1), drawn.count(2))
        if score is not None:
            draws.append(score)
    draws.sort()
    if not draws:
        return Estimate(value, None, None, n)
    return Estimate(
        value, draws[int(0.025 * (len(draws) - 1))], draws[int(0.975 * (len(draws) - 1))], n
    )


def _f1_counts(tp: int, fp: int, fn: int) -> float | None:
    return None if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    """counts[expected][predicted]; predictions outside ``labels`` are counted too."""
    seen = list(labels) + sorted(set(predicted) - set(labels))
    matrix = {t: dict.fromkeys(seen, 0) for t in labels}
    for t, p in zip(truth, predicted, strict=True):
        matrix.setdefault(t, dict.fromkeys(seen, 0))[p] += 1
    return matrix


def multiclass(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix."""
    per_class = {}
    for label in labels:
        is_label = [t == label for t in truth]
        said_label = [p == label for p in predicted]
        scores = binary(is_label, said_label)
        per_class[label] = {
            "precision": scores["precision"],
            "recall": scores["recall"],
            "f1": scores["f1"],
            "support": sum(is_label),
        }
    hits = sum(t == p for t, p in zip(truth, predicted, strict=True))
    return {
        "accuracy": proportion(hits, len(truth)),
        "per_class": per_class,
        "confusion": confusion_matrix(truth, predicted, labels),
    }


def roc_auc(truth: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (the Mann-Whitney statistic, ties count half)."""
    positives = [s for t, s in zip(truth, scores, strict=True) if t]
    negatives = [s for t, s in zip(truth, scores, strict=True) if not t]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def threshold_sweep(
    truth: Sequence[bool], scores: Sequence[float], steps: int = 20
) -> list[dict[str, Any]]:
    """The gate at thresholds 1/steps .. 1: a case passes when its score >= threshold.

    Point values only (no intervals): 20 bootstraps per sweep would dominate a report."""
    rows = []
    negatives = sum(not t for t in truth)
    for i in range(1, steps + 1):
        threshold = round(i / steps, 4)
        pairs = [(t, s >= threshold) for t, s in zip(truth, scores, strict=True)]
        tp = sum(t and p for t, p in pairs)
        fp = sum(p and not t for t, p in pairs)
        rows.append(
            {
                "threshold": threshold,
                "accuracy": proportion(sum(t == p for t, p in pairs), len(pairs)).value,
                "precision": proportion(tp, tp + fp).value,
                "recall": proportion(tp, sum(truth)).value,
                "f1": _f1(pairs),
                "false_positive_rate": proportion(fp, negatives).value,
            }
        )
    return rows


def best_threshold(sweep: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The sweep row with the highest F1 (the lowest threshold among ties)."""
    defined = [row for row in sweep if row["f1"] is not None]
    return max(defined, key=lambda row: (row["f1"], -row["threshold"])) if defined else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- Small samples, paired comparisons --------------------------------------------------------

_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]  # fmt: skip
"""Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom."""


def t95(df: int) -> float:
    return _T95[df - 1] if df <= len(_T95) else Z95


def mean(values: Sequence[float], low: float = -math.inf, high: float = math.inf) -> Estimate:
    """The mean with a Student's t 95% interval, clamped to the scale [low, high] (a mean
    of grades cannot be above the top grade, however few there are)."""
    if not values:
        return Estimate(None, None, None, 0)
    m = sum(values) / len(values)
    if len(values) < 2:
        return Estimate(m, None, None, 1)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    half = t95(len(values) - 1) * sd / math.sqrt(len(values))
    return Estimate(m, max(low, m - half), min(high, m + half), len(values))


def mcnemar(before: Sequence[bool], after: Sequence[bool]) -> float:
    """Exact two-sided McNemar p-value for paired pass/fail outcomes: the binomial test on
    the cases that changed (fixed vs broken)."""
    fixed = sum(not b and a for b, a in zip(before, after, strict=True))
    broken = sum(b and not a for b, a in zip(before, after, strict=True))
    n = fixed + broken
    if n == 0:
        return 1.0
    tail: float = sum(math.comb(n, k) for k in range(min(fixed, broken) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_bootstrap(
    pairs: Sequence[tuple[Any, Any]],
    statistic: Callable[[Sequence[Any]], float | None],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[Estimate, float]:
    """The change of ``statistic`` from the first to the second element of each pair, with
    a percentile interval and a two-sided p-value, resampling cases (so pairs stay
    together)."""

    def delta(sample: Sequence[tuple[Any, Any]]) -> float | None:
        a, b = statistic([p[0] for p in sample]), statistic([p[1] for p in sample])
        return None if a is None or b is None else b - a

    value = delta(pairs)
    if value is None or not pairs:
        return Estimate(None, None, None, len(pairs)), 1.0
    rng = random.Random(seed)
    n = len(pairs)
    draws = sorted(
        d
        for _ in range(resamples)
        if (d := delta([pairs[rng.randrange(n)] for _ in range(n)])) is not None
    )
    if not draws:
        return Estimate(value, None, None, n), 1.0
    below = sum(d <= 0 for d in draws) / len(draws)
    above = sum(d >= 0 for d in draws) / len(draws)
    estimate = Estimate(
        value, draws[int(0.025 * (len(draws) - 1))], draws[int(0.975 * (len(draws) - 1))], n
    )
    return estimate, min(1.0, 2 * min(below, above))

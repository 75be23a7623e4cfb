"""Metric functions: pure, on lists of labels and predictions, each with a 95% interval.

Proportions (accuracy, precision, recall, rates) use the Wilson score interval;
F1, which is not a proportion, a seeded bootstrap over cases (vectorised with NumPy:
constant time for F1, whatever the number of cases). A metric that is
undefined (no positives, no cases) is ``None``, never a made-up 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

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


def f1_score(pairs: Sequence[tuple[bool, bool]]) -> float | None:
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


RESAMPLES = 1000


def f1_interval(
    tp: int, fp: int, fn: int, tn: int, resamples: int = RESAMPLES, seed: int = 0
) -> Estimate:
    """F1 with a percentile bootstrap interval. F1 depends on the confusion counts only, so
    resampling the cases is drawing the four cells from a multinomial: the same interval,
    in constant time whatever the number of cases."""
    n = tp + fp + fn + tn
    value = _f1_counts(tp, fp, fn)
    if value is None:
        return Estimate(None, None, None, n)
    cells = np.random.default_rng(seed).multinomial(n, np.array([tp, fp, fn, tn]) / n, resamples)
    low, high = _interval(_f1_array(cells[:, 0], cells[:, 1], cells[:, 2]))
    return Estimate(value, low, high, n)


def _f1_counts(tp: int, fp: int, fn: int) -> float | None:
    return None if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def _f1_array(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 of each resample; NaN where it is undefined (no positive said or true)."""
    denominator = 2 * tp + fp + fn
    scores: np.ndarray = np.full(tp.shape, np.nan)
    np.divide(2.0 * tp, denominator, out=scores, where=denominator > 0)
    return scores


def _interval(draws: np.ndarray) -> tuple[float | None, float | None]:
    """The 2.5th and 97.5th percentiles of the defined draws."""
    defined = np.sort(draws[~np.isnan(draws)])
    if not defined.size:
        return None, None
    last = defined.size - 1
    return float(defined[int(0.025 * last)]), float(defined[int(0.975 * last)])


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
    """Area under the ROC curve: the Mann-Whitney statistic from the scores' ranks (ties
    get their average rank, so they count half), in O(n log n)."""
    positives = sum(bool(t) for t in truth)
    negatives = len(truth) - positives
    if not positives or not negatives:
        return None
    values = np.asarray(scores, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    ranks = np.empty(len(values))
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2  # average of ranks start+1 .. end
    rank_sum = float(ranks[np.asarray(truth, dtype=bool)].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


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
                "f1": f1_score(pairs),
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


def _paired(value: float, draws: np.ndarray, n: int) -> tuple[Estimate, float]:
    """The change with its percentile interval, and the two-sided bootstrap p-value (how
    often a resampled change falls on either side of zero)."""
    defined = draws[~np.isnan(draws)]
    if not defined.size:
        return Estimate(value, None, None, n), 1.0
    low, high = _interval(defined)
    below, above = float(np.mean(defined <= 0)), float(np.mean(defined >= 0))
    return Estimate(value, low, high, n), min(1.0, 2 * min(below, above))


def paired_f1(
    before: Sequence[tuple[bool, bool]],
    after: Sequence[tuple[bool, bool]],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[Estimate, float]:
    """The change of F1 over the same cases, each a (truth, predicted) pair before and
    after, with a paired bootstrap (cases resampled together). Each case falls in one of
    16 cells (its two pairs), so a resample is one multinomial draw of those cells."""
    n = len(before)
    value_before = f1_score(before)
    value_after = f1_score(after)
    if value_before is None or value_after is None:
        return Estimate(None, None, None, n), 1.0
    cell = [8 * t0 + 4 * p0 + 2 * t1 + p1 for (t0, p0), (t1, p1) in zip(before, after, strict=True)]
    counts = np.bincount(np.array(cell, dtype=np.int64), minlength=16)
    draws = np.random.default_rng(seed).multinomial(n, counts / n, resamples)
    bits = np.arange(16)
    t0, p0, t1, p1 = (bits >> 3) & 1, (bits >> 2) & 1, (bits >> 1) & 1, bits & 1

    def f1(truth: np.ndarray, said: np.ndarray) -> np.ndarray:
        return _f1_array(
            draws @ (truth & said), draws @ (said & (1 - truth)), draws @ (truth & (1 - said))
        )

    return _paired(value_after - value_before, f1(t1, p1) - f1(t0, p0), n)


def paired_mean(
    pairs: Sequence[tuple[float, float]], *, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[Estimate, float]:
    """The change of a mean over the same cases (before, after), with a paired bootstrap
    of the differences, vectorised in chunks of bounded memory."""
    n = len(pairs)
    if not n:
        return Estimate(None, None, None, 0), 1.0
    differences = np.array([b - a for a, b in pairs], dtype=np.float64)
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n)
    draws = np.concatenate(
        [
            differences[rng.integers(0, n, (min(chunk, resamples - done), n))].mean(axis=1)
            for done in range(0, resamples, chunk)
        ]
    )
    return _paired(float(differences.mean()), draws, n)

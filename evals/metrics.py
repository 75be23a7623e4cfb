"""Metric functions: pure, each with a 95% interval that keeps its coverage at small n.

The methods, chosen by seeded simulation (``tests/evals/test_coverage.py``; the README
has the measured table):

- proportions (accuracy, precision, recall, rates): the Wilson score interval;
- F1: the 2.5th and 97.5th percentiles of F1 under a Dirichlet posterior over the four
  confusion cells (a Jeffreys prior of 1/2 per cell), widened to hold the observed F1,
  never zero width; no interval
  from fewer than 5 cases in the cells F1 reads (tp + fp + fn): there is none to give;
- means: Student's t at every degree of freedom, corrected for skewness (Hall's
  transformation); no interval when the values do not
  vary (a zero-width interval would claim certainty that n cases cannot give);
- paired changes: an exact sign-flip permutation test of the per-case differences
  (exact McNemar when every difference is -1, 0 or 1; every assignment enumerated up to
  ``EXACT_UP_TO`` non-zero differences; ``RESAMPLES`` random ones above, p never below
  1/(RESAMPLES+1)), a swap permutation test for F1.

Counts may be fractional: with repeats, each case weighs 1 in total (its repeats share
it), so n is the number of cases, never the number of repeats. A metric that is
undefined (no positives, no cases) is ``None``, never a made-up 0. Inputs that are not
finite numbers raise ``ValueError``: they are refused at the check, never folded in.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))
PRIOR = 0.5
"""The Dirichlet prior per confusion cell (Jeffreys)."""
MIN_F1_CELLS = 5
"""Fewer cases than this in tp + fp + fn: F1 gets no interval (its coverage falls below
nominal there, measured)."""
RESAMPLES = 2000
"""Posterior draws for F1 intervals, random assignments for permutation tests."""
EXACT_UP_TO = 16
"""Permutation tests enumerate all 2^m assignments up to this many changed cases."""


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
        digits = 2  # more where two decimals would show a real interval as zero-width
        while digits < 4 and f"{self.low:.{digits}f}" == f"{self.high:.{digits}f}":
            digits += 1
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def finite(values: Sequence[float], what: str = "value") -> list[float]:
    """``values`` as floats, or ``ValueError`` naming the first that is not finite."""
    checked = [float(v) for v in values]
    bad = next((v for v in checked if not math.isfinite(v)), None)
    if bad is not None:
        raise ValueError(f"a {what} of {bad} is not a finite number")
    return checked


def proportion(successes: float, n: float, cases: int | None = None) -> Estimate:
    """successes/n with its Wilson score interval (``cases``: the n shown, default n)."""
    if n <= 0:
        return Estimate(None, None, None, 0)
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(max(0.0, p * (1 - p)) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    shown = round(n) if cases is None else cases
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), shown)


def f1_score(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    return _f1_counts(tp, fp, fn)


def _f1_counts(tp: float, fp: float, fn: float) -> float | None:
    return None if tp + fp + fn <= 0 else 2 * tp / (2 * tp + fp + fn)


@dataclass(frozen=True)
class Counts:
    """A confusion matrix; cells are case weights (whole numbers without repeats)."""

    tp: float = 0.0
    fp: float = 0.0
    fn: float = 0.0
    tn: float = 0.0

    @classmethod
    def of(
        cls, truth: Sequence[bool], said: Sequence[bool], weights: Sequence[float] | None = None
    ) -> Counts:
        w = [1.0] * len(truth) if weights is None else list(weights)
        cells = [0.0, 0.0, 0.0, 0.0]
        for t, p, weight in zip(truth, said, w, strict=True):
            cells[(0 if p else 2) if t else (1 if p else 3)] += weight
        return cls(*cells)

    @property
    def n(self) -> float:
        return self.tp + self.fp + self.fn + self.tn


def binary(counts: Counts, cases: int | None = None) -> dict[str, Estimate]:
    """Accuracy, precision, recall and F1 of a yes/no decision."""
    c = counts
    return {
        "accuracy": proportion(c.tp + c.tn, c.n, cases),
        "precision": proportion(c.tp, c.tp + c.fp),
        "recall": proportion(c.tp, c.tp + c.fn),
        "f1": f1_interval(c, cases),
    }


def f1_interval(counts: Counts, cases: int | None = None, seed: int = 0) -> Estimate:
    """F1 with the percentiles of its Dirichlet posterior over the confusion cells."""
    c = counts
    n = round(c.n) if cases is None else cases
    value = _f1_counts(c.tp, c.fp, c.fn)
    if value is None or c.tp + c.fp + c.fn < MIN_F1_CELLS:
        return Estimate(value, None, None, n)
    draws = np.random.default_rng(seed).dirichlet(
        np.array([c.tp, c.fp, c.fn, c.tn]) + PRIOR, RESAMPLES
    )
    low, high = np.percentile(_f1_array(draws[:, 0], draws[:, 1], draws[:, 2]), [2.5, 97.5])
    return _around(value, float(low), float(high), n)


def _around(value: float, low: float, high: float, n: int) -> Estimate:
    """A posterior interval widened to hold the observed value (F1 = 1 or 0 sits at the
    edge of its posterior): wider only, so its coverage can only rise."""
    return Estimate(value, min(low, value), max(high, value), n)


def _f1_array(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 of each draw; NaN where it is undefined (no positive said or true)."""
    denominator = 2 * tp + fp + fn
    scores: np.ndarray = np.full(tp.shape, np.nan)
    np.divide(2.0 * tp, denominator, out=scores, where=denominator > 0)
    return scores


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    """counts[expected][predicted]; predictions outside ``labels`` are counted too."""
    seen = list(labels) + sorted(set(predicted) - set(labels))
    matrix = {t: dict.fromkeys(seen, 0) for t in labels}
    for t, p in zip(truth, predicted, strict=True):
        matrix.setdefault(t, dict.fromkeys(seen, 0))[p] += 1
    return matrix


def roc_auc(truth: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve: the Mann-Whitney statistic from the scores' ranks (ties
    get their average rank, so they count half), in O(n log n)."""
    positives = sum(bool(t) for t in truth)
    negatives = len(truth) - positives
    if not positives or not negatives:
        return None
    values = np.asarray(finite(scores, "score"), dtype=np.float64)
    ranks = stats.rankdata(values)
    rank_sum = float(ranks[np.asarray(truth, dtype=bool)].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with ``df`` degrees of freedom."""
    return float(stats.t.ppf(0.975, df))


def mean(values: Sequence[float], low: float = -math.inf, high: float = math.inf) -> Estimate:
    """The mean with a 95% interval: Student's t corrected for skewness (Hall's cubic
    transformation, 1992: scores bunched near the top of a scale are skewed, and plain t
    covers 92.8% of the time at n = 20 there, measured), clamped to the scale
    [low, high]. Values outside the scale raise ``ValueError``: it would not hold them."""
    checked = finite(values)
    outside = next((v for v in checked if not low <= v <= high), None)
    if outside is not None:
        raise ValueError(f"{outside:g} is outside the scale [{low:g}, {high:g}]")
    n = len(checked)
    if not n:
        return Estimate(None, None, None, 0)
    data = np.asarray(checked)
    m = float(data.mean())
    sd = float(data.std(ddof=1)) if n > 1 else 0.0
    if sd == 0:
        return Estimate(m, None, None, n)
    se = sd / math.sqrt(n)
    skew = float(np.mean((data - m) ** 3)) / sd**3
    q = t95(n - 1)
    return Estimate(
        m, max(low, m - _hall(q, skew, n) * se), min(high, m - _hall(-q, skew, n) * se), n
    )


def _hall(y: float, skew: float, n: int) -> float:
    """The inverse of Hall's transformation T(t) = t + a t^2 + a^2 t^3 / 3 + b of the
    studentised mean, a = skew / (3 sqrt n), b = skew / (6 sqrt n)."""
    a, b = skew / (3 * math.sqrt(n)), skew / (6 * math.sqrt(n))
    if abs(a) < 1e-12:
        return y - b
    return (float(np.cbrt(1 + 3 * a * (y - b))) - 1) / a


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


# --- Paired comparisons ------------------------------------------------------------------------


@dataclass(frozen=True)
class Test:
    """A paired test's outcome: the two-sided p-value and how it was computed."""

    p: float
    name: str
    floor: float | None = None
    """The smallest p this test can give (random assignments: 1/(B+1)), else None."""

    def __str__(self) -> str:
        if self.floor is not None and self.p <= self.floor:
            return f"< {self.floor:.2g}"
        return f"{self.p:.3g}"


def mcnemar(before: Sequence[bool], after: Sequence[bool]) -> float:
    """Exact two-sided McNemar p-value for paired pass/fail outcomes: the binomial test on
    the cases that changed (fixed vs broken)."""
    fixed = sum(not b and a for b, a in zip(before, after, strict=True))
    broken = sum(b and not a for b, a in zip(before, after, strict=True))
    n = fixed + broken
    if n == 0:
        return 1.0
    return min(1.0, 2 * float(stats.binom.cdf(min(fixed, broken), n, 0.5)))


def sign_flip(differences: Sequence[float], seed: int = 0) -> Test:
    """Two-sided permutation test that the per-case differences are centred on zero: under
    the null each difference is as likely to have either sign."""
    d = np.asarray(finite(differences, "difference"), dtype=np.float64)
    nonzero = d[d != 0]
    m = nonzero.size
    if m == 0:
        return Test(1.0, "sign-flip (exact)")
    if np.all(np.abs(nonzero) == 1):
        fixed = int((nonzero > 0).sum())
        p = min(1.0, 2 * float(stats.binom.cdf(min(fixed, m - fixed), m, 0.5)))
        return Test(p, "exact McNemar")
    observed = abs(float(nonzero.sum())) - 1e-9 * m
    if m <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=m)))
        return Test(float(np.mean(np.abs(signs @ nonzero) >= observed)), "sign-flip (exact)")
    rng = np.random.default_rng(seed)
    hits = 0
    for done in range(0, RESAMPLES, chunk := max(1, 2_000_000 // m)):
        signs = rng.choice((1.0, -1.0), (min(chunk, RESAMPLES - done), m))
        hits += int(np.sum(np.abs(signs @ nonzero) >= observed))
    floor = 1 / (RESAMPLES + 1)
    return Test((1 + hits) / (RESAMPLES + 1), f"sign-flip ({RESAMPLES:,} draws)", floor)


def paired_mean(pairs: Sequence[tuple[float, float]]) -> tuple[Estimate, Test]:
    """The change of a mean over the same cases (before, after): Student's t interval of
    the differences, and the sign-flip test."""
    n = len(pairs)
    if not n:
        return Estimate(None, None, None, 0), Test(1.0, "sign-flip (exact)")
    differences = [after - before for before, after in pairs]
    spread = mean(differences)
    return spread, sign_flip(differences)


def paired_f1(before: Sequence[Counts], after: Sequence[Counts]) -> tuple[Estimate, Test]:
    """The change of F1 over the same cases, each case's cells before and after (weights
    summing to 1 per case). The interval: Dirichlet posterior percentiles over the 16
    joint cells; the test: before and after swapped at random case by case (exact under
    the null that the two are exchangeable; enumerated when few cases changed)."""
    n = len(before)
    old, new = _stack(before), _stack(after)
    value_before = _f1_counts(*old.sum(axis=0)[:3])
    value_after = _f1_counts(*new.sum(axis=0)[:3])
    if value_before is None or value_after is None:
        return Estimate(None, None, None, n), Test(1.0, "permutation (exact)")
    change = value_after - value_before
    changed = np.flatnonzero(np.any(old != new, axis=1))
    base_old, base_new = old.sum(axis=0), new.sum(axis=0)
    if changed.size <= EXACT_UP_TO:
        swaps = np.array(list(itertools.product((0.0, 1.0), repeat=changed.size)))
        name, floor = "permutation (exact)", None
    else:
        swaps = np.random.default_rng(0).integers(0, 2, (RESAMPLES, changed.size)).astype(float)
        name, floor = f"permutation ({RESAMPLES:,} draws)", 1 / (RESAMPLES + 1)
    shift = swaps @ (new[changed] - old[changed])  # what each swap moves from after to before
    perm_old, perm_new = base_old + shift, base_new - shift
    deltas = _f1_array(*perm_new.T[:3]) - _f1_array(*perm_old.T[:3])
    at_least = np.abs(np.nan_to_num(deltas, nan=0.0)) >= abs(change) - 1e-12
    p = float(np.mean(at_least)) if floor is None else (1 + int(at_least.sum())) / (1 + len(swaps))
    return _f1_change(old, new, change, n), Test(min(1.0, p), name, floor)


def _stack(cells: Sequence[Counts]) -> np.ndarray:
    return np.array([[c.tp, c.fp, c.fn, c.tn] for c in cells], dtype=np.float64).reshape(-1, 4)


def _f1_change(old: np.ndarray, new: np.ndarray, change: float, n: int) -> Estimate:
    """Percentiles of the F1 change under a Dirichlet posterior over the 16 joint cells."""
    joint = np.einsum("ni,nj->ij", old, new).reshape(16)  # one case's weight over 16 cells
    if (old.sum(axis=0)[:3].sum() < MIN_F1_CELLS) or (new.sum(axis=0)[:3].sum() < MIN_F1_CELLS):
        return Estimate(change, None, None, n)
    draws = np.random.default_rng(0).dirichlet(joint + PRIOR / 4, RESAMPLES).reshape(-1, 4, 4)
    before, after = draws.sum(axis=2), draws.sum(axis=1)
    delta = _f1_array(*after.T[:3]) - _f1_array(*before.T[:3])
    low, high = np.nanpercentile(delta, [2.5, 97.5])
    return _around(change, float(low), float(high), n)


def threshold_sweep(
    truth: Sequence[bool], scores: Sequence[float], steps: int = 20
) -> list[dict[str, float | None]]:
    """The gate at thresholds 1/steps .. 1: a case passes when its score >= threshold.

    Point values only (no intervals): 20 intervals per sweep would dominate a report."""
    rows = []
    for i in range(1, steps + 1):
        threshold = round(i / steps, 4)
        counts = Counts.of(truth, [s >= threshold for s in scores])
        rows.append(
            {
                "threshold": threshold,
                "accuracy": proportion(counts.tp + counts.tn, counts.n).value,
                "precision": proportion(counts.tp, counts.tp + counts.fp).value,
                "recall": proportion(counts.tp, counts.tp + counts.fn).value,
                "f1": _f1_counts(counts.tp, counts.fp, counts.fn),
                "false_positive_rate": proportion(counts.fp, counts.fp + counts.tn).value,
            }
        )
    return rows

"""Metric functions: pure, each with a 95% interval that keeps its coverage at small n.

The methods, chosen by seeded simulation (``tests/evals/test_coverage.py``; the README
has the measured table):

- proportions (accuracy, precision, recall, rates): the Clopper-Pearson interval (beta
  quantiles, so fractional counts from repeats work too): the only one of Wilson, Wilson
  with modified boundaries, Jeffreys, mid-p and Clopper-Pearson whose exact coverage stays
  >= 0.95 at every p for n = 10-200; Wilson fell to 0.84-0.92 near 0 and 1, where error
  and false-positive rates live (``python -m tests.evals.test_coverage --proportions``);
- F1: the 2.5th and 97.5th percentiles of F1 under a Dirichlet posterior over the four
  confusion cells (a Jeffreys prior of 1/2 per cell), widened to hold the observed F1,
  never zero width; no interval
  from fewer than 5 cases in the cells F1 reads (tp + fp + fn): there is none to give;
- means: Student's t at every degree of freedom, corrected for skewness (Hall's
  transformation); no interval when the values do not
  vary, equal within float tolerance included (a zero-width interval would claim
  certainty that n cases cannot give);
- paired changes of a mean: exact McNemar when every difference is -1, 0 or 1 (its null,
  "as many fixed as broken", is both "nothing changed" and "the mean did not change");
  otherwise two tests whose larger p is reported: the sign-flip permutation test (exact
  for "nothing changed": every case's two values exchangeable; every assignment
  enumerated up to ``EXACT_UP_TO`` differences, ``RESAMPLES`` random ones above, p never
  below 1/(RESAMPLES+1)) and Student's t (for "the mean did not change", which the
  sign-flip test over-rejects when changes are skewed). The interval of the change is the
  hull of both tests' inverted intervals, so it leaves out 0 exactly when p < 0.05;
- paired changes of F1: a swap permutation test and a Dirichlet posterior interval.

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
else:  # loaded when a statistic is first computed
    from ._lazy import numpy as np
from ._lazy import special, stats

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
    """successes/n with its Clopper-Pearson interval (``cases``: the n shown, default n).
    ``successes`` may be fractional (repeats share a case's weight): the beta quantiles
    take any real count."""
    if n <= 0:
        return Estimate(None, None, None, 0)
    x = min(max(successes, 0.0), n)
    low = 0.0 if x <= 0 else float(special.betaincinv(x, n - x + 1, 0.025))
    high = 1.0 if x >= n else float(special.betaincinv(x + 1, n - x, 0.975))
    shown = round(n) if cases is None else cases
    return Estimate(x / n, low, high, shown)


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
    return float(special.stdtrit(df, 0.975))


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
    if n < 2 or _constant(data):
        return Estimate(m, None, None, n)
    sd = float(data.std(ddof=1))
    se = sd / math.sqrt(n)
    skew = float(np.mean((data - m) ** 3)) / sd**3
    q = t95(n - 1)
    return Estimate(
        m, max(low, m - _hall(q, skew, n) * se), min(high, m - _hall(-q, skew, n) * se), n
    )


def _constant(data: np.ndarray) -> bool:
    """All values equal within float tolerance (0.1 + 0.2 and 0.3 are one value)."""
    return bool(np.ptp(data) <= 1e-9 * max(1.0, float(np.abs(data).max())))


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
    return min(1.0, 2 * float(special.bdtr(min(fixed, broken), n, 0.5)))


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
        p = min(1.0, 2 * float(special.bdtr(min(fixed, m - fixed), m, 0.5)))
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


def paired_mean(pairs: Sequence[tuple[float, float]], seed: int = 0) -> tuple[Estimate, Test]:
    """The change of a mean over the same cases (before, after).

    Pass/fail on both sides (every value 0 or 1): exact McNemar, whose null "as many
    fixed as broken" is both "nothing changed" and "the mean did not change". Otherwise p
    is the larger of the sign-flip test's (exact for "nothing changed") and Student's t's
    (for "the mean did not change"), and the interval the hull of the two tests' inverted
    intervals: it leaves out 0 exactly when p < 0.05, and keeps its
    coverage on tied, skewed changes (judge grades on a grid, most cases unchanged),
    where a skew-corrected t alone covered 0.88 at n = 20."""
    n = len(pairs)
    if not n:
        return Estimate(None, None, None, 0), Test(1.0, "sign-flip (exact)")
    d = np.asarray(finite([after - before for before, after in pairs], "difference"))
    value = float(d.mean())
    values = np.asarray(finite([v for pair in pairs for v in pair]))
    if np.all((values == 0) | (values == 1)):
        return Estimate(value, None, None, n), sign_flip(list(d))
    if _constant(d):  # nothing varies: no interval; every case moved alike, or none did
        return Estimate(value, None, None, n), sign_flip(list(d), seed)
    flips = _SignFlips(d, seed)
    sd = float(d.std(ddof=1))
    t_p = float(2 * special.stdtr(n - 1, -abs(value) / (sd / math.sqrt(n))))
    sign_p = flips.p(0.0)
    p = max(sign_p, t_p)
    half = t95(n - 1) * sd / math.sqrt(n)
    low, high = flips.interval()
    low, high = min(low, value - half), max(high, value + half)
    if p >= 0.05:  # the two draws of one test agree to the last digit, not always beyond
        low, high = min(low, 0.0), max(high, 0.0)
    name = f"{flips.name} and t"
    floor = flips.floor
    if not (math.isfinite(low) and math.isfinite(high)):
        return Estimate(value, None, None, n), Test(p, name, floor)
    return Estimate(value, low, high, n), Test(p, name, floor)


class _SignFlips:
    """The sign-flip distribution of one set of differences, shifted by any delta: every
    assignment of signs up to ``EXACT_UP_TO`` cases, ``RESAMPLES`` seeded ones above, the
    same assignments for every delta (so the test and its inverted interval agree)."""

    def __init__(self, d: np.ndarray, seed: int) -> None:
        self.d = d
        if d.size <= EXACT_UP_TO:
            signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
            self.name, self.floor = "sign-flip (exact)", None
        else:
            signs = np.random.default_rng(seed).choice((1.0, -1.0), (RESAMPLES, d.size))
            self.name, self.floor = f"sign-flip ({RESAMPLES:,} draws)", 1 / (RESAMPLES + 1)
        self.sums, self.counts = signs @ d, signs.sum(axis=1)

    def p(self, delta: float) -> float:
        """Two-sided p of "the differences less ``delta`` are symmetric about 0"."""
        observed = abs(float(self.d.sum()) - delta * self.d.size)
        at_least = np.abs(self.sums - delta * self.counts) >= observed - 1e-9 * self.d.size
        if self.floor is None:
            return float(np.mean(at_least))
        return (1 + int(at_least.sum())) / (RESAMPLES + 1)

    def interval(self) -> tuple[float, float]:
        """The deltas the test does not reject at 5% (bisection from the mean outwards);
        unbounded where it can reject nothing (too few cases)."""
        centre = float(self.d.mean())
        reach = float(np.ptp(self.d)) + abs(centre) + 1.0
        bounds = []
        for side in (-1.0, 1.0):
            far = centre + side * reach
            if self.p(far) >= 0.05:
                bounds.append(side * math.inf)
                continue
            inside = centre
            for _ in range(40):
                middle = (inside + far) / 2
                inside, far = (middle, far) if self.p(middle) >= 0.05 else (inside, middle)
            bounds.append(inside)
        return bounds[0], bounds[1]


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

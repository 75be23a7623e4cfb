"""The intervals' coverage and the paired tests' false-positive rates, by seeded
simulation on known populations at n = 20, 50 and 200.

Proportions' coverage is exact (every count weighted by its probability), and so is F1's
at n = 20 (every confusion matrix); the rest is simulated, 1,000 samples a cell. Every
95% interval must cover the true value at least 93% of the time, and every paired
test must reject at most 6% of true nulls at the 5% level. ``python -m
tests.evals.test_coverage`` prints the table the README shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
from scipy import stats

from evals.metrics import Counts, f1_interval, mean, paired_f1, paired_mean, proportion

SIZES = (20, 50, 200)
REPS = 1000
F1_POPULATIONS = {
    # cells tp, fp, fn, tn as probabilities
    "rare positives, fair": (0.08, 0.04, 0.04, 0.84),
    "balanced, good": (0.45, 0.03, 0.02, 0.50),
    "balanced, mediocre": (0.30, 0.20, 0.20, 0.30),
}


def _true_f1(p: tuple[float, ...]) -> float:
    return 2 * p[0] / (2 * p[0] + p[1] + p[2])


def _covers(low: float | None, high: float | None, truth: float) -> bool | None:
    return None if low is None or high is None else low <= truth <= high


def _rate(outcomes: list[bool | None]) -> float:
    given = [o for o in outcomes if o is not None]
    return sum(given) / len(given)


def proportion_coverage(p: float, n: int, rng: np.random.Generator) -> float:
    """Exact: every count k weighted by its binomial probability."""
    weights = stats.binom.pmf(np.arange(n + 1), n, p)
    return float(
        sum(w * bool(_covers(*_bounds(proportion(k, n)), p)) for k, w in enumerate(weights))
    )


def _bounds(estimate: object) -> tuple[float | None, float | None]:
    return estimate.low, estimate.high  # type: ignore[attr-defined]


def mean_coverage(a: float, b: float, n: int, rng: np.random.Generator) -> float:
    truth = a / (a + b)
    draws = rng.beta(a, b, (REPS, n))
    return _rate([_covers(*_bounds(mean(list(row), 0.0, 1.0)), truth) for row in draws])


def f1_coverage(cells: tuple[float, ...], n: int, rng: np.random.Generator) -> float:
    truth = _true_f1(cells)
    if n <= 20:  # exact: every confusion matrix of n cases, by its multinomial probability
        covered = given = 0.0
        for tp, fp, fn in itertools.product(range(n + 1), repeat=3):
            if tp + fp + fn > n:
                continue
            counts = (tp, fp, fn, n - tp - fp - fn)
            outcome = _covers(*_bounds(f1_interval(Counts(*counts))), truth)
            if outcome is not None:
                weight = float(stats.multinomial.pmf(counts, n, cells))
                covered, given = covered + weight * outcome, given + weight
        return covered / given
    found = []
    for tp, fp, fn, tn in rng.multinomial(n, cells, REPS):
        found.append(_covers(*_bounds(f1_interval(Counts(tp, fp, fn, tn))), truth))
    return _rate(found)


def _classifier(truth: np.ndarray, accuracy: float, rng: np.random.Generator) -> np.ndarray:
    return np.where(rng.random(truth.size) < accuracy, truth, ~truth)


def paired_f1_rates(n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Two classifiers of the same skill (a true null): how often the permutation test
    rejects at 5%, and how often the interval of the change covers 0 (the true change)."""
    rejected, covered = [], []
    for _ in range(REPS // 2):
        truth = rng.random(n) < 0.4
        a, b = _classifier(truth, 0.75, rng), _classifier(truth, 0.75, rng)
        change, test = paired_f1(
            [Counts.of([t], [p]) for t, p in zip(truth, a, strict=True)],
            [Counts.of([t], [p]) for t, p in zip(truth, b, strict=True)],
        )
        rejected.append(test.p < 0.05)
        covered.append(_covers(change.low, change.high, 0.0))
    return _rate(rejected), _rate(covered)


def paired_mean_rates(n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Judged scores before and after with no true change, skewed and correlated."""
    rejected, covered = [], []
    for _ in range(REPS):
        base = rng.beta(2, 5, n)
        before = np.clip(base + rng.normal(0, 0.1, n), 0, 1)
        after = np.clip(base + rng.normal(0, 0.1, n), 0, 1)
        change, test = paired_mean(list(zip(before, after, strict=True)))
        rejected.append(test.p < 0.05)
        covered.append(_covers(change.low, change.high, 0.0))
    return _rate(rejected), _rate(covered)


def paired_pass_fail_rejections(n: int, rng: np.random.Generator) -> float:
    """Pass/fail before and after with the same pass rate (McNemar's null)."""
    rejected = []
    for _ in range(REPS):
        skill = rng.random(n)
        before, after = rng.random(n) < skill, rng.random(n) < skill
        _, test = paired_mean(list(zip(before.astype(float), after.astype(float), strict=True)))
        rejected.append(test.p < 0.05)
    return _rate(rejected)


Row = tuple[str, str, int, float]


@cache
def measured() -> list[Row]:
    """(method, population, n, coverage or rejection rate), seeded."""
    rows: list[Row] = []
    for n in SIZES:
        rng = np.random.default_rng(n)
        for p in (0.1, 0.5, 0.85):
            rows.append(("Wilson (proportion)", f"p = {p}", n, proportion_coverage(p, n, rng)))
        for a, b in ((2, 5), (1, 1), (8, 1)):
            rows.append(
                ("skew-corrected t (mean)", f"Beta({a}, {b})", n, mean_coverage(a, b, n, rng))
            )
        for name, cells in F1_POPULATIONS.items():
            rows.append(("Dirichlet posterior (F1)", name, n, f1_coverage(cells, n, rng)))
        reject_f1, cover_f1 = paired_f1_rates(n, rng)
        reject_mean, cover_mean = paired_mean_rates(n, rng)
        rows += [
            ("permutation (F1 change): false positives", "equal skill", n, reject_f1),
            ("Dirichlet posterior (F1 change)", "equal skill", n, cover_f1),
            ("sign-flip (mean change): false positives", "no change", n, reject_mean),
            ("skew-corrected t (mean change)", "no change", n, cover_mean),
            ("exact McNemar: false positives", "same pass rate", n,
             paired_pass_fail_rejections(n, rng)),
        ]  # fmt: skip
    return rows


def _is_rejection(method: str) -> bool:
    return "false positives" in method


CHECKS: list[tuple[str, Callable[[float], bool]]] = [
    ("coverage >= 0.93", lambda value: value >= 0.93),
    ("rejections <= 0.06", lambda value: value <= 0.06),
]


@pytest.mark.slow
@pytest.mark.parametrize("row", range(len(SIZES) * 14))
def test_every_interval_covers_and_every_paired_test_keeps_its_size(row: int) -> None:
    method, population, n, value = measured()[row]
    name, holds = CHECKS[1] if _is_rejection(method) else CHECKS[0]
    assert holds(value), f"{method}, {population}, n = {n}: {value:.3f} ({name} fails)"


if __name__ == "__main__":
    print("| method | population | n = 20 | n = 50 | n = 200 |")
    print("|---|---|---|---|---|")
    table: dict[tuple[str, str], dict[int, float]] = {}
    for method, population, n, value in measured():
        table.setdefault((method, population), {})[n] = value
    for (method, population), by_n in table.items():
        cells = " | ".join(f"{by_n[n]:.3f}" for n in SIZES)
        print(f"| {method} | {population} | {cells} |")

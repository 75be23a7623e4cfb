"""The intervals' coverage and the paired tests' false-positive rates, by seeded
simulation on known populations at n = 20, 50 and 200.

Proportions' coverage is exact (every count weighted by its probability), and so is F1's
at n = 20 (every confusion matrix); the rest is simulated, 1,000 samples a cell. Every
95% interval must cover the true value at least 93% of the time among the samples that got
one, and the table shows beside it the share that got none (F1 refuses an interval
from fewer than 5 cases in its cells: coverage is conditional on getting one), and every
paired test must reject at most 6% of true nulls at the 5% level. Rows marked "for
contrast" show what a method the project does not use gives. ``python -m
tests.evals.test_coverage`` prints the table the README shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
from scipy import stats

from evals import Accuracy, CheckResult, Record
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


def _coverage(outcomes: list[bool | None]) -> Measured:
    """Coverage among the samples that got an interval, and the share that got none."""
    none = sum(o is None for o in outcomes) / len(outcomes)
    return Measured(_rate(outcomes) if none < 1 else float("nan"), none)


class Measured(float):
    """A coverage (or rejection rate) with the share of samples that got no interval."""

    none: float

    def __new__(cls, value: float, none: float = 0.0) -> Measured:
        made = super().__new__(cls, value)
        made.none = none
        return made


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
    return _coverage([_covers(*_bounds(mean(list(row), 0.0, 1.0)), truth) for row in draws])


def _record(case: str, passed: bool, cluster: str | None) -> Record:
    check = CheckResult(value=passed, expected=True, passed=passed)
    metadata = {} if cluster is None else {"cluster": cluster}
    return Record(suite="s", model="m", case=case, checks={"k": check}, metadata=metadata)


def clustered_coverage(n: int, rng: np.random.Generator, as_cases: bool = False) -> float:
    """n source requests, 4 forms each; a request's forms pass together more often than
    not (its own pass chance ~ Beta(1.5, 1)). Accuracy through the measure, with the
    forms clustered by request (or, for contrast, counted as cases)."""
    truth = 1.5 / 2.5
    found = []
    for _ in range(REPS // 4):
        records = []
        for request, chance in enumerate(rng.beta(1.5, 1.0, n)):
            for form, passed in enumerate(rng.random(4) < chance):
                cluster = None if as_cases else f"r{request}"
                records.append(_record(f"r{request}/{form}", bool(passed), cluster))
        [result] = Accuracy("k").compute(records)
        found.append(_covers(result.estimate.low, result.estimate.high, truth))
    return _coverage(found)


def tied_grades_rates(n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Judge grades 1-5 before and after, 60% unchanged, the changes skewed (-1 often, +1
    or +2 rarely), no change on average: rejections, and coverage of 0."""
    rejected, covered = [], []
    for _ in range(REPS // 2):
        before = rng.integers(1, 6, n).astype(float)
        after = before + rng.choice([0.0, -1.0, 1.0, 2.0], n, p=[0.6, 0.25, 0.05, 0.1])
        change, test = paired_mean(list(zip(before, after, strict=True)))
        rejected.append(test.p < 0.05)
        covered.append(_covers(change.low, change.high, 0.0))
    return _rate(rejected), _coverage(covered)


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
        return Measured(covered / given, 1 - given)
    found = []
    for tp, fp, fn, tn in rng.multinomial(n, cells, REPS):
        found.append(_covers(*_bounds(f1_interval(Counts(tp, fp, fn, tn))), truth))
    return _coverage(found)


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
    return _rate(rejected), _coverage(covered)


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
    return _rate(rejected), _coverage(covered)


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
        for p in (0.02, 0.1, 0.5, 0.85, 0.98):
            rows.append(
                ("Clopper-Pearson (proportion)", f"p = {p}", n, proportion_coverage(p, n, rng))
            )
        rows.append(("Clopper-Pearson over clusters (accuracy)", "4 related forms per request",
                     n, clustered_coverage(n, rng)))  # fmt: skip
        rows.append(("for contrast: forms counted as cases", "4 related forms per request",
                     n, clustered_coverage(n, rng, as_cases=True)))  # fmt: skip
        for a, b in ((2, 5), (1, 1), (8, 1)):
            rows.append(
                ("skew-corrected t (mean)", f"Beta({a}, {b})", n, mean_coverage(a, b, n, rng))
            )
        for name, cells in F1_POPULATIONS.items():
            rows.append(("Dirichlet posterior (F1)", name, n, f1_coverage(cells, n, rng)))
        reject_f1, cover_f1 = paired_f1_rates(n, rng)
        reject_mean, cover_mean = paired_mean_rates(n, rng)
        reject_tied, cover_tied = tied_grades_rates(n, rng)
        rows += [
            ("permutation (F1 change): false positives", "equal skill", n, reject_f1),
            ("Dirichlet posterior (F1 change)", "equal skill", n, cover_f1),
            ("sign-flip and t (mean change): false positives", "no change", n, reject_mean),
            ("hull of sign-flip and t (mean change)", "no change", n, cover_mean),
            ("sign-flip and t (mean change): false positives", "tied skewed grades, mean 0",
             n, reject_tied),
            ("hull of sign-flip and t (mean change)", "tied skewed grades, mean 0", n,
             cover_tied),
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
ROWS_PER_SIZE = 20


@pytest.mark.slow
@pytest.mark.parametrize("row", range(len(SIZES) * ROWS_PER_SIZE))
def test_every_interval_covers_and_every_paired_test_keeps_its_size(row: int) -> None:
    method, population, n, value = measured()[row]
    if method.startswith("for contrast"):
        assert value < 0.93, f"{method}, n = {n}: {value:.3f} (expected to undercover)"
        return
    name, holds = CHECKS[1] if _is_rejection(method) else CHECKS[0]
    assert holds(value), f"{method}, {population}, n = {n}: {value:.3f} ({name} fails)"


def test_the_table_has_the_rows_it_says() -> None:
    assert len(measured()) == len(SIZES) * ROWS_PER_SIZE


def _wilson(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    z = float(stats.norm.ppf(0.975))
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n * n)) / (1 + z**2 / n)
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def _wilson_modified(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Brown, Cai & DasGupta (2001): Poisson bounds for the 1-3 counts nearest an edge."""
    low, high = _wilson(x, n)
    edge = 2 if n <= 50 else 3
    near_0, near_n = (x >= 1) & (x <= edge), (x >= n - edge) & (x <= n - 1)
    low = np.where(near_0, stats.chi2.ppf(0.05, 2 * np.maximum(x, 1)) / (2 * n), low)
    high = np.where(near_n, 1 - stats.chi2.ppf(0.05, 2 * np.maximum(n - x, 1)) / (2 * n), high)
    return low, high


def _jeffreys(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    low = np.where(x > 0, stats.beta.ppf(0.025, x + 0.5, n - x + 0.5), 0.0)
    high = np.where(x < n, stats.beta.ppf(0.975, x + 0.5, n - x + 0.5), 1.0)
    return low, high


def _mid_p(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import brentq

    def tail(k: int, upper: bool) -> float:
        def f(p: float) -> float:
            beyond = stats.binom.sf(k, n, p) if upper else stats.binom.cdf(k - 1, n, p)
            return float(beyond + 0.5 * stats.binom.pmf(k, n, p) - 0.025)

        return brentq(f, 1e-12, 1 - 1e-12)

    low = [0.0 if k == 0 else tail(int(k), True) for k in x]
    high = [1.0 if k == n else tail(int(k), False) for k in x]
    return np.array(low), np.array(high)


def _ours(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    found = [proportion(int(k), n) for k in x]
    return np.array([e.low for e in found]), np.array([e.high for e in found])


PROPORTION_METHODS = {
    "Wilson": _wilson,
    "Wilson, modified boundaries": _wilson_modified,
    "Jeffreys": _jeffreys,
    "mid-p": _mid_p,
    "Clopper-Pearson (this project)": _ours,
}


def proportion_methods(sizes: tuple[int, ...] = (10, 20, 50, 100, 200)) -> dict[str, float]:
    """Each method's lowest exact coverage over p = 0.001 .. 0.999 and the sizes."""
    grid = np.linspace(0.001, 0.999, 999)
    worst = {}
    for name, method in PROPORTION_METHODS.items():
        lowest = 1.0
        for n in sizes:
            x = np.arange(n + 1)
            low, high = method(x, n)
            weights = stats.binom.pmf(x[None, :], n, grid[:, None])
            inside = (low[None, :] <= grid[:, None]) & (grid[:, None] <= high[None, :])
            lowest = min(lowest, float((weights * inside).sum(axis=1).min()))
        worst[name] = lowest
    return worst


def test_clopper_pearson_is_the_proportion_interval_that_keeps_093_everywhere() -> None:
    worst = proportion_methods((10, 20, 50))
    assert worst["Clopper-Pearson (this project)"] >= 0.95
    assert all(v < 0.93 for k, v in worst.items() if not k.startswith("Clopper"))


if __name__ == "__main__":
    import sys

    if "--proportions" in sys.argv:
        print("| method | lowest exact coverage, any p, n = 10-200 |\n|---|---|")
        for method, value in proportion_methods().items():
            print(f"| {method} | {value:.3f} |")
        raise SystemExit(0)
    print("| method | population | n = 20 | n = 50 | n = 200 | no interval (20 / 50 / 200) |")
    print("|---|---|---|---|---|---|")
    table: dict[tuple[str, str], dict[int, float]] = {}
    for method, population, n, value in measured():
        table.setdefault((method, population), {})[n] = value
    for (method, population), by_n in table.items():
        cells = " | ".join(f"{by_n[n]:.3f}" for n in SIZES)
        nones = [getattr(by_n[n], "none", 0.0) for n in SIZES]
        shown = " / ".join(f"{x:.2f}" for x in nones) if any(nones) else "–"
        print(f"| {method} | {population} | {cells} | {shown} |")

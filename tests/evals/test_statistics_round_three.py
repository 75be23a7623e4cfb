"""Statistics round three: Brier against the truth (scikit-learn), clusters of related
cases as one unit, a regression gate whose false-alarm rate is its P (Holm, as
statsmodels computes it), a paired mean change whose interval and test agree, and no
zero-width interval from float noise."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss
from statsmodels.stats.multitest import multipletests

from evals import Accuracy, Binary, CheckResult, Mean, Multiclass, Record, compare
from evals.compare import Comparison
from evals.gates import holm, regressions
from evals.measures import MetricDelta
from evals.metrics import mean, paired_mean


def record(
    case: str,
    value: object,
    expected: object,
    *,
    score: float | None = None,
    cluster: str | None = None,
    check: str = "gate",
    epoch: int = 0,
) -> Record:
    result = CheckResult(value=value, expected=expected, passed=value == expected, score=score)  # type: ignore[arg-type]
    metadata = {} if cluster is None else {"cluster": cluster}
    return Record(
        suite="s", model="m", case=case, epoch=epoch, checks={check: result}, metadata=metadata
    )


def by_name(results: list) -> dict:  # type: ignore[type-arg]
    return {r.name: r for r in results}


def test_an_always_wrong_confident_gate_has_scikit_learns_brier_score() -> None:
    # the gate says the opposite of the truth, confident of its own answer
    truth = [True, False, True, False]
    said = [not t for t in truth]
    p_positive = [0.85 if s else 0.15 for s in said]
    found = by_name(
        Binary("gate").compute(
            [
                record(f"c{i}", s, t, score=p)
                for i, (t, s, p) in enumerate(zip(truth, said, p_positive, strict=True))
            ]
        )
    )
    expected = brier_score_loss(truth, p_positive)
    assert expected == pytest.approx(0.7225)
    assert found["gate.brier"].estimate.value == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(20))
def test_binary_and_multiclass_brier_equal_scikit_learns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 80))
    truth = rng.random(n) < 0.4
    scores = rng.random(n).round(2)
    said = scores >= 0.5
    rows = [
        record(f"c{i:03d}", bool(s), bool(t), score=float(p))
        for i, (t, s, p) in enumerate(zip(truth, said, scores, strict=True))
    ]
    found = by_name(Binary("gate").compute(rows))
    assert found["gate.brier"].estimate.value == pytest.approx(brier_score_loss(truth, scores))
    labels = ["a", "b", "c"]
    want = rng.choice(labels, n)
    got = np.where(rng.random(n) < 0.6, want, rng.choice(labels, n))
    confidence = rng.random(n).round(2)
    rows = [
        record(f"c{i:03d}", str(g), str(w), score=float(c))
        for i, (g, w, c) in enumerate(zip(got, want, confidence, strict=True))
    ]
    found = by_name(Multiclass("gate", labels=labels).compute(rows))
    right = got == want
    assert found["gate.brier"].estimate.value == pytest.approx(brier_score_loss(right, confidence))


def test_eight_forms_of_two_requests_are_two_units_not_sixteen() -> None:
    # 2 requests x 8 forms fixed, 6 requests x 8 forms unchanged: the README's screen case
    before, after = [], []
    for request in range(8):
        for form in range(8):
            case, cluster = f"r{request}/v{form}", f"r{request}"
            fixed = request < 2
            before.append(record(case, not fixed, True, cluster=cluster))
            after.append(record(case, True, True, cluster=cluster))
    found = by_name(Accuracy("gate").compute(after))
    assert found["gate.accuracy"].estimate.n == 8
    [delta, *_] = compare(before, after, {"s": [Accuracy("gate")]}, ("a", "b")).deltas
    assert delta.pairs == 8
    assert delta.p_value == pytest.approx(0.5)  # 2 up, 0 down at the request level
    unclustered = [r.model_copy(update={"metadata": {}}) for r in before]
    [naive, *_] = compare(
        unclustered, [r.model_copy(update={"metadata": {}}) for r in after],
        {"s": [Accuracy("gate")]}, ("a", "b"),
    ).deltas  # fmt: skip
    assert naive.pairs == 64
    assert naive.p_value < 1e-4


def test_a_cluster_weighs_one_case_whatever_its_size_and_repeats() -> None:
    # cluster x: 3 cases all right; cluster y: 1 case wrong, in 2 repeats
    rows = [record(f"x{i}", True, True, cluster="x") for i in range(3)]
    rows += [record("y0", False, True, cluster="y", epoch=e) for e in range(2)]
    found = by_name(Accuracy("gate").compute(rows) + Mean("gate").compute([]))
    assert found["gate.accuracy"].estimate.value == 0.5
    assert found["gate.accuracy"].estimate.n == 2
    binary = by_name(Binary("gate").compute(rows))
    assert binary["gate.accuracy"].estimate.n == 2


def test_a_suites_cluster_key_reaches_the_records() -> None:
    from evals._runner import clustered
    from evals.suite import Suite

    async def task(llm: object, text: str, context: object) -> str:
        return text

    suite = Suite(name="s", dataset=lambda: None, task=task, cluster="source")  # type: ignore[arg-type,return-value]
    assert clustered(suite, {"source": 7, "x": 1}) == {"source": 7, "x": 1, "cluster": "7"}
    assert clustered(suite, {"x": 1}) == {"x": 1}


@pytest.mark.parametrize("seed", range(10))
def test_holm_is_statsmodels_holm(seed: int) -> None:
    p = list(np.random.default_rng(seed).random(7) ** 3)
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def _null_comparison(n: int, metrics: int, rng: np.random.Generator) -> Comparison:
    """Six pass/fail metrics over the same n cases, before and after, nothing changed
    (each case's chance the same on both sides)."""
    deltas = []
    for m in range(metrics):
        skill = rng.random(n)
        before = (rng.random(n) < skill).astype(float)
        after = (rng.random(n) < skill).astype(float)
        change, test = paired_mean(list(zip(before, after, strict=True)))
        deltas.append(
            MetricDelta(
                name=f"k{m}", before=before.mean(), after=after.mean(), delta=change,
                p_value=test.p, test=test.name, pairs=n,
            )
        )  # fmt: skip
    return Comparison(before="a", after="b", pairs=n, unpaired=0, regressions=[], fixes=[],
                      deltas=deltas)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("n", [20, 50, 200])
def test_the_regression_gate_fails_at_most_p_of_runs_where_nothing_changed(n: int) -> None:
    rng = np.random.default_rng(n)
    runs = 1000
    alarms = sum(bool(regressions([_null_comparison(n, 6, rng)], 0.05)[0]) for _ in range(runs))
    per_metric = sum(
        any(d.worse and d.p_value < 0.05 for d in _null_comparison(n, 6, rng).deltas)
        for _ in range(runs)
    )
    assert alarms / runs <= 0.05
    assert per_metric > alarms  # what testing each metric at P did


def test_the_gate_says_which_rule_it_used_and_when_it_cannot_fire() -> None:
    before = [record(f"c{i}", False, True) for i in range(4)]
    after = [record(f"c{i}", True, True) for i in range(4)]
    comparison = compare(after, before, {"s": [Accuracy("gate")]}, ("a", "b"))
    failed, notes = regressions([comparison], 0.05)
    assert not failed  # 4 of 4 worse: p = 0.125, and no 4 cases can give less
    assert "Holm over 2 compared metrics at P = 0.05" in notes[0]
    assert "cannot fire on 4 paired cases" in notes[1]
    _, notes = regressions([comparison], 0.05, primary="gate.accuracy")
    assert "primary metric gate.accuracy" in notes[0]


def test_holm_keeps_a_clear_regression() -> None:
    before = [record(f"c{i:02d}", True, True) for i in range(30)]
    after = [record(f"c{i:02d}", i >= 12, True) for i in range(30)]
    comparison = compare(before, after, {"s": [Accuracy("gate")]}, ("a", "b"))
    failed, notes = regressions([comparison], 0.05)
    assert len(failed) == 1
    assert "Holm-adjusted p" in failed[0]
    assert len(notes) == 1


def test_values_equal_within_float_noise_get_no_zero_width_interval() -> None:
    assert str(mean([0.3, 0.1 + 0.2, 0.3])) == "0.30 (n=3, no interval)"
    change, test = paired_mean([(x, x + 1 / 30) for x in np.linspace(0.1, 0.6, 10)])
    assert change.low is None
    assert change.high is None
    assert test.p < 0.01  # all ten moved up: that is still evidence


def _grades(n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Judge grades 1-5, 60% unchanged, the rest skewed (-1 often, +1 or +2 rarely),
    mean change 0."""
    before = rng.integers(1, 6, n).astype(float)
    change = rng.choice([0.0, -1.0, 1.0, 2.0], n, p=[0.6, 0.25, 0.05, 0.1])
    return list(zip(before, before + change, strict=True))


@pytest.mark.slow
def test_the_paired_mean_interval_covers_tied_skewed_grades_and_agrees_with_its_test() -> None:
    rng = np.random.default_rng(7)
    covered = given = agree = 0
    for _ in range(400):
        change, test = paired_mean(_grades(20, rng))
        if change.low is None or change.high is None:
            continue
        given += 1
        holds = change.low <= 0 <= change.high
        covered += holds
        agree += holds == (test.p >= 0.05)
    assert given >= 390
    assert covered / given >= 0.93
    assert agree == given


def test_the_paired_tests_name_their_nulls() -> None:
    _, pass_fail = paired_mean([(0.0, 1.0), (1.0, 1.0), (0.0, 0.0)])
    assert pass_fail.name == "exact McNemar"
    _, graded = paired_mean([(1.0, 3.0), (2.0, 2.5), (4.0, 4.0), (3.0, 2.0)])
    assert graded.name == "sign-flip (exact) and t"

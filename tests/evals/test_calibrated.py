"""The abstaining gate: its threshold comes from the dev split only, its rates from the
test split only, each case weighing 1."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from evals._records import Record
from evals.calibrated import (
    Abstention,
    FlagAtRate,
    GateOnDev,
    accuracy_threshold,
    budget_threshold,
    calibrate,
)
from evals.checks import CheckResult


def record(case: str, split: str, right: bool, confidence: float, epoch: int = 0) -> Record:
    result = CheckResult(value=right, expected=True, passed=right, score=confidence)
    return Record(suite="s", model="m", case=case, epoch=epoch, split=split, checks={"c": result})


DEV = [
    record("d1", "dev", True, 0.9),
    record("d2", "dev", True, 0.8),
    record("d3", "dev", False, 0.7),
    record("d4", "dev", False, 0.6),
    record("d5", "dev", True, 0.5),
]
"""Net right minus wrong when acting at >= t: 0.9 -> 1, 0.8 -> 2, 0.7 -> 1, 0.6 -> 0,
0.5 -> 1, 0 -> 1: the threshold is 0.8."""


def test_the_threshold_maximises_right_minus_wrong_on_dev():
    assert calibrate(DEV, "c") == 0.8


def test_of_equal_nets_the_highest_threshold_is_kept():
    tied = [record("a", "dev", True, 0.9), record("b", "dev", False, 0.8),
            record("c", "dev", True, 0.7)]  # fmt: skip
    # 0.9 -> 1, 0.8 -> 0, 0.7 -> 1, 0 -> 1: 0.9 acts on the fewest for the same net
    assert calibrate(tied, "c") == 0.9


def test_acting_on_every_case_or_on_none_are_candidates():
    right = [record("a", "dev", True, 0.2), record("b", "dev", True, 0.1)]
    assert calibrate(right, "c") == 0.1  # every case (the highest threshold that does)
    wrong = [record("a", "dev", False, 0.2), record("b", "dev", False, 0.1)]
    threshold = calibrate(wrong, "c")
    assert threshold is not None
    assert threshold > 0.2  # none


def test_rates_on_test_at_the_dev_threshold():
    test = [
        record("t1", "test", True, 0.95),  # right
        record("t2", "test", False, 0.85),  # wrong
        record("t3", "test", True, 0.5),  # abstained
        record("t4", "test", False, 0.1),  # abstained
    ]
    found = {m.name: m.estimate for m in Abstention("c", "g").compute(DEV + test)}
    assert found["g.threshold"].value == 0.8
    assert (found["g.right"].value, found["g.wrong"].value, found["g.abstained"].value) == (
        0.25,
        0.25,
        0.5,
    )
    assert found["g.right"].n == 4
    # the interval is Clopper-Pearson's, as statsmodels computes it
    proportion_confint = pytest.importorskip("statsmodels.stats.proportion").proportion_confint
    low, high = proportion_confint(1, 4, method="beta")
    assert (found["g.right"].low, found["g.right"].high) == pytest.approx((low, high))


def test_test_cases_never_move_the_threshold():
    test = [record(f"t{i}", "test", i % 2 == 0, i / 10) for i in range(10)]
    other = [record(f"t{i}", "test", True, 0.99) for i in range(10)]
    one = {m.name: m.estimate.value for m in Abstention("c", "g").compute(DEV + test)}
    two = {m.name: m.estimate.value for m in Abstention("c", "g").compute(DEV + other)}
    assert one["g.threshold"] == two["g.threshold"] == 0.8


def test_repeats_share_their_case_and_errors_do_not_count():
    test = [
        record("t1", "test", True, 0.9, epoch=0),
        record("t1", "test", False, 0.9, epoch=1),  # half right, half wrong
        record("t2", "test", True, 0.9),
        Record(suite="s", model="m", case="t3", split="test", error="boom"),
    ]
    found = {m.name: m.estimate for m in Abstention("c", "g").compute(DEV + test)}
    assert found["g.right"].n == 2
    assert found["g.right"].value == pytest.approx(0.75)


def test_a_group_without_both_splits_gets_no_rates():
    assert Abstention("c", "g").compute(DEV) == []
    assert Abstention("c", "g").compute([record("t", "test", True, 1.0)]) == []


def test_the_paired_comparison_uses_each_runs_own_threshold():
    before = DEV + [record(f"t{i}", "test", i < 3, 0.9) for i in range(8)]  # 3 right, 5 wrong
    after = DEV + [record(f"t{i}", "test", True, 0.9) for i in range(8)]  # 8 right
    deltas = {d.name: d for d in Abstention("c", "g").compare(before, after)}
    assert (deltas["g.right"].before, deltas["g.right"].after) == (3 / 8, 1.0)
    assert deltas["g.wrong"].after == 0.0
    # 5 discordant cases, all one way: exact McNemar is the two-sided binomial test
    assert deltas["g.right"].p_value == pytest.approx(binomtest(5, 5, 0.5).pvalue)
    assert deltas["g.right"].p_value > 0


def flag(case: str, split: str, positive: bool, score: float, other: bool = False) -> Record:
    checks = {
        "m": CheckResult(value=score >= 0.5, expected=positive, passed=True, score=score),
        "s": CheckResult(value=other, expected=positive, passed=other == positive),
    }
    return Record(suite="s", model="m", case=case, split=split, checks=checks)


NEGATIVES = [flag(f"n{i}", "dev", False, i / 20) for i in range(20)]  # scores 0.00 .. 0.95


def test_the_budget_threshold_is_the_lowest_within_the_false_positive_budget():
    # at 0.95 one negative of 20 is flagged (0.05): the budget; at 0.90 two (0.10)
    assert budget_threshold(NEGATIVES, "m", 0.05) == 0.95
    assert budget_threshold(NEGATIVES, "m", 0.10) == 0.90
    # no budget: above every score, nothing is flagged
    threshold = budget_threshold(NEGATIVES, "m", 0.0)
    assert threshold is not None
    assert threshold > 0.95


def test_rates_on_test_and_what_the_layer_adds_to_another():
    test = [
        flag("p1", "test", True, 0.99, other=True),  # both layers flag it
        flag("p2", "test", True, 0.97),  # only this layer
        flag("p3", "test", True, 0.10),  # neither
        flag("q1", "test", False, 0.96),  # a false positive of this layer
        flag("q2", "test", False, 0.20),
    ]
    measure = FlagAtRate("m", "g", 0.05, beside="s")
    found = {m.name: m.estimate.value for m in measure.compute(NEGATIVES + test)}
    assert found["g.threshold"] == 0.95
    assert found["g.detection_rate"] == pytest.approx(2 / 3)
    assert found["g.false_positive_rate"] == 0.5
    assert found["g.added_detection_rate"] == 0.5  # p2 of p2, p3
    assert found["g.added_false_positive_rate"] == 0.5
    # test scores never choose the threshold
    shifted = [flag(r.case, "test", bool(r.checks["m"].expected), 0.0) for r in test]
    assert {m.name: m.estimate.value for m in measure.compute(NEGATIVES + shifted)}[
        "g.threshold"
    ] == 0.95


def test_the_layer_compared_at_each_runs_own_threshold():
    before = NEGATIVES + [flag(f"p{i}", "test", True, 0.5) for i in range(6)]
    after = NEGATIVES + [flag(f"p{i}", "test", True, 0.99) for i in range(6)]
    deltas = {d.name: d for d in FlagAtRate("m", "g").compare(before, after)}
    assert (deltas["g.detection_rate"].before, deltas["g.detection_rate"].after) == (0.0, 1.0)
    assert deltas["g.detection_rate"].p_value == pytest.approx(binomtest(6, 6, 0.5).pvalue)


def test_without_scores_there_is_no_calibrated_layer():
    unscored = [Record(suite="s", model="m", case="a", split="dev", checks={
        "m": CheckResult(value=False, expected=False, passed=True)})]  # fmt: skip
    assert FlagAtRate("m", "g").compute([*unscored, flag("p", "test", True, 0.9)]) == []


def gate(case: str, split: str, event: bool, score: float) -> Record:
    result = CheckResult(value=score >= 0.7, expected=event, passed=(score >= 0.7) == event,
                         score=score)  # fmt: skip
    return Record(suite="s", model="m", case=case, split=split, checks={"g": result})


def test_a_gate_threshold_chosen_on_dev_for_accuracy_and_reported_on_test():
    dev = [gate("a", "dev", True, 0.6), gate("b", "dev", True, 0.55), gate("c", "dev", False, 0.5),
           gate("d", "dev", False, 0.0)]  # fmt: skip
    # at 0.55 all four are right; 0.6 loses b; 0.5 wrongly passes c
    assert accuracy_threshold(dev, "g") == 0.55
    test = [gate("t1", "test", True, 0.58), gate("t2", "test", False, 0.9),
            gate("t3", "test", False, 0.0)]  # fmt: skip
    found = {m.name: m.estimate.value for m in GateOnDev("g", "gd").compute(dev + test)}
    assert found == {"gd.threshold": 0.55, "gd.accuracy": pytest.approx(2 / 3)}
    # a model that says no to everything on dev gets a threshold that passes nothing
    noes = [gate("a", "dev", False, 0.0), gate("b", "dev", False, 0.8)]
    threshold = accuracy_threshold(noes, "g")
    assert threshold is not None
    assert threshold > 0.8

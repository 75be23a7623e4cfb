"""The measures and comparisons on records built by hand: the case is the unit, one rule
for errors and n/a, nothing non-finite folded into a number, p never 0."""

from __future__ import annotations

import math

import pytest

from evals import Accuracy, Binary, CheckResult, Mean, Record, compare
from evals.compare import ComparisonError
from evals.measures import MetricDelta, MetricResult


def record(
    case: str,
    value: object,
    expected: object,
    *,
    epoch: int = 0,
    error: str | None = None,
    check: str = "gate",
    suite: str = "s",
    score: float | None = None,
) -> Record:
    result = CheckResult(value=value, expected=expected, passed=value == expected, score=score)  # type: ignore[arg-type]
    return Record(
        suite=suite,
        model="m",
        case=case,
        epoch=epoch,
        checks={} if error else {check: result},
        error=error,
    )


def by_name(results: list[MetricResult]) -> dict[str, MetricResult]:
    return {r.name: r for r in results}


def deltas(found: list[MetricDelta]) -> dict[str, MetricDelta]:
    return {d.name: d for d in found}


def cases(n: int, right: int, positives: int) -> list[tuple[str, bool, bool]]:
    """(case id, truth, said): ``right`` of ``n`` decisions right, ``positives`` true."""
    rows = []
    for i in range(n):
        truth = i < positives
        rows.append((f"c{i:02d}", truth, truth if i < right else not truth))
    return rows


def test_identical_repeats_give_the_intervals_and_p_values_of_one_epoch() -> None:
    before_rows, after_rows = cases(20, 12, 10), cases(20, 18, 10)

    def records(rows: list[tuple[str, bool, bool]], epochs: int) -> list[Record]:
        return [record(c, said, truth, epoch=e) for c, truth, said in rows for e in range(epochs)]

    measures = {"s": [Binary("gate"), Accuracy("gate")]}
    one = compare(records(before_rows, 1), records(after_rows, 1), measures, ("a", "b"))
    four = compare(records(before_rows, 4), records(after_rows, 4), measures, ("a", "b"))
    assert [d.model_dump() for d in four.deltas] == [d.model_dump() for d in one.deltas]
    for measure in measures["s"]:
        assert measure.compute(records(after_rows, 4)) == measure.compute(records(after_rows, 1))
    assert (
        by_name(Accuracy("gate").compute(records(after_rows, 4)))["gate.accuracy"].estimate.n == 20
    )


def test_an_errored_case_is_left_out_of_every_paired_metric_alike_and_counted() -> None:
    rows = cases(20, 20, 10)
    before = [record(c, said, truth) for c, truth, said in rows]
    after = [
        record(c, said, truth, error="EndpointError: timed out" if truth and i < 5 else None)
        for i, (c, truth, said) in enumerate(rows)
    ]
    found = deltas(compare(before, after, {"s": [Binary("gate")]}, ("a", "b")).deltas)
    accuracy, f1 = found["gate.accuracy"], found["gate.f1"]
    assert accuracy.pairs == f1.pairs == 15
    assert accuracy.left_out == f1.left_out == {"errored": 5}
    assert (accuracy.before, accuracy.after) == (1.0, 1.0)
    assert (f1.before, f1.after) == (1.0, 1.0)  # an error is not a true negative
    assert found["usage.error_rate"].after == 0.25  # the error rate carries the errors
    after_f1 = by_name(Binary("gate").compute(after))["gate.f1"].estimate
    assert after_f1.value == 1.0
    assert after_f1.n == 15


def test_a_check_that_does_not_apply_on_one_side_is_left_out_as_n_a() -> None:
    before = [record("a", True, True), record("b", True, True), record("c", False, True)]
    after = [record("a", True, True), record("b", True, None), record("c", True, True)]
    after[1].checks["gate"].passed = None
    found = deltas(compare(before, after, {"s": [Accuracy("gate")]}, ("a", "b")).deltas)
    assert found["gate.accuracy"].pairs == 2
    assert found["gate.accuracy"].left_out == {"n/a": 1}


def test_zero_shared_cases_is_an_error_not_an_empty_comparison() -> None:
    with pytest.raises(ComparisonError, match="no case is in both runs"):
        compare([record("a", 1, 1, suite="x")], [record("a", 1, 1, suite="y")], {}, ("a", "b"))


def test_a_mean_with_no_spread_says_no_interval() -> None:
    found = Mean("gate").compute([record(c, 0.0, None) for c in "abc"])
    assert str(found[0].estimate) == "0.00 (n=3, no interval)"


def test_two_cases_never_give_p_zero_in_a_comparison() -> None:
    before = [record("a", 0.2, None), record("b", 0.1, None)]
    after = [record("a", 0.9, None), record("b", 0.8, None)]
    found = deltas(compare(before, after, {"s": [Mean("gate")]}, ("a", "b")).deltas)
    assert found["gate.mean"].p_value == 0.5
    assert found["gate.mean"].p_shown == "0.5"


def test_roc_auc_refuses_scores_that_are_not_numbers() -> None:
    rows = [record("a", True, True, score=math.nan), record("b", False, False, score=0.2)]
    with pytest.raises(ValueError, match="not a finite number"):
        Binary("gate").compute(rows)

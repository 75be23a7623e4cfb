"""The evals' metric functions on fixed predictions with known answers."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.metrics import (
    Counts,
    binary,
    f1_interval,
    f1_score,
    mean,
    paired_f1,
    paired_mean,
    percentile,
    proportion,
    roc_auc,
    threshold_sweep,
)


def test_clopper_pearson_interval_matches_the_textbook_value() -> None:
    estimate = proportion(8, 10)
    assert estimate.value == 0.8
    assert (round(estimate.low, 3), round(estimate.high, 3)) == (0.444, 0.975)
    assert (proportion(0, 20).low, proportion(20, 20).high) == (0.0, 1.0)


def test_binary_metrics_on_a_known_confusion() -> None:
    truth = [True, True, True, False, False, False, False, True]
    predicted = [True, True, False, True, False, False, False, True]
    counts = Counts.of(truth, predicted)
    scores = binary(counts)
    assert counts == Counts(3, 1, 1, 3)
    assert scores["accuracy"].value == 0.75
    assert scores["precision"].value == 0.75
    assert scores["recall"].value == 0.75
    assert scores["f1"].value == 0.75
    assert scores["f1"].low is not None
    assert scores["f1"].low <= 0.75 <= scores["f1"].high


def test_an_absent_class_gives_undefined_metrics_not_zeros() -> None:
    scores = binary(Counts.of([False, False, False], [False, False, False]))
    assert scores["accuracy"].value == 1.0
    assert scores["recall"].value is None  # no positives to recall
    assert scores["precision"].value is None  # nothing predicted positive
    assert scores["f1"].value is None
    assert roc_auc([False, False], [0.1, 0.9]) is None


def test_no_cases_at_all() -> None:
    scores = binary(Counts())
    assert scores["accuracy"].value is None
    assert scores["accuracy"].n == 0
    assert percentile([], 50) is None


def test_roc_auc_counts_ties_as_half() -> None:
    assert roc_auc([True, False], [0.9, 0.1]) == 1.0
    assert roc_auc([True, False], [0.1, 0.9]) == 0.0
    assert roc_auc([True, True, False], [0.5, 0.9, 0.5]) == 0.75


def test_the_sweep_finds_the_threshold_that_maximises_f1() -> None:
    truth = [True, True, False, False]
    scores = [0.9, 0.6, 0.5, 0.0]
    sweep = threshold_sweep(truth, scores, steps=10)
    by_threshold = {row["threshold"]: row for row in sweep}
    assert by_threshold[0.5]["f1"] == pytest.approx(0.8)  # 0.5 lets one negative through
    assert by_threshold[0.6]["f1"] == 1.0
    assert by_threshold[1.0]["recall"] == 0.0


def test_a_single_value_has_no_interval_and_says_so() -> None:
    estimate = mean([0.5])
    assert (estimate.value, estimate.low, estimate.high) == (0.5, None, None)
    assert str(estimate) == "0.50 (n=1, no interval)"
    assert str(mean([])) == "n/a"


def test_percentiles_interpolate() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == pytest.approx(9.55)


def test_copied_schema_text_is_found_in_any_field_and_only_there() -> None:
    from evals.copying import copied_fields
    from patterns.chain import EventExtraction

    copied = {
        "description": "The request restated in one short sentence. Lunch with Ana.",
        "is_calendar_event": True,
        "confidence_percent": 90,
    }
    own_words = {**copied, "description": "Lunch with Ana on Friday at noon."}
    assert copied_fields(copied, [EventExtraction]) == ["description"]
    assert copied_fields(own_words, [EventExtraction]) == []


def test_mcnemar_matches_the_exact_binomial_test() -> None:
    from evals.metrics import mcnemar

    assert mcnemar([False] * 5, [True] * 5) == 2 * 0.5**5  # five fixes, no break
    assert mcnemar([True, False], [True, False]) == 1.0  # nothing changed
    assert round(mcnemar([False] * 6 + [True], [True] * 6 + [False]), 4) == 0.125


@pytest.mark.parametrize(
    ("message", "right"),
    [
        ("Booked: Lunch with Ana on Thursday, November 26 at 12:00.", True),
        ("See you Thursday at noon!", True),
        ("Your meeting is on 2026-11-26 at 12pm.", True),
        ("Your meeting is on Thursday.", False),  # no time
        ("Booked for 12:00 on Friday.", False),  # the wrong day
    ],
)
def test_a_confirmation_must_state_the_booked_date_and_time(message: str, right: bool) -> None:
    from datetime import datetime

    from evals.suites.e2e import states_date_and_time

    assert states_date_and_time(message, datetime(2026, 11, 26, 12, 0)) is right


def test_the_router_effect_must_be_exactly_the_expected_change() -> None:
    from evals.suites.e2e import ChangeExpected, E2EExpected, RouterOutput, effect_right, seeded

    expected = E2EExpected(
        calendar_event=False, route="modify_event", safe=True,
        change=ChangeExpected(event="evt-6", add=["Dana", "Eli"]),
    )  # fmt: skip
    retro = next(e for e in seeded().events if e.id == "evt-6")
    done = retro.model_copy(update={"participants": ["Lee", "Dana", "Eli"]})
    half = retro.model_copy(update={"participants": ["Lee", "Dana"]})
    other = next(e for e in seeded().events if e.id == "evt-1")

    def out(changed: list, added: list | None = None) -> RouterOutput:  # type: ignore[type-arg]
        return RouterOutput(
            outcome="handled",
            route="modify_event",
            description="",
            added=added or [],
            changed=changed,
            removed=[],
        )

    assert effect_right(expected, out([done]), "")[0]
    assert not effect_right(expected, out([half]), "")[0]
    assert not effect_right(expected, out([done, other]), "")[0]


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5).map(lambda v: v / 5)), max_size=40))
def test_roc_auc_from_ranks_is_the_pairwise_definition(cases: list[tuple[bool, float]]) -> None:
    truth, scores = [t for t, _ in cases], [s for _, s in cases]
    positives = [s for t, s in cases if t]
    negatives = [s for t, s in cases if not t]
    if not positives or not negatives:
        assert roc_auc(truth, scores) is None
        return
    pairwise = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    assert roc_auc(truth, scores) == pytest.approx(pairwise / (len(positives) * len(negatives)))


def test_f1_has_no_interval_from_too_few_cases_and_never_a_zero_width_one() -> None:
    assert str(f1_interval(Counts(1, 0, 0, 0))) == "1.00 (n=1, no interval)"
    assert f1_interval(Counts(4, 0, 0, 0)).low is None
    perfect = f1_interval(Counts(10, 0, 0, 10))
    assert perfect.low is not None
    assert perfect.low < perfect.high == 1.0  # type: ignore[operator]
    none_right = f1_interval(Counts(0, 4, 4, 0))
    assert none_right.value == 0
    assert none_right.low == 0
    assert none_right.high is not None
    assert none_right.high > 0


def test_a_mean_with_no_spread_has_no_interval() -> None:
    assert str(mean([0.0, 0.0, 0.0])) == "0.00 (n=3, no interval)"


def test_values_that_are_not_finite_or_outside_the_scale_are_refused() -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        mean([float("nan"), 0.5])
    with pytest.raises(ValueError, match="outside the scale"):
        mean([4.0, 3.0], 0.0, 1.0)
    with pytest.raises(ValueError, match="not a finite number"):
        roc_auc([True, False], [float("nan"), 0.2])


def test_paired_f1_and_mean_over_the_same_cases() -> None:
    rng = random.Random(7)
    truth = [rng.random() < 0.5 for _ in range(200)]
    before = [(t, t if rng.random() < 0.6 else not t) for t in truth]
    after = [(t, t if rng.random() < 0.85 else p) for t, p in before]  # mostly fixed

    def cells(pairs: list[tuple[bool, bool]]) -> list[Counts]:
        return [Counts.of([t], [p]) for t, p in pairs]

    delta, test = paired_f1(cells(before), cells(after))
    assert delta.value == pytest.approx(f1_score(after) - f1_score(before))  # type: ignore[operator]
    assert delta.low is not None
    assert delta.high is not None
    assert 0 < delta.low < delta.value < delta.high
    assert test.p < 0.01
    assert test.p >= 1 / 2001  # never 0
    same, same_test = paired_f1(cells(before), cells(before))
    assert same.value == 0
    assert same_test.p == 1.0

    values = [(x, x + 0.1 + rng.gauss(0, 0.05)) for x in (rng.random() for _ in range(300))]
    moved, moved_test = paired_mean(values)
    assert moved.value == pytest.approx(0.1, abs=0.01)
    assert moved.low is not None
    assert moved.high is not None
    assert moved.low < 0.1 < moved.high
    assert moved_test.p < 0.01
    assert str(moved_test) == "< 0.0005"
    noise, noise_test = paired_mean([(x, x + rng.gauss(0, 0.05)) for x, _ in values])
    assert noise.low is not None
    assert noise.low < 0 < (noise.high or 0)
    assert noise_test.p > 0.05


def test_two_cases_never_give_p_zero() -> None:
    _, test = paired_mean([(0.2, 0.9), (0.1, 0.8)])
    assert test.p == 0.5  # two cases, both improved: 2 of 4 sign assignments as extreme
    assert test.name == "sign-flip (exact)"

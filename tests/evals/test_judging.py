"""The judge checked: defects made in code from a good document, the share of pairs a
judge orders right (a judge that reads the document scores high, one that cannot tell
scores about a half), and agreement with human labels against scipy and scikit-learn."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from evals import CheckResult, Criterion, Judge, Record
from evals.checks import CheckContext
from evals.data import Case
from evals.judging import DEFECTS, JudgeValidity, JudgeValidityCheck, agreement, defective
from patterns import Trace

SECTIONS = [
    "Design docs let a small team agree before it builds.\n\nThey are cheap to write.",
    "A good one states the problem, the options and the choice, in a page or two.",
    "Review it with the people who will maintain the code, then keep it short and current.",
]


@pytest.mark.parametrize("kind", DEFECTS)
def test_each_defect_changes_the_document_the_same_way_every_time(kind: str) -> None:
    broken = defective(SECTIONS, kind)
    assert broken != SECTIONS
    assert broken == defective(SECTIONS, kind)
    assert [s for s in SECTIONS] == SECTIONS  # the intact document is not touched


def test_the_defects_are_what_they_say() -> None:
    assert sorted(defective(SECTIONS, "shuffled")) == sorted(SECTIONS)
    assert len(defective(SECTIONS, "dropped")) == len(SECTIONS) - 1
    truncated = defective(SECTIONS, "truncated")
    assert sum(len(s) for s in truncated) < sum(len(s) for s in SECTIONS)
    assert "Design docs let a small team agree" in defective(SECTIONS, "repeated")[1]
    assert "Sourdough" in defective(SECTIONS, "off_topic")[1]
    with pytest.raises(ValueError, match="at least two sections"):
        defective(SECTIONS[:1], "dropped")
    with pytest.raises(ValueError, match="unknown defect"):
        JudgeValidityCheck("v", Judge("j", text=str, rubric=[Criterion(name="c", description="d")]),
                           sections=list, defects=["typo"])  # fmt: skip


class Reader(Judge[Any]):
    """A judge that grades what a careful reader would: order, completeness, topic."""

    async def grade(self, text: str, brief: str, judge: Any, trace: Trace) -> float:
        intact = "\n\n".join(SECTIONS)
        if text == intact:
            return 0.9
        return 0.4


def _records(judge: Judge[Any], cases: int) -> list[Record]:
    check = JudgeValidityCheck("validity", judge, sections=lambda output: output)
    found = []
    for i in range(cases):
        context = CheckContext(case=Case(id=f"c{i}", input="brief"), judge=None, trace=Trace())  # type: ignore[arg-type]
        result = asyncio.run(check.run(SECTIONS, context))
        found.append(Record(suite="s", model="m", case=f"c{i}", checks={"validity": result}))
    return found


def test_a_judge_that_reads_orders_every_pair_right() -> None:
    reader = Reader("j", text=str, rubric=[Criterion(name="c", description="d")])
    results = {r.name: r.estimate for r in JudgeValidity("validity").compute(_records(reader, 8))}
    assert results["validity.all"].value == 1.0
    assert all(results[f"validity.{k}"].value == 1.0 for k in DEFECTS)
    assert results["validity.all"].n == 8
    low = results["validity.all"].low
    assert low is not None
    assert low < 1.0  # eight cases cannot prove perfection


def test_a_tie_counts_half_and_records_without_pairs_are_left_out() -> None:
    tie = CheckResult(value={"dropped": [0.5, 0.5], "shuffled": [0.2, 0.8]})
    junk = CheckResult(value={"dropped": "high"})
    records = [
        Record(suite="s", model="m", case="a", checks={"v": tie}),
        Record(suite="s", model="m", case="b", checks={"v": junk}),
        Record(suite="s", model="m", case="c", error="boom"),
    ]
    results = {r.name: r.estimate for r in JudgeValidity("v").compute(records)}
    assert results["v.dropped"].value == 0.5
    assert results["v.shuffled"].value == 0.0
    assert results["v.all"].value == 0.25
    assert results["v.all"].n == 1


@pytest.mark.parametrize("seed", range(10))
def test_spearman_agreement_is_scipys_with_a_fisher_interval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    human = rng.integers(1, 6, 40).astype(float)
    judge = np.clip(human + rng.integers(-1, 2, 40), 1, 5)
    found = agreement(list(human), list(judge))
    assert found.value == pytest.approx(stats.spearmanr(human, judge).statistic)
    assert found.low is not None
    assert found.high is not None
    assert found.low < found.value < found.high


@pytest.mark.parametrize("weights", ["quadratic", "linear", None])
@pytest.mark.parametrize("seed", range(5))
def test_kappa_agreement_is_scikit_learns(seed: int, weights: Any) -> None:
    rng = np.random.default_rng(seed)
    human = rng.integers(1, 6, 30)
    judge = np.where(rng.random(30) < 0.6, human, rng.integers(1, 6, 30))
    found = agreement(list(human), list(judge), "kappa", weights=weights)
    assert found.value == pytest.approx(cohen_kappa_score(human, judge, weights=weights))


def test_agreement_refuses_unpaired_grades_and_gives_none_where_nothing_varies() -> None:
    with pytest.raises(ValueError, match="pair them"):
        agreement([1, 2, 3], [1, 2])
    assert agreement([3, 3, 3, 3, 3], [1, 2, 3, 4, 5]).value is None
    assert agreement([1, 2, 3], [1, 3, 2]).low is None  # too few cases for an interval


@pytest.mark.slow
def test_the_spearman_interval_keeps_its_coverage() -> None:
    rng = np.random.default_rng(0)
    covered = 0
    reps = 400
    cov = np.array([[1, 0.6], [0.6, 1]])
    truth = 6 / np.pi * np.arcsin(0.6 / 2)  # Spearman's rho of a bivariate normal
    for _ in range(reps):
        x, y = rng.multivariate_normal([0, 0], cov, 30).T
        found = agreement(list(x), list(y))
        assert found.low is not None
        assert found.high is not None
        covered += found.low <= truth <= found.high
    assert covered / reps >= 0.93

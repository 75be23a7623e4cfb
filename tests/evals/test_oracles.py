"""The evals' statistics against trusted libraries (test-only oracles): statsmodels for
Clopper-Pearson and McNemar, scikit-learn for the classification scores and ROC AUC, scipy for
Student's t and the paired permutation test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score as sk_f1
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.proportion import proportion_confint

from evals import metrics
from evals.metrics import Counts


@pytest.mark.parametrize("seed", range(20))
def test_point_values_and_intervals_agree_with_sklearn_and_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    truth = rng.random(n) < rng.uniform(0.1, 0.9)
    said = np.where(rng.random(n) < 0.7, truth, ~truth)
    scores = metrics.binary(Counts.of(list(truth), list(said)))
    assert scores["precision"].value == pytest.approx(
        precision_score(truth, said, zero_division=np.nan)
    )
    assert scores["recall"].value == pytest.approx(recall_score(truth, said))
    assert scores["f1"].value == pytest.approx(sk_f1(truth, said))
    hits = int((truth == said).sum())
    low, high = proportion_confint(hits, n, method="beta")
    assert (scores["accuracy"].low, scores["accuracy"].high) == pytest.approx((low, high))
    graded = np.clip(truth * 0.3 + rng.random(n) * 0.7, 0, 1).round(1)
    assert metrics.roc_auc(list(truth), list(graded)) == pytest.approx(roc_auc_score(truth, graded))


@pytest.mark.parametrize("df", [1, 2, 5, 30, 31, 32, 49, 199])
def test_t_quantiles_are_students_at_every_df(df: int) -> None:
    assert metrics.t95(df) == pytest.approx(stats.t.ppf(0.975, df))
    assert metrics.t95(31) > 2.03  # not the normal 1.96 beyond a table's end


@pytest.mark.parametrize("seed", range(10))
def test_mcnemar_is_statsmodels_exact_test(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = rng.random(60) < 0.5
    after = np.where(rng.random(60) < 0.7, before, ~before)
    table = [
        [int((before & after).sum()), int((before & ~after).sum())],
        [int((~before & after).sum()), int((~before & ~after).sum())],
    ]
    expected = sm_mcnemar(table, exact=True).pvalue
    assert metrics.mcnemar(list(before), list(after)) == pytest.approx(expected)
    differences = after.astype(float) - before.astype(float)
    assert metrics.sign_flip(list(differences)).p == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(6))
def test_the_exact_sign_flip_test_is_scipys_paired_permutation_test(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = rng.random(12)
    after = before + rng.normal(0.15, 0.3, 12)
    found = metrics.sign_flip(list(after - before))
    reference = stats.permutation_test(
        (after, before),
        lambda x, y: np.mean(x - y),
        permutation_type="samples",
        n_resamples=np.inf,
    ).pvalue
    assert found.name == "sign-flip (exact)"
    assert found.p == pytest.approx(reference)

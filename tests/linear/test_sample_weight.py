"""sample_weight everywhere: 0 drops a row, an integer k repeats it k times.

For every linear estimator and penalty family and for both baselines; bad
weights raise a ValueError naming the problem; weights reach the estimator
through ``Pipeline`` and ``GridSearchCV`` (with and without metadata
routing).
"""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model import Ridge as SkRidge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from skmtl import PooledBaseline, SingleTaskBaseline
from skmtl.datasets import make_multitask_classification, make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    Clustered,
    Dirty,
    GraphLaplacian,
    MeanRegularized,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifier,
    MultiTaskLogisticClassifierCV,
    Ridge,
    SparseLowRank,
    TaskRelationship,
    TraceNorm,
)
from skmtl.metrics import make_multitask_scorer

TIGHT = dict(tol=1e-12, max_iter=50000)
PENALTIES = [Ridge(0.05), L1(0.02), L21(0.02), L21(0.02, l1_ratio=0.5),
             L21(0.02, positive=True), TraceNorm(0.05), MeanRegularized(0.1),
             GraphLaplacian(0.1), Clustered(0.05), Dirty(0.02), TaskRelationship(0.05),
             SparseLowRank(0.05)]
IDS = [repr(p) for p in PENALTIES]


@pytest.fixture(scope="module")
def regression():
    X, Y = make_multitask_regression(n_samples=40, n_features=6, n_tasks=3,
                                     missing_rate=0.2, noise=0.5, random_state=0)
    w = np.random.RandomState(1).randint(0, 4, size=len(X)).astype(float)
    w[:3] = [0.0, 2.0, 3.0]
    return X, Y, w


@pytest.fixture(scope="module")
def classification():
    X, Y = make_multitask_classification(n_samples=60, n_features=5, n_tasks=2,
                                         class_sep=1.0, random_state=0)
    w = np.random.RandomState(2).randint(0, 3, size=len(X)).astype(float)
    w[:2] = [0.0, 2.0]
    return X, Y, w


def _repeat(X, Y, w):
    rows = np.repeat(np.arange(len(X)), w.astype(int))
    return X[rows], Y[rows]


def _assert_same_fit(a, b, atol=1e-7):
    np.testing.assert_allclose(a.coef_, b.coef_, atol=atol, rtol=0)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=atol, rtol=0)


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_regressor_weights_are_row_repetitions(regression, penalty):
    X, Y, w = regression
    weighted = MultiTaskLinearRegressor(penalty, **TIGHT).fit(X, Y, sample_weight=w)
    repeated = MultiTaskLinearRegressor(penalty, **TIGHT).fit(*_repeat(X, Y, w))
    _assert_same_fit(weighted, repeated)
    unweighted = MultiTaskLinearRegressor(penalty, **TIGHT).fit(X, Y)
    assert np.abs(unweighted.coef_ - weighted.coef_).max() > 1e-4  # weights matter


@pytest.mark.parametrize("penalty", [Ridge(0.05), L21(0.02), TraceNorm(0.05),
                                     MeanRegularized(0.1), Dirty(0.02)],
                         ids=lambda p: repr(p))
def test_classifier_weights_are_row_repetitions(classification, penalty):
    X, Y, w = classification
    weighted = MultiTaskLogisticClassifier(penalty, **TIGHT).fit(X, Y,
                                                                 sample_weight=w)
    repeated = MultiTaskLogisticClassifier(penalty, **TIGHT).fit(*_repeat(X, Y, w))
    _assert_same_fit(weighted, repeated, atol=1e-6)
    dropped = MultiTaskLogisticClassifier(penalty, **TIGHT).fit(
        X[w > 0], Y[w > 0], sample_weight=w[w > 0])
    _assert_same_fit(weighted, dropped, atol=1e-6)


def _folds(n, n_splits=3):
    return list(KFold(n_splits, shuffle=True, random_state=0).split(np.zeros(n)))


def _expanded_folds(folds, w):
    """The same folds on the repeated rows (copies of a row stay together)."""
    owner = np.repeat(np.arange(len(w)), w.astype(int))
    return [(np.flatnonzero(np.isin(owner, tr)), np.flatnonzero(np.isin(owner, te)))
            for tr, te in folds]


@pytest.mark.parametrize("penalty", [L21(), TraceNorm(), MeanRegularized()],
                         ids=lambda p: repr(p))
def test_cv_weights_are_row_repetitions_in_fits_and_scores(regression, penalty):
    X, Y, w = regression
    folds = _folds(len(X))
    params = dict(n_alphas=5, eps=1e-2, tol=1e-12, max_iter=50000)
    weighted = MultiTaskLinearRegressorCV(penalty, cv=folds, **params).fit(
        X, Y, sample_weight=w)
    repeated = MultiTaskLinearRegressorCV(
        penalty, cv=_expanded_folds(folds, w), **params).fit(*_repeat(X, Y, w))
    np.testing.assert_allclose(weighted.alphas_, repeated.alphas_, rtol=1e-12)
    np.testing.assert_allclose(weighted.mse_path_, repeated.mse_path_, rtol=1e-6)
    assert weighted.alpha_ == pytest.approx(repeated.alpha_, rel=1e-12)
    _assert_same_fit(weighted, repeated)


def test_classifier_cv_weights_are_row_repetitions(classification):
    X, Y, w = classification
    folds = _folds(len(X))
    params = dict(n_alphas=4, eps=1e-2, tol=1e-12, max_iter=50000,
                  scoring="neg_log_loss")
    weighted = MultiTaskLogisticClassifierCV(L21(), cv=folds, **params).fit(
        X, Y, sample_weight=w)
    repeated = MultiTaskLogisticClassifierCV(
        L21(), cv=_expanded_folds(folds, w), **params).fit(*_repeat(X, Y, w))
    np.testing.assert_allclose(weighted.scores_path_, repeated.scores_path_,
                               rtol=1e-5)
    _assert_same_fit(weighted, repeated, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: SingleTaskBaseline(SkRidge(alpha=1.0)),
    lambda: PooledBaseline(SkRidge(alpha=1.0), task_indicators=True),
], ids=["single_task", "pooled"])
def test_baseline_weights_are_row_repetitions(regression, make):
    X, Y, w = regression
    weighted = make().fit(X, Y, sample_weight=w)
    repeated = make().fit(*_repeat(X, Y, w))
    dropped = make().fit(X[w > 0], Y[w > 0], sample_weight=w[w > 0])
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), atol=1e-10)
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), atol=1e-10)
    assert np.abs(make().fit(X, Y).predict(X) - weighted.predict(X)).max() > 1e-3


def test_classifier_baselines_weights_are_row_repetitions(classification):
    X, Y, w = classification
    for make in (lambda: SingleTaskBaseline(LogisticRegression(tol=1e-10)),
                 lambda: PooledBaseline(LogisticRegression(tol=1e-10))):
        weighted = make().fit(X, Y, sample_weight=w)
        repeated = make().fit(*_repeat(X, Y, w))
        np.testing.assert_allclose(weighted.predict_proba(X)[0],
                                   repeated.predict_proba(X)[0], atol=1e-5)


ESTIMATORS = [
    lambda: MultiTaskLinearRegressor(L21(0.02)),
    lambda: MultiTaskLinearRegressorCV(L21(), n_alphas=3, cv=3),
    lambda: MultiTaskLogisticClassifier(L21(0.02)),
    lambda: MultiTaskLogisticClassifierCV(L21(), n_alphas=3, cv=3),
    lambda: SingleTaskBaseline(SkRidge()),
    lambda: PooledBaseline(SkRidge()),
]
NAMES = ["regressor", "regressor_cv", "classifier", "classifier_cv", "single_task",
         "pooled"]


@pytest.mark.parametrize("make", ESTIMATORS, ids=NAMES)
@pytest.mark.parametrize("weights, message", [
    (lambda n: np.r_[-1.0, np.ones(n - 1)], "negative weight"),
    (lambda n: np.r_[np.nan, np.ones(n - 1)], "non-finite weight"),
    (lambda n: np.r_[np.inf, np.ones(n - 1)], "non-finite weight"),
    (lambda n: np.ones(n - 1), "has 39 weights but X has 40 rows"),
    (lambda n: np.zeros(n), "zero for every row"),
], ids=["negative", "nan", "inf", "length", "all_zero"])
def test_bad_weights_raise_a_clear_error(regression, classification, make, weights,
                                         message):
    est = make()
    X, Y, _ = classification if "Logistic" in type(est).__name__ else regression
    X, Y = X[:40], Y[:40]
    with pytest.raises(ValueError, match=message):
        est.fit(X, Y, sample_weight=weights(len(X)))


@pytest.mark.parametrize("make", ESTIMATORS, ids=NAMES)
def test_weights_route_through_pipeline(regression, classification, make):
    data = classification if "classifier" in make().__class__.__name__.lower() else \
        regression
    X, Y, w = data
    direct = make().fit(X, Y, sample_weight=w)
    piped = Pipeline([("est", make())]).fit(X, Y, est__sample_weight=w)
    np.testing.assert_allclose(piped.predict(X), direct.predict(X), atol=1e-12)
    assert np.any(make().fit(X, Y).predict(X) != direct.predict(X))


GRIDS = [
    (lambda: MultiTaskLinearRegressor(L21(0.02)), {"penalty__alpha": [0.01, 0.1]}),
    (lambda: MultiTaskLinearRegressorCV(L21(), n_alphas=3, cv=3),
     {"n_alphas": [2, 3]}),
    (lambda: MultiTaskLogisticClassifier(L21(0.02)), {"penalty__alpha": [0.01, 0.1]}),
    (lambda: MultiTaskLogisticClassifierCV(L21(), n_alphas=3, cv=3),
     {"n_alphas": [2, 3]}),
    (lambda: SingleTaskBaseline(SkRidge()), {"estimator__alpha": [0.1, 10.0]}),
    (lambda: PooledBaseline(SkRidge()), {"estimator__alpha": [0.1, 10.0]}),
]


def _fold_scores(make, params, X, Y, w, folds, scorer, weighted_score):
    """Each fold fitted by hand with its training weights."""
    out = []
    for train, test in folds:
        est = sklearn.base.clone(make()).set_params(**params)
        est.fit(X[train], Y[train], sample_weight=w[train])
        score_weights = {"sample_weight": w[test]} if weighted_score else {}
        out.append(scorer(est, X[test], Y[test], **score_weights))
    return np.asarray(out)


@pytest.mark.parametrize("routing", [False, True], ids=["fit_params", "routing"])
@pytest.mark.parametrize("make, grid", GRIDS, ids=NAMES)
def test_weights_route_through_grid_search(regression, classification, make, grid,
                                           routing):
    is_classifier = "classifier" in type(make()).__name__.lower()
    X, Y, w = classification if is_classifier else regression
    folds = _folds(len(X))
    scorer = make_multitask_scorer()
    with sklearn.config_context(enable_metadata_routing=routing):
        est = make()
        if routing:
            est.set_fit_request(sample_weight=True)
        search = GridSearchCV(est, grid, cv=folds, scoring=scorer).fit(
            X, Y, sample_weight=w)
        name, values = next(iter(grid.items()))
        for i, value in enumerate(values):
            # Without routing, scikit-learn also weights the held-out scores;
            # with routing, only what is requested (here: fit) gets weights.
            want = _fold_scores(make, {name: value}, X, Y, w, folds, scorer,
                                weighted_score=not routing)
            got = [search.cv_results_[f"split{k}_test_score"][i]
                   for k in range(len(folds))]
            np.testing.assert_allclose(got, want, rtol=1e-10)
        best = make().set_params(**search.best_params_).fit(X, Y, sample_weight=w)
    np.testing.assert_allclose(search.best_estimator_.predict(X), best.predict(X),
                               atol=1e-12)

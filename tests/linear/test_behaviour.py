"""Parameters, errors, solvers, paths and CV of the linear multi-task models."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLassoCV
from sklearn.model_selection import GridSearchCV, KFold

from skmtl import Task
from skmtl.datasets import make_multitask_classification, make_multitask_regression
from skmtl.linear import (
    L21,
    Clustered,
    Dirty,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifier,
    MultiTaskLogisticClassifierCV,
    Ridge,
    TaskRelationship,
    TraceNorm,
    regularization_path,
)
from skmtl.metrics import make_multitask_scorer


@pytest.fixture(scope="module")
def data():
    return make_multitask_regression(n_samples=80, n_features=12, n_tasks=4,
                                     n_informative=4, noise=0.5, random_state=0)


def test_penalty_params_reach_grid_search(data):
    X, Y = data
    est = MultiTaskLinearRegressor(L21(alpha=1.0))
    assert est.get_params()["penalty__alpha"] == 1.0
    search = GridSearchCV(est, {"penalty__alpha": [0.01, 10.0]}, cv=3,
                          scoring=make_multitask_scorer()).fit(X, Y)
    assert search.best_params_["penalty__alpha"] == 0.01
    assert est.penalty.alpha == 1.0  # the search works on clones
    cloned = clone(est)
    assert cloned.penalty is not est.penalty and cloned.penalty == est.penalty


def test_string_shortcut_and_unknown_penalty(data):
    X, Y = data
    est = MultiTaskLinearRegressor("trace").fit(X, Y)
    assert isinstance(est.penalty_, TraceNorm) and est.penalty == "trace"
    with pytest.raises(ValueError, match="unknown penalty 'nope'"):
        MultiTaskLinearRegressor("nope").fit(X, Y)
    with pytest.raises(ValueError, match="l1_ratio=2"):
        MultiTaskLinearRegressor(L21(l1_ratio=2)).fit(X, Y)


def test_solver_names_missing_capability(data):
    X, Y = data
    with pytest.raises(ValueError, match="prox_row.*TraceNorm"):
        MultiTaskLinearRegressor(TraceNorm(), solver="cd").fit(X, Y)
    with pytest.raises(ValueError, match="prox.*Clustered.*alternating"):
        MultiTaskLinearRegressor(Clustered(), solver="fista").fit(X, Y)
    Xc, Yc = make_multitask_classification(n_samples=60, n_tasks=2, random_state=0)
    with pytest.raises(ValueError, match="hessian_dot.*logistic"):
        MultiTaskLogisticClassifier(L21(), solver="cd").fit(Xc, Yc)


def test_convergence_warning_at_max_iter(data):
    X, Y = data
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        est = MultiTaskLinearRegressor(TraceNorm(0.01), max_iter=2, tol=1e-12).fit(X, Y)
    assert est.n_iter_ == 2


def test_wrong_task_types_are_named():
    X, Y = make_multitask_regression(n_samples=30, n_features=6, n_tasks=2,
                                     random_state=0)
    with pytest.raises(ValueError, match="task 'b' is a classification task"):
        MultiTaskLinearRegressor(tasks=[Task("a"), Task("b", "classification")]).fit(
            X, np.c_[Y[:, 0], (Y[:, 1] > 0).astype(float)])
    with pytest.raises(ValueError, match="task 'a' has only one class"):
        MultiTaskLogisticClassifier(tasks=[Task("a", "classification")]).fit(
            X, np.zeros(30))


def test_warm_start_reuses_solution(data):
    X, Y = data
    est = MultiTaskLinearRegressor(L21(0.05), warm_start=True, solver="fista",
                                   tol=1e-8).fit(X, Y)
    first = est.n_iter_
    est.fit(X, Y)
    assert est.n_iter_ < first


def test_task_relationship_learns_task_covariance():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 6)
    w = rng.randn(6)
    W = np.c_[w, w, -w, rng.randn(6) * 0.01]
    Y = X @ W + 0.1 * rng.randn(200, 4)
    est = MultiTaskLinearRegressor(TaskRelationship(alpha=0.01)).fit(X, Y)
    corr = est.task_correlation_
    assert est.task_covariance_.shape == (4, 4)
    np.testing.assert_allclose(np.trace(est.task_covariance_), 1.0, atol=1e-8)
    assert corr[0, 1] > 0.9 and corr[0, 2] < -0.9


def test_clustered_groups_tasks():
    X, Y, info = make_multitask_regression(n_samples=200, n_features=10, n_tasks=6,
                                           structure="clusters", n_clusters=2,
                                           task_similarity=0.95, random_state=1,
                                           return_structure=True)
    est = MultiTaskLinearRegressor(Clustered(alpha=0.05, n_clusters=2)).fit(X, Y)
    same = info.clusters[:, None] == info.clusters[None, :]
    corr = est.task_correlation_
    off = ~np.eye(6, dtype=bool)
    assert corr[same & off].mean() > corr[~same].mean()
    assert est.objective_[-1] <= est.objective_[0]


def test_dirty_splits_shared_and_specific_parts():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 20)
    W = np.zeros((20, 5))
    W[:3] = rng.randn(3, 5) + 2.0
    W[10, 2] = 3.0  # one task-specific feature
    Y = X @ W + 0.05 * rng.randn(300, 5)
    est = MultiTaskLinearRegressor(Dirty(alpha=0.05, sparse_ratio=0.6)).fit(X, Y)
    group, sparse = est.group_coef_, est.sparse_coef_
    assert set(np.flatnonzero(np.abs(group).sum(0) > 1e-8)) >= {0, 1, 2}
    assert abs(sparse[2, 10]) > 1.0
    np.testing.assert_allclose(est.coef_, group + sparse)


def test_regularization_path_matches_single_fits(data):
    X, Y = data
    path = regularization_path(X, Y, L21(), n_alphas=6, tol=1e-10)
    assert np.all(np.diff(path.alphas) < 0)
    assert not np.any(path.coefs[..., 0])  # alpha_max gives W = 0
    assert np.any(path.coefs[..., 1])
    single = MultiTaskLinearRegressor(L21(alpha=path.alphas[3]), tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(path.coefs[..., 3], single.coef_, atol=1e-6)
    np.testing.assert_allclose(path.intercepts[:, 3], single.intercept_, atol=1e-6)


def test_cv_matches_multitask_lasso_cv(data):
    X, Y = data
    cv = KFold(4)
    ref = MultiTaskLassoCV(alphas=10, eps=1e-2, cv=cv, tol=1e-10,
                           max_iter=100000).fit(X, Y)
    est = MultiTaskLinearRegressorCV(L21(), n_alphas=10, eps=1e-2, cv=cv, tol=1e-10,
                                     n_jobs=2).fit(X, Y)
    np.testing.assert_allclose(est.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-5)
    assert est.alpha_ == pytest.approx(ref.alpha_)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)


def test_cv_with_missing_labels_and_classifier():
    X, Y = make_multitask_regression(n_samples=120, n_features=10, n_tasks=3,
                                     missing_rate=0.3, random_state=2)
    est = MultiTaskLinearRegressorCV("trace", n_alphas=5, cv=3).fit(X, Y)
    assert est.mse_path_.shape == (5, 3) and np.all(np.isfinite(est.mse_path_))
    assert est.alpha_ in est.alphas_
    Xc, Yc = make_multitask_classification(n_samples=150, n_tasks=3, class_sep=3.0,
                                           missing_rate=0.2, random_state=0)
    clf = MultiTaskLogisticClassifierCV(Ridge(), n_alphas=4, cv=3).fit(Xc, Yc)
    assert clf.scores_path_.shape == (4, 3)
    assert clf.score(Xc, Yc) > 0.7


def test_classifier_binary_and_multiclass_tasks_with_missing_labels():
    X, Y = make_multitask_classification(n_samples=200, n_tasks=3, n_classes=3,
                                         class_sep=4.0, missing_rate=0.3,
                                         random_state=0)
    Y = Y.copy()
    Y[:, 2] = np.where(np.isnan(Y[:, 2]), np.nan, (Y[:, 2] > 0).astype(float))
    tasks = [Task("a", "classification"), Task("b", "classification"),
             Task("c", "binary")]
    clf = MultiTaskLogisticClassifier(L21(0.01), tasks=tasks).fit(X, Y)
    assert clf.coef_.shape == (3 + 3 + 1, X.shape[1])
    np.testing.assert_array_equal(clf.coef_task_, [0, 0, 0, 1, 1, 1, 2])
    proba = clf.predict_proba(X)
    assert proba[0].shape == (200, 3) and proba[2].shape == (200, 2)
    np.testing.assert_allclose(proba[0].sum(1), 1.0)
    assert clf.score(X, Y) > 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(clf.predict(X)[:, 2] > 0,
                                      proba[2][:, 1] > 0.5)


def test_precomputed_inner_folds_on_fewer_rows_name_the_problem():
    """Folds made for all rows, given as the inner cv of a model that an outer
    split fits on fewer rows: a message, not an IndexError."""
    from sklearn.model_selection import KFold, cross_validate

    from skmtl.datasets import make_multitask_regression
    from skmtl.linear import MultiTaskLinearRegressorCV

    X, Y = make_multitask_regression(n_samples=90, n_tasks=2, random_state=0)
    folds = list(KFold(3).split(X))
    MultiTaskLinearRegressorCV(n_alphas=3, cv=folds).fit(X, Y)  # made for X: fine
    with pytest.raises(ValueError, match=r"MultiTaskLinearRegressorCV's cv: fold "
                                         r"0's \w+ part holds the row index \d+ "
                                         r"but the data has 60 rows.*inner cv"):
        cross_validate(MultiTaskLinearRegressorCV(n_alphas=3, cv=folds), X, Y,
                       cv=3, error_score="raise")

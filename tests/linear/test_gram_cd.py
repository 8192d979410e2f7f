"""Coordinate descent in the Gram space (``solver="gram_cd"``, n_samples > n_features).

Against scikit-learn's ``MultiTaskLasso`` and the X-space coordinate
descent (``"cd"``), with intercepts, sample weights, missing labels and
along a warm-started path; its Gram-space duality gap against the one
computed from residuals; the rule by which ``solver="auto"`` picks it.
"""

import pickle

import numpy as np
import pytest
from sklearn.linear_model import MultiTaskElasticNet, MultiTaskLasso

from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    GramCoordinateDescent,
    MultiTaskLinearRegressor,
    MultiTaskLogisticClassifier,
    Ridge,
    _cd,
    regularization_path,
)
from skmtl.linear._datafits import Quadratic

TIGHT = dict(tol=1e-12, max_iter=20000)


def _data(n=120, p=40, n_tasks=4, **kwargs):
    return make_multitask_regression(n_samples=n, n_features=p, n_tasks=n_tasks,
                                     n_informative=10, noise=0.5, random_state=0,
                                     **kwargs)


def _alpha_max(X, Y):
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    return np.sqrt(((Xc.T @ Yc) ** 2).sum(1)).max() / len(X)


@pytest.fixture
def small_working_sets(monkeypatch):
    """Working sets from 4 features: several outer iterations on small data."""
    monkeypatch.setattr(_cd, "_WS_START", 4)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("factor", [3, 30, 300])
def test_equals_multitask_lasso(small_working_sets, fit_intercept, factor):
    X, Y = _data()
    alpha = _alpha_max(X, Y) / factor
    est = MultiTaskLinearRegressor(L21(alpha), solver="gram_cd",
                                   fit_intercept=fit_intercept, **TIGHT).fit(X, Y)
    ref = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12,
                         max_iter=100000).fit(X, Y)
    cd = MultiTaskLinearRegressor(L21(alpha), solver="cd",
                                  fit_intercept=fit_intercept, **TIGHT).fit(X, Y)
    assert est.solver_ == "gram_cd" and est.n_iter_ > 1
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-8)
    np.testing.assert_allclose(est.coef_, cd.coef_, atol=1e-8)
    assert 0 < np.any(est.coef_, axis=0).sum() < X.shape[1] or factor == 300


def test_elastic_net_and_l1_equal_scikit_learn():
    X, Y = _data()
    alpha = _alpha_max(X, Y) / 20
    est = MultiTaskLinearRegressor(L21(alpha, l1_ratio=0.6), solver="gram_cd",
                                   **TIGHT).fit(X, Y)
    ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=0.6, tol=1e-12,
                              max_iter=100000).fit(X, Y)
    # A gap of tol * 2 f(0) bounds the distance to the solution by
    # sqrt(2 gap / alpha (1 - l1_ratio)): about 1e-6 here.
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    l1 = MultiTaskLinearRegressor(L1(alpha), solver="gram_cd", **TIGHT).fit(X, Y)
    l1_cd = MultiTaskLinearRegressor(L1(alpha), solver="cd", **TIGHT).fit(X, Y)
    np.testing.assert_allclose(l1.coef_, l1_cd.coef_, atol=1e-8)


def test_ridge_equals_closed_form():
    X, Y = _data()
    n, alpha = len(X), 0.3
    est = MultiTaskLinearRegressor(Ridge(alpha), solver="gram_cd", **TIGHT).fit(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    W = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(X.shape[1]), Xc.T @ Yc / n)
    # The gap bounds the distance by sqrt(2 gap / alpha), 1.3e-5 here.
    assert est.dual_gap_ <= 1e-12 * (Yc ** 2).sum() / n
    np.testing.assert_allclose(est.coef_, W.T, atol=1.3e-5)


def test_sample_weights_are_row_repetitions(small_working_sets):
    X, Y = _data()
    reps = np.random.RandomState(3).randint(0, 4, len(X))
    alpha = _alpha_max(X, Y) / 20
    weighted = MultiTaskLinearRegressor(L21(alpha), solver="gram_cd", **TIGHT).fit(
        X, Y, sample_weight=reps.astype(float))
    repeated = MultiTaskLinearRegressor(L21(alpha), solver="gram_cd", **TIGHT).fit(
        np.repeat(X, reps, axis=0), np.repeat(Y, reps, axis=0))
    cd = MultiTaskLinearRegressor(L21(alpha), solver="cd", **TIGHT).fit(
        X, Y, sample_weight=reps.astype(float))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-8)
    np.testing.assert_allclose(weighted.coef_, cd.coef_, atol=1e-8)


def test_missing_labels_use_one_gram_matrix_per_task(small_working_sets,
                                                     monkeypatch):
    """NaN-masked targets: one Gram matrix per task, the solution of "cd" through X."""
    X, Y = _data(missing_rate=0.3)
    alpha = _alpha_max(np.nan_to_num(X), np.nan_to_num(Y)) / 30
    est = MultiTaskLinearRegressor(L21(alpha), **TIGHT).fit(X, Y)
    assert est.solver_ == "gram_cd"
    assert Quadratic(X, Y, None, np.ones(4)).gram_form()._full_gram().shape == (
        4, 40, 40)
    # Through X (no Gram matrix): "cd" once the Gram matrices are too large.
    from skmtl.linear import _datafits

    monkeypatch.setattr(_datafits, "_GRAM_ENTRIES", 40 * 40 * 4 - 1)
    through_x = MultiTaskLinearRegressor(L21(alpha), **TIGHT).fit(X, Y)
    assert through_x.solver_ == "cd"
    np.testing.assert_allclose(est.coef_, through_x.coef_, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, through_x.intercept_, atol=1e-8)
    with pytest.raises(ValueError, match=r"one Gram matrix per task column "
                                         r"\(missing labels: 4\) of 40 x 40"):
        MultiTaskLinearRegressor(L21(alpha), solver="gram_cd").fit(X, Y)
    monkeypatch.undo()
    # Unequal task weights: each column its own scale of the Hessian.
    weights = MultiTaskLinearRegressor(L21(alpha), solver="gram_cd",
                                       task_weights=[1, 2, 1, 0.5], **TIGHT).fit(X, Y)
    ref = MultiTaskLinearRegressor(L21(alpha), solver="fista",
                                   task_weights=[1, 2, 1, 0.5], **TIGHT).fit(X, Y)
    np.testing.assert_allclose(weights.coef_, ref.coef_, atol=1e-8)


def test_path_with_warm_starts_equals_multitask_lasso(small_working_sets):
    X, Y = _data()
    path = regularization_path(X, Y, L21(), n_alphas=8, eps=1e-3,
                               solver="gram_cd", **TIGHT)
    for k, alpha in enumerate(path.alphas):
        ref = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y)
        np.testing.assert_allclose(path.coefs[..., k], ref.coef_, atol=1e-8)


def test_duality_gap_equals_the_one_from_residuals():
    """The Gram quantities give the residual's datafit, dual point and gap."""
    X, Y = _data()
    n = len(X)
    alpha = _alpha_max(X, Y) / 10
    pen = L21(alpha)
    quad = Quadratic(X, Y, None, np.ones(4), mode="x").gram_form()
    assert quad.mode == "gram"
    W = np.random.RandomState(0).randn(X.shape[1], 4) * 0.1
    S = quad.state(W)
    f = quad.value(W, None, S)
    gap = quad.duality_gap(pen, W, S, f, pen.value(W))
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    R = Yc - Xc @ W
    primal = 0.5 * (R ** 2).sum() / n + alpha * np.sqrt((W ** 2).sum(1)).sum()
    s = min(1.0, alpha / np.sqrt(((Xc.T @ R / n) ** 2).sum(1)).max())
    dual = 0.5 * ((Yc ** 2).sum() - ((s * R - Yc) ** 2).sum()) / n
    np.testing.assert_allclose(f, 0.5 * (R ** 2).sum() / n, rtol=1e-12)
    np.testing.assert_allclose(S, Xc.T @ Xc @ W / n, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gap, primal - dual, rtol=1e-10)
    # The fit's gap (best dual point seen) certifies its suboptimality.
    est = MultiTaskLinearRegressor(pen, solver="gram_cd", tol=1e-4).fit(X, Y)
    best = MultiTaskLinearRegressor(pen, solver="gram_cd", **TIGHT).fit(X, Y)

    def objective(W):
        R = Yc - Xc @ W.T
        return 0.5 * (R ** 2).sum() / n + alpha * np.sqrt((W ** 2).sum(0)).sum()

    assert -1e-12 <= objective(est.coef_) - objective(best.coef_) <= est.dual_gap_
    assert est.dual_gap_ <= 1e-4 * (Yc ** 2).sum() / n


def test_auto_picks_the_gram_space_for_more_samples_than_features():
    X, Y = _data(120, 40)
    assert MultiTaskLinearRegressor(L21(0.1)).fit(X, Y).solver_ == "gram_cd"
    wide_X, wide_Y = _data(30, 60)
    assert MultiTaskLinearRegressor(L21(0.1)).fit(wide_X, wide_Y).solver_ == "cd"
    # Forced on a wide problem it still solves it.
    forced = MultiTaskLinearRegressor(L21(0.05), solver="gram_cd", **TIGHT).fit(
        wide_X, wide_Y)
    ref = MultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(wide_X, wide_Y)
    np.testing.assert_allclose(forced.coef_, ref.coef_, atol=1e-7)


def test_the_logistic_loss_has_no_gram_form():
    X = np.random.RandomState(0).randn(50, 5)
    Y = (X[:, :2] > 0).astype(int)
    with pytest.raises(ValueError, match=r"'gram_cd' needs a datafit with "
                                         r"gram_form\(\); the logistic loss"):
        MultiTaskLogisticClassifier(L21(0.01), solver="gram_cd").fit(X, Y)
    assert MultiTaskLogisticClassifier(L21(0.01)).fit(X, Y).solver_ == "fista"


def test_too_large_gram_matrices_are_refused(monkeypatch):
    from skmtl.linear import _datafits

    monkeypatch.setattr(_datafits, "_GRAM_ENTRIES", 100)
    X, Y = _data()
    with pytest.raises(ValueError, match="Gram space needs one Gram matrix of 40 x 40"):
        MultiTaskLinearRegressor(L21(0.1), solver="gram_cd").fit(X, Y)


def test_random_selection_and_pickle():
    X, Y = _data()
    alpha = _alpha_max(X, Y) / 20
    est = MultiTaskLinearRegressor(
        L21(alpha), solver=GramCoordinateDescent(selection="random", random_state=0),
        **TIGHT).fit(X, Y)
    ref = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))

"""Linear multi-task models against known answers (scikit-learn, closed forms)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import (
    LogisticRegression,
    MultiTaskElasticNet,
    MultiTaskLasso,
)
from sklearn.linear_model import Ridge as SkRidge

from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    GraphLaplacian,
    MeanRegularized,
    MultiTaskLinearRegressor,
    MultiTaskLogisticClassifier,
    Ridge,
    TraceNorm,
)

TIGHT = dict(tol=1e-12, max_iter=20000)


@pytest.fixture(scope="module")
def data():
    return make_multitask_regression(n_samples=80, n_features=15, n_tasks=4,
                                     n_informative=5, noise=0.5, random_state=0)


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_l21_equals_multitask_lasso(data, solver):
    X, Y = data
    ref = MultiTaskLasso(alpha=0.1, tol=1e-12, max_iter=100000).fit(X, Y)
    est = MultiTaskLinearRegressor(L21(alpha=0.1), solver=solver, **TIGHT).fit(X, Y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-5)
    assert est.dual_gap_ < 1e-8


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_l21_l2_equals_multitask_elastic_net(data, solver):
    X, Y = data
    ref = MultiTaskElasticNet(alpha=0.2, l1_ratio=0.6, tol=1e-12,
                              max_iter=100000).fit(X, Y)
    est = MultiTaskLinearRegressor(L21(alpha=0.2, l1_ratio=0.6), solver=solver,
                                   **TIGHT).fit(X, Y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)


def test_sparse_X_equals_dense(data):
    X, Y = data
    dense = MultiTaskLinearRegressor(L21(alpha=0.1), **TIGHT).fit(X, Y)
    sparse = MultiTaskLinearRegressor(L21(alpha=0.1), **TIGHT).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-5)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X),
                               atol=1e-6)


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_ridge_equals_closed_form(data, solver):
    X, Y = data
    n = X.shape[0]
    alpha = 0.3
    est = MultiTaskLinearRegressor(Ridge(alpha=alpha), solver=solver, **TIGHT).fit(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    W = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(X.shape[1]), Xc.T @ Yc / n)
    # A duality gap of tol * |Yc|^2 / n bounds |W - W*| by sqrt(2 gap / alpha).
    np.testing.assert_allclose(est.coef_, W.T, atol=1e-5)
    ref = SkRidge(alpha=n * alpha).fit(X, Y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)


def test_l1_equals_per_task_lasso(data):
    from sklearn.linear_model import Lasso

    X, Y = data
    est = MultiTaskLinearRegressor(L1(alpha=0.05), **TIGHT).fit(X, Y)
    for k in range(Y.shape[1]):
        ref = Lasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(X, Y[:, k])
        np.testing.assert_allclose(est.coef_[k], ref.coef_, atol=1e-6)


def test_missing_labels_are_each_tasks_own_average():
    """With missing labels, task k's loss is averaged over its own labelled rows."""
    X, Y = make_multitask_regression(n_samples=90, n_features=6, n_tasks=3,
                                     missing_rate=0.3, random_state=1)
    alpha = 0.2
    est = MultiTaskLinearRegressor(Ridge(alpha=alpha), **TIGHT).fit(X, Y)
    # Ridge does not couple tasks: each task is its own ridge on its rows.
    for k in range(3):
        rows = ~np.isnan(Y[:, k])
        n_k = rows.sum()
        ref = SkRidge(alpha=n_k * alpha).fit(X[rows], Y[rows, k])
        np.testing.assert_allclose(est.coef_[k], ref.coef_, atol=1e-5)
        np.testing.assert_allclose(est.intercept_[k], ref.intercept_, atol=1e-5)


def test_sample_and_task_weights_scale_the_datafit():
    X, Y = make_multitask_regression(n_samples=60, n_features=5, n_tasks=2,
                                     random_state=2)
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.5, 2.0, size=60)
    alpha = 0.1
    est = MultiTaskLinearRegressor(Ridge(alpha=alpha), task_weights=(1.0, 3.0),
                                   **TIGHT).fit(X, Y, sample_weight=sw)
    for k, lam in enumerate((1.0, 3.0)):
        # lam / sum(sw) * sum sw_i r_i^2 / 2 + alpha/2 |w|^2
        ref = SkRidge(alpha=alpha * sw.sum() / lam).fit(X, Y[:, k], sample_weight=sw)
        np.testing.assert_allclose(est.coef_[k], ref.coef_, atol=1e-5)
    # Integer sample weights are row repetitions.
    reps = rng.randint(1, 4, size=60)
    a = MultiTaskLinearRegressor(L21(0.05), **TIGHT).fit(X, Y, sample_weight=reps)
    b = MultiTaskLinearRegressor(L21(0.05), **TIGHT).fit(np.repeat(X, reps, 0),
                                                          np.repeat(Y, reps, 0))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)


def test_mean_regularized_equals_augmented_ridge():
    """Evgeniou & Pontil: ridge on phi(x, t) = (x / sqrt(mu), 0, .., x, .., 0)."""
    X, Y = make_multitask_regression(n_features=5, n_tasks=3, samples_per_task=30,
                                     random_state=3)
    n_tasks, p = 3, 5
    alpha, mu = 0.4, 0.5
    est = MultiTaskLinearRegressor(MeanRegularized(alpha=alpha, mean_ratio=mu),
                                   fit_intercept=False, **TIGHT).fit(X, Y)
    rows, owner = np.nonzero(~np.isnan(Y))
    Phi = np.zeros((rows.size, p * (n_tasks + 1)))
    Phi[:, :p] = X[rows] / np.sqrt(mu)
    for t in range(n_tasks):
        Phi[owner == t, p * (t + 1):p * (t + 2)] = X[rows[owner == t]]
    n_t = np.bincount(owner)
    # Our datafit averages each task over its rows: weight 1 / n_t per row.
    ref = SkRidge(alpha=alpha, fit_intercept=False).fit(
        Phi, Y[rows, owner], sample_weight=1.0 / n_t[owner])
    u = ref.coef_
    W = u[:p, None] / np.sqrt(mu) + u[p:].reshape(n_tasks, p).T
    np.testing.assert_allclose(est.coef_, W.T, atol=1e-5)


def test_mean_regularized_with_task_features_equals_augmented_ridge():
    """Ridge on phi(x, t) = (z~_t kron x / sqrt(mu), 0, .., x, .., 0), z~ = (1, z)."""
    X, Y = make_multitask_regression(n_features=4, n_tasks=5, samples_per_task=25,
                                     n_informative=4, random_state=6)
    n_tasks, p = 5, 4
    Z = np.random.RandomState(7).randn(n_tasks, 2)
    alpha, mu = 0.3, 0.7
    est = MultiTaskLinearRegressor(
        MeanRegularized(alpha=alpha, mean_ratio=mu, task_features=Z),
        fit_intercept=False, **TIGHT).fit(X, Y)
    rows, owner = np.nonzero(~np.isnan(Y))
    Z1 = np.c_[np.ones(n_tasks), Z]
    q = Z1.shape[1]
    Phi = np.zeros((rows.size, p * (q + n_tasks)))
    # Block j of the shared part: z~_tj x.
    Phi[:, :p * q] = (Z1[owner][:, :, None] * X[rows][:, None, :]).reshape(
        rows.size, -1) / np.sqrt(mu)
    for t in range(n_tasks):
        Phi[owner == t, p * (q + t):p * (q + t + 1)] = X[rows[owner == t]]
    n_t = np.bincount(owner)
    ref = SkRidge(alpha=alpha, fit_intercept=False).fit(
        Phi, Y[rows, owner], sample_weight=1.0 / n_t[owner])
    u = ref.coef_
    B = u[:p * q].reshape(q, p).T / np.sqrt(mu)  # (p, q): w_0 and the slopes on z
    W = B @ Z1.T + u[p * q:].reshape(n_tasks, p).T
    np.testing.assert_allclose(est.coef_, W.T, atol=1e-5)
    assert np.isfinite(est.dual_gap_) and est.dual_gap_ >= 0


def test_mean_regularized_with_equal_ratio_is_ridge():
    X, Y = make_multitask_regression(n_samples=50, n_features=6, n_tasks=3,
                                     random_state=4)
    K = 3
    # The penalty is sum_k |w_k|^2 - |sum_k w_k|^2 / (K + mu): ridge for huge mu.
    a = MultiTaskLinearRegressor(MeanRegularized(0.3, mean_ratio=1e12), **TIGHT)
    a.fit(X, Y)
    b = MultiTaskLinearRegressor(Ridge(0.3), **TIGHT).fit(X, Y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    assert K == Y.shape[1]


def test_graph_laplacian_empty_graph_is_ridge_and_complete_graph_pools():
    X, Y = make_multitask_regression(n_features=5, n_tasks=4, samples_per_task=40,
                                     task_similarity=0.9, random_state=5)
    empty = MultiTaskLinearRegressor(GraphLaplacian(0.2, graph=np.zeros((4, 4))),
                                     **TIGHT).fit(X, Y)
    ridge = MultiTaskLinearRegressor(Ridge(0.2), **TIGHT).fit(X, Y)
    np.testing.assert_allclose(empty.coef_, ridge.coef_, atol=1e-9)
    strong = MultiTaskLinearRegressor(GraphLaplacian(0.01, graph=None, graph_ratio=1e6),
                                      fit_intercept=False, **TIGHT).fit(X, Y)
    rows, owner = np.nonzero(~np.isnan(Y))
    n_t = np.bincount(owner)
    # Pooled: one w for every task, each task averaged over its rows.
    pooled = SkRidge(alpha=0.01 * 4, fit_intercept=False).fit(
        X[rows], Y[rows, owner], sample_weight=1.0 / n_t[owner])
    spread = np.abs(strong.coef_ - strong.coef_.mean(0)).max()
    assert spread < 1e-3
    np.testing.assert_allclose(strong.coef_.mean(0), pooled.coef_, atol=1e-3)
    assert np.abs(ridge.coef_ - ridge.coef_.mean(0)).max() > 0.05


def test_trace_norm_kkt_and_rank_recovery():
    X, Y, info = make_multitask_regression(n_samples=300, n_features=20, n_tasks=8,
                                           n_informative=10, structure="low_rank",
                                           rank=2, noise=0.1, random_state=6,
                                           return_structure=True)
    alpha = 0.05
    est = MultiTaskLinearRegressor(TraceNorm(alpha=alpha), **TIGHT).fit(X, Y)
    W = est.coef_.T
    s = np.linalg.svd(W, compute_uv=False)
    assert (s > 1e-6 * s[0]).sum() == 2
    # KKT: -grad f(W) in alpha * subdifferential of the trace norm at W.
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    G = -Xc.T @ (Yc - Xc @ W) / X.shape[0]
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    r = int((s > 1e-6 * s[0]).sum())
    U, Vt = U[:, :r], Vt[:r]
    np.testing.assert_allclose(-G @ Vt.T, alpha * U, atol=1e-5)  # on the range
    rest = -G - alpha * U @ Vt
    assert np.linalg.norm(rest, 2) <= alpha * (1 + 1e-4)


def test_support_recovery_shared_support():
    X, Y, info = make_multitask_regression(n_samples=150, n_features=60, n_tasks=6,
                                           n_informative=6, noise=0.3,
                                           missing_rate=0.2, random_state=7,
                                           return_structure=True)
    est = MultiTaskLinearRegressor(L21(alpha=0.1)).fit(X, Y)
    found = np.flatnonzero(np.abs(est.coef_).sum(axis=0) > 0)
    np.testing.assert_array_equal(found, info.support)


def test_logistic_one_task_l2_matches_sklearn():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    C = 0.7
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
    est = MultiTaskLogisticClassifier(Ridge(alpha=1.0 / (C * len(y))), tol=1e-14,
                                      max_iter=100000).fit(X, y)
    np.testing.assert_allclose(est.coef_[0], ref.coef_[0], atol=1e-5)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_logistic_multinomial_matches_sklearn():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    C = 0.5
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
    est = MultiTaskLogisticClassifier(Ridge(alpha=1.0 / (C * len(y))), tol=1e-14,
                                      max_iter=100000).fit(X, y)
    assert est.coef_.shape == (3, 6)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-5)

"""The working-set solver on each of its paths, against scikit-learn and FISTA.

The solver switches between the rows of a Gram matrix and sweeps through
``X``, between one block and many, between a lazily built and a complete
Gram matrix. Small blocks (monkeypatched) send small problems down every
path.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, MultiTaskElasticNet, MultiTaskLasso

from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    MultiTaskLinearRegressor,
    Ridge,
    TaskRelationship,
    _cd,
    _datafits,
    _sweeps,
)
from skmtl.linear._cd import coordinate_descent
from skmtl.linear._datafits import Quadratic

TIGHT = dict(tol=1e-12, max_iter=20000)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 4 features and working sets from 4: every path on small data."""
    monkeypatch.setattr(_sweeps, "BLOCK", 4)
    monkeypatch.setattr(_cd, "_WS_START", 4)


def _alpha_max(X, Y):
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    return np.sqrt(((Xc.T @ Yc) ** 2).sum(1)).max() / len(X)


def _data(n, p, n_tasks=3, **kwargs):
    return make_multitask_regression(n_samples=n, n_features=p, n_tasks=n_tasks,
                                     n_informative=min(p // 2, 12), noise=0.5,
                                     random_state=0, **kwargs)


@pytest.mark.parametrize("mode, sweeps_through_x",
                         [("gram", False), ("x", False), ("x", True)])
@pytest.mark.parametrize("shape", [(60, 30), (30, 80)])
@pytest.mark.parametrize("factor", [5, 50])
def test_every_path_equals_multitask_lasso(small_blocks, monkeypatch, mode, shape,
                                           factor, sweeps_through_x):
    if sweeps_through_x:  # working sets solved through X, not on their Gram
        monkeypatch.setattr(_cd, "_gram_is_cheaper", lambda df, width, size: False)
    X, Y = _data(*shape)
    alpha = _alpha_max(X, Y) / factor
    ref = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y)
    df = Quadratic(X, Y, None, np.ones(3), mode=mode)
    result = coordinate_descent(df, L21(alpha), np.zeros((shape[1], 3)),
                                **TIGHT)
    assert result.converged
    np.testing.assert_allclose(result.coef.T, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(df.intercept(result.coef), ref.intercept_, atol=1e-6)
    assert result.inner_iter > 0


@pytest.mark.parametrize("shape", [(60, 30), (30, 80)])
def test_elastic_net_blocks_equal_multitask_elastic_net(small_blocks, shape):
    X, Y = _data(*shape)
    alpha = _alpha_max(X, Y) / 20
    ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=0.7, tol=1e-14,
                              max_iter=100000).fit(X, Y)
    est = MultiTaskLinearRegressor(L21(alpha, l1_ratio=0.7), solver="cd", tol=1e-14,
                                   max_iter=20000).fit(X, Y)
    # Weakly strongly convex (p > n): a gap of 1e-13 still moves W by ~1e-6.
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=3e-6)


@pytest.mark.parametrize("mode", ["gram", "x"])
def test_missing_labels_each_task_is_its_own_lasso(small_blocks, mode):
    """L1 does not couple tasks: with missing labels, task k is a Lasso on its rows."""
    X, Y = _data(70, 40, missing_rate=0.3)
    alpha = 0.05
    df = Quadratic(X, Y, None, np.ones(3), mode=mode)
    assert not df.shared
    W = coordinate_descent(df, L1(alpha), np.zeros((40, 3)), **TIGHT).coef
    for k in range(3):
        rows = ~np.isnan(Y[:, k])
        ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X[rows], Y[rows, k])
        np.testing.assert_allclose(W[:, k], ref.coef_, atol=1e-6)


@pytest.mark.parametrize("shape", [(70, 30), (30, 80)])
def test_missing_labels_and_weights_cd_equals_fista(small_blocks, shape):
    X, Y = _data(*shape, missing_rate=0.25)
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.5, 2.0, size=shape[0])
    alpha = 0.1
    kwargs = dict(task_weights=(1.0, 2.0, 0.5), tol=1e-11, max_iter=200000)
    cd = MultiTaskLinearRegressor(L21(alpha), solver="cd", **kwargs).fit(
        X, Y, sample_weight=sw)
    fista = MultiTaskLinearRegressor(L21(alpha), solver="fista", **kwargs).fit(
        X, Y, sample_weight=sw)
    np.testing.assert_allclose(cd.coef_, fista.coef_, atol=2e-5)
    np.testing.assert_allclose(cd.intercept_, fista.intercept_, atol=2e-5)


@pytest.mark.parametrize("mode", ["gram", "x"])
def test_sample_weights_are_row_repetitions(small_blocks, mode):
    X, Y = _data(50, 30)
    reps = np.random.RandomState(1).randint(1, 4, size=50)
    alpha = _alpha_max(X, Y) / 10
    a = Quadratic(X, Y, reps.astype(float), np.ones(3), mode=mode)
    b = Quadratic(np.repeat(X, reps, 0), np.repeat(Y, reps, 0), None, np.ones(3),
                  mode=mode)
    Wa = coordinate_descent(a, L21(alpha), np.zeros((30, 3)), **TIGHT).coef
    Wb = coordinate_descent(b, L21(alpha), np.zeros((30, 3)), **TIGHT).coef
    np.testing.assert_allclose(Wa, Wb, atol=1e-8)


@pytest.mark.parametrize("mode", ["gram", "x"])
def test_sparse_X_equals_dense_on_every_path(small_blocks, mode):
    X, Y = _data(40, 60)
    X[np.abs(X) < 0.8] = 0.0
    alpha = _alpha_max(X, Y) / 30
    pen = L21(alpha)
    dense = coordinate_descent(Quadratic(X, Y, None, np.ones(3), mode=mode), pen,
                               np.zeros((60, 3)), **TIGHT).coef
    sparse = coordinate_descent(Quadratic(sp.csr_matrix(X), Y, None, np.ones(3),
                                          mode=mode), pen, np.zeros((60, 3)),
                                **TIGHT).coef
    np.testing.assert_allclose(sparse, dense, atol=1e-8)


def test_ridge_blocks_equal_closed_form(small_blocks):
    X, Y = _data(60, 30)
    n, alpha = 60, 0.3
    est = MultiTaskLinearRegressor(Ridge(alpha), **TIGHT).fit(X, Y)
    assert est.solver_ == "gram_cd"  # n > p: coordinate descent on the Gram matrix
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    W = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(30), Xc.T @ Yc / n)
    np.testing.assert_allclose(est.coef_, W.T, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_lazy_gram_rows_are_rows_of_the_gram_matrix(weighted, fit_intercept):
    X, Y = _data(50, 20)
    sw = np.random.RandomState(2).uniform(0.5, 2, 50) if weighted else None
    df = Quadratic(X, Y, sw, np.ones(3), fit_intercept=fit_intercept, mode="gram")
    e = np.ones(50) if sw is None else sw
    e = e / e.sum()
    m = X.T @ e if fit_intercept else np.zeros(20)
    full = (X - m).T @ ((X - m) * e[:, None])
    rows = np.array([3, 7, 11])
    np.testing.assert_allclose(df.gram_rows(rows), full[rows], atol=1e-12)
    assert not df.gram_complete
    np.testing.assert_allclose(df.gram_rows(np.arange(20)), full, atol=1e-12)
    assert df.gram_complete
    np.testing.assert_allclose(df.hessian_diagonal()[:, 0], np.diag(full), atol=1e-12)


@pytest.mark.parametrize("shape", [(80, 40), (40, 100)])
def test_dual_gap_certifies_the_objective(small_blocks, shape):
    """The reported gap (with extrapolated dual points) bounds the suboptimality."""
    X, Y = _data(*shape)
    alpha = _alpha_max(X, Y) / 30
    tol = 1e-4
    est = MultiTaskLinearRegressor(L21(alpha), tol=tol).fit(X, Y)
    best = MultiTaskLinearRegressor(L21(alpha), **TIGHT).fit(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)

    def objective(W):
        R = Yc - Xc @ W.T
        return 0.5 * (R ** 2).sum() / len(X) + alpha * np.sqrt((W ** 2).sum(0)).sum()

    suboptimality = objective(est.coef_) - objective(best.coef_)
    assert -1e-10 <= suboptimality <= est.dual_gap_ + 1e-10
    assert est.dual_gap_ <= tol * (Yc ** 2).sum() / len(X)


def test_working_sets_start_small_and_skip_gram_rows():
    """A sparse solution with n > p computes only the Gram rows it needs."""
    X, Y = _data(700, 600)
    alpha = _alpha_max(X, Y) / 3
    df = Quadratic(X, Y, None, np.ones(3), mode="gram")
    result = coordinate_descent(df, L21(alpha), np.zeros((600, 3)),
                                tol=1e-8)
    ref = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y)
    np.testing.assert_allclose(result.coef.T, ref.coef_, atol=1e-5)
    assert 0 < df._rows_done.sum() < 0.25 * 600


def test_mode_switch_threshold(monkeypatch):
    monkeypatch.setattr(_datafits, "_GRAM_ENTRIES", 0)
    X, Y = _data(60, 30)
    assert Quadratic(X, Y, None, np.ones(3)).mode == "x"
    monkeypatch.undo()
    assert Quadratic(X, Y, None, np.ones(3)).mode == "gram"
    assert Quadratic(X[:10], Y[:10], None, np.ones(3)).mode == "x"


def test_task_relationship_prox_minimizes_its_objective():
    from scipy.optimize import minimize

    rng = np.random.RandomState(0)
    W = rng.randn(8, 5)
    pen = TaskRelationship(alpha=0.7, relationship_ratio=2.0)
    step = 0.3
    P = pen.prox(W, step)

    def objective(V):
        return 0.5 * np.sum((V - W) ** 2) + step * pen.value(V)

    # The prox acts on singular values: compare with a bounded 1-D solve.
    s = np.linalg.svd(W, compute_uv=False)
    t, gamma = step * pen.alpha, pen.relationship_ratio
    ref = minimize(lambda x: 0.5 * np.sum((x - s) ** 2)
                   + 0.5 * t * (x @ x + gamma * x.sum() ** 2),
                   s, bounds=[(0, None)] * s.size, method="L-BFGS-B",
                   options=dict(ftol=1e-15, gtol=1e-12)).x
    np.testing.assert_allclose(np.linalg.svd(P, compute_uv=False), np.sort(ref)[::-1],
                               atol=1e-6)
    assert np.sum(np.linalg.svd(P, compute_uv=False) > 1e-12) < 5  # some shrunk to 0
    for _ in range(20):
        assert objective(P) <= objective(P + 1e-4 * rng.randn(8, 5))


def test_task_relationship_fista_equals_alternating():
    X, Y = _data(120, 8, n_tasks=4)
    pen = TaskRelationship(alpha=0.05, relationship_ratio=3.0)
    fista = MultiTaskLinearRegressor(pen, tol=1e-14, max_iter=20000).fit(X, Y)
    alternating = MultiTaskLinearRegressor(pen, solver="alternating", tol=1e-10,
                                           max_iter=3000)
    with pytest.warns(ConvergenceWarning):  # alternating minimization is slow
        alternating.fit(X, Y)
    assert fista.solver_ == "fista"
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    n = len(X)

    def objective(W):
        return 0.5 * np.sum((Yc - Xc @ W) ** 2) / n + pen.value(W)

    W = fista.coef_.T
    # Optimality: W is a fixed point of the proximal gradient step.
    step = 0.5 / np.linalg.eigvalsh(Xc.T @ Xc / n)[-1]
    grad = -Xc.T @ (Yc - Xc @ W) / n
    fitted = fista.penalty_
    np.testing.assert_allclose(fitted.prox(W - step * grad, step), W, atol=1e-8)
    # The same (strongly convex) problem: alternating gets near, not as low.
    assert objective(W) <= objective(alternating.coef_.T) + 1e-12
    np.testing.assert_allclose(fista.coef_, alternating.coef_, atol=1e-2)
    # The task covariance of the solution: (W^T W)^(1/2) / its trace (up to the
    # tiny ridge that keeps it invertible).
    eigvals, U = np.linalg.eigh(W.T @ W)
    root = (U * np.sqrt(np.maximum(eigvals, 0))) @ U.T
    np.testing.assert_allclose(fista.task_covariance_, root / np.trace(root),
                               atol=2e-5)

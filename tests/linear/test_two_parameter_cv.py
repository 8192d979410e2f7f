"""2-D cross-validation grids and the sparse plus low-rank model."""

import numpy as np
import pytest
from sklearn.model_selection import KFold

from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    Clustered,
    Dirty,
    GraphLaplacian,
    MeanRegularized,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifierCV,
    Ridge,
    SparseLowRank,
    TaskRelationship,
    TraceNorm,
)

TWO_PARAMETERS = [(L21(), [0.5, 1.0]), (L1(), [0.3, 1.0]), (Dirty(), [0.4, 0.8]),
                  (SparseLowRank(), [0.3, 1.5]), (MeanRegularized(), [0.1, 10.0]),
                  (GraphLaplacian(), [0.1, 10.0]), (TaskRelationship(), [0.5, 5.0]),
                  (Clustered(), [2.0, 20.0])]


@pytest.fixture(scope="module")
def data():
    return make_multitask_regression(n_samples=60, n_features=8, n_tasks=4,
                                     n_informative=4, missing_rate=0.1, noise=1.0,
                                     random_state=0)


@pytest.mark.parametrize("penalty, ratios", TWO_PARAMETERS,
                         ids=[type(p).__name__ for p, _ in TWO_PARAMETERS])
def test_every_second_hyper_parameter_gets_a_cv_grid(data, penalty, ratios):
    X, Y = data
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    params = dict(n_alphas=4, eps=1e-2, cv=folds, tol=1e-8, max_iter=5000)
    est = MultiTaskLinearRegressorCV(penalty, ratios=ratios, **params).fit(X, Y)
    assert est.mse_path_.shape == (2, 4, 3) and est.alphas_.shape == (2, 4)
    name = penalty.ratio_name
    # Each row of the grid is the 1-D search with that ratio fixed.
    for i, ratio in enumerate(ratios):
        one = MultiTaskLinearRegressorCV(penalty.set_params(**{name: ratio}),
                                         **params).fit(X, Y)
        np.testing.assert_allclose(est.mse_path_[i], one.mse_path_, rtol=1e-8)
        np.testing.assert_allclose(est.alphas_[i], one.alphas_)
    mean = est.mse_path_.mean(axis=2)
    i, j = np.unravel_index(np.argmin(mean), mean.shape)
    assert est.ratio_ == ratios[i] and est.alpha_ == est.alphas_[i, j]
    assert getattr(est.penalty_, name) == est.ratio_
    assert est.penalty_.alpha == est.alpha_
    refit = MultiTaskLinearRegressor(est.penalty_, tol=1e-8, max_iter=5000).fit(X, Y)
    # The CV refit is warm-started along the path; penalties without a duality
    # gap stop on the relative change of the objective, hence the tolerance.
    np.testing.assert_allclose(est.coef_, refit.coef_,
                               atol=1e-3 * np.abs(refit.coef_).max())


def test_ratios_need_a_second_hyper_parameter(data):
    X, Y = data
    for penalty in (Ridge(), TraceNorm()):
        with pytest.raises(ValueError, match=f"{type(penalty).__name__} has only "
                                             f"alpha"):
            MultiTaskLinearRegressorCV(penalty, ratios=[0.5]).fit(X, Y)
    with pytest.raises(ValueError, match="l1_ratio=2.0 must be in"):
        MultiTaskLinearRegressorCV(L21(), ratios=[0.5, 2.0], n_alphas=2).fit(X, Y)


def test_classifier_cv_grid_over_l1_ratio():
    from skmtl.datasets import make_multitask_classification

    X, Y = make_multitask_classification(n_samples=90, n_tasks=2, class_sep=2.0,
                                         random_state=0)
    clf = MultiTaskLogisticClassifierCV(L21(), ratios=[0.5, 1.0], n_alphas=3,
                                        cv=3).fit(X, Y)
    assert clf.scores_path_.shape == (2, 3, 3) and clf.ratio_ in (0.5, 1.0)


# -- SparseLowRank -------------------------------------------------------------

def _sparse_plus_low_rank(seed=0, n=200, p=30, K=10, rank=2, n_exceptions=5):
    rng = np.random.RandomState(seed)
    low_rank = rng.randn(p, rank) @ rng.randn(rank, K)
    sparse = np.zeros((p, K))
    sparse[rng.choice(p, n_exceptions, replace=False),
           rng.choice(K, n_exceptions, replace=False)] = 4.0
    X = rng.randn(n, p)
    Y = X @ (low_rank + sparse) + 0.5 * rng.randn(n, K)
    return X, Y, low_rank, sparse


def test_sparse_low_rank_recovers_both_parts():
    X, Y, low_rank, sparse = _sparse_plus_low_rank()
    est = MultiTaskLinearRegressor(SparseLowRank(0.05, sparse_ratio=0.3), tol=1e-10,
                                   max_iter=20000).fit(X, Y)
    np.testing.assert_allclose(est.coef_, est.low_rank_coef_ + est.sparse_coef_)
    # The exceptions land in S, exactly on the true support ...
    found = np.argwhere(np.abs(est.sparse_coef_.T) > 0.5)
    np.testing.assert_array_equal(found, np.argwhere(sparse != 0))
    # ... and L has the true rank: two large singular values.
    s = np.linalg.svd(est.low_rank_coef_, compute_uv=False)
    assert s[1] > 20 * s[2]
    assert np.linalg.norm(est.coef_.T - low_rank - sparse) < 0.1 * np.linalg.norm(
        low_rank + sparse)


def test_sparse_low_rank_beats_its_two_halves_on_held_out_rows():
    X, Y, low_rank, sparse = _sparse_plus_low_rank()
    X_test = np.random.RandomState(1).randn(500, X.shape[1])
    Y_test = X_test @ (low_rank + sparse)
    errors = {}
    for name, penalty, ratios in [("sparse_low_rank", SparseLowRank(), [0.2, 0.4, 0.8]),
                                  ("trace_norm", TraceNorm(), None),
                                  ("l1", L1(), None)]:
        est = MultiTaskLinearRegressorCV(penalty, ratios=ratios, n_alphas=8,
                                         cv=3).fit(X, Y)
        errors[name] = np.mean((est.predict(X_test) - Y_test) ** 2)
    assert errors["sparse_low_rank"] < 0.8 * min(errors["trace_norm"], errors["l1"])


def test_sparse_low_rank_limits_are_the_trace_norm_and_the_lasso():
    X, Y, _, _ = _sparse_plus_low_rank(n=80, p=8, K=5)
    kwargs = dict(tol=1e-12, max_iter=50000)
    # beta > 1: ||S||_* <= ||S||_1, so S = 0 and the model is the trace norm.
    big = MultiTaskLinearRegressor(SparseLowRank(0.3, sparse_ratio=1.5),
                                   **kwargs).fit(X, Y)
    trace = MultiTaskLinearRegressor(TraceNorm(0.3), **kwargs).fit(X, Y)
    assert not np.any(big.sparse_coef_)
    np.testing.assert_allclose(big.coef_, trace.coef_, atol=1e-6)
    # beta < 1 / sqrt(p K): ||L||_1 beta < ||L||_*, so L = 0: the lasso.
    beta = 0.9 / np.sqrt(8 * 5)
    small = MultiTaskLinearRegressor(SparseLowRank(0.3, sparse_ratio=beta),
                                     **kwargs).fit(X, Y)
    lasso = MultiTaskLinearRegressor(L1(0.3 * beta), **kwargs).fit(X, Y)
    assert not np.any(small.low_rank_coef_)
    np.testing.assert_allclose(small.coef_, lasso.coef_, atol=1e-6)


def test_sparse_low_rank_alpha_max_and_duality_gap():
    X, Y, _, _ = _sparse_plus_low_rank(n=80, p=8, K=5)
    pen = SparseLowRank(sparse_ratio=0.5)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    V = Xc.T @ Yc / len(X)
    alpha_max = max(np.linalg.norm(V, 2), np.abs(V).max() / 0.5)
    est = MultiTaskLinearRegressorCV(pen, n_alphas=3, cv=3).fit(X, Y)
    assert est.alphas_[0] == pytest.approx(alpha_max)
    at_max = MultiTaskLinearRegressor(pen.set_params(alpha=1.000001 * alpha_max),
                                      tol=1e-12).fit(X, Y)
    assert not np.any(at_max.coef_)
    below = MultiTaskLinearRegressor(pen.set_params(alpha=0.9 * alpha_max),
                                     tol=1e-12).fit(X, Y)
    assert np.any(below.coef_)
    fit = MultiTaskLinearRegressor(SparseLowRank(0.1, sparse_ratio=0.5), tol=1e-10,
                                   max_iter=50000).fit(X, Y)
    # The gap certifies the objective: no feasible point is lower by more.
    L, S = fit.low_rank_coef_.T, fit.sparse_coef_.T

    def objective(L, S):
        R = Yc - Xc @ (L + S)
        return (0.5 * np.sum(R ** 2) / len(X) + 0.1 * (
            np.linalg.svd(L, compute_uv=False).sum() + 0.5 * np.abs(S).sum()))

    assert 0 <= fit.dual_gap_ <= 1e-10 * np.sum(Yc ** 2) / len(X)
    rng = np.random.RandomState(0)
    best = objective(L, S)
    for _ in range(20):
        assert objective(L + 1e-3 * rng.randn(*L.shape),
                         S + 1e-3 * rng.randn(*S.shape)) >= best - fit.dual_gap_


# -- MeanLowRank -------------------------------------------------------------------

def _mean_plus_low_rank(seed=0, n_per_task=30, p=12, K=15):
    """Tasks = a shared model + deviations along one direction."""
    rng = np.random.RandomState(seed)
    shared = 2.0 * rng.randn(p)
    W = shared[:, None] + np.outer(rng.randn(p), rng.randn(K))
    X = rng.randn(n_per_task * K, p)
    Y = np.full((len(X), K), np.nan)
    for k in range(K):
        rows = slice(k * n_per_task, (k + 1) * n_per_task)
        Y[rows, k] = X[rows] @ W[:, k] + 1.0 * rng.randn(n_per_task)
    return X, Y, W, shared


def test_mean_low_rank_recovers_the_shared_model_and_the_deviation_subspace():
    from skmtl.linear import MeanLowRank

    X, Y, W, shared = _mean_plus_low_rank()
    est = MultiTaskLinearRegressor(MeanLowRank(0.05, mean_ratio=0.0), tol=1e-10,
                                   max_iter=20000).fit(X, Y)
    np.testing.assert_allclose(est.coef_, est.mean_coef_ + est.low_rank_coef_)
    # Every row of mean_coef_ (one per task) is the same shared model ...
    np.testing.assert_allclose(est.mean_coef_, np.tile(est.mean_coef_[0], (15, 1)))
    assert np.corrcoef(est.mean_coef_[0], shared)[0, 1] > 0.95
    # ... and the deviations have one large direction.
    s = np.linalg.svd(est.low_rank_coef_, compute_uv=False)
    assert s[0] > 5 * s[1]


def test_mean_low_rank_beats_mean_regularized_on_low_rank_deviations():
    from skmtl.linear import MeanLowRank

    X, Y, W, _ = _mean_plus_low_rank()
    X_test = np.random.RandomState(1).randn(400, X.shape[1])
    errors = {}
    for name, penalty, ratios in [("mean_low_rank", MeanLowRank(), [0.0, 0.1]),
                                  ("mean_regularized", MeanRegularized(),
                                   [0.01, 0.1, 1.0])]:
        est = MultiTaskLinearRegressorCV(penalty, ratios=ratios, n_alphas=10,
                                         eps=1e-4, cv=3).fit(X, Y)
        errors[name] = np.mean((est.predict(X_test) - X_test @ W) ** 2)
    # MeanRegularized shrinks the deviations in every direction alike.
    assert errors["mean_low_rank"] < 0.6 * errors["mean_regularized"]


def test_mean_low_rank_prox_and_duality_gap():
    from skmtl.linear import MeanLowRank

    pen = MeanLowRank(alpha=0.5, mean_ratio=2.0)
    rng = np.random.RandomState(0)
    V = rng.randn(2, 6, 4)
    P, L = pen.prox(V, 0.3)
    np.testing.assert_allclose(P, np.tile(V[0].mean(1, keepdims=True), 4) / 1.3)
    s_in, s_out = (np.linalg.svd(M, compute_uv=False) for M in (V[1], L))
    np.testing.assert_allclose(s_out, np.maximum(s_in - 0.15, 0), atol=1e-12)
    X, Y, _, _ = _mean_plus_low_rank(n_per_task=10, p=5, K=4)
    Y = np.where(np.isnan(Y), np.nanmean(Y, axis=1, keepdims=True), Y)  # all labels
    fit = MultiTaskLinearRegressor(pen, tol=1e-10, max_iter=50000).fit(X, Y)
    assert np.isfinite(fit.dual_gap_)
    assert 0 <= fit.dual_gap_ <= 1e-10 * np.nansum((Y - Y.mean(0)) ** 2) / len(X)


def _slopes_from_task_features(n_per_task=15, p=4, K=20, seed=0):
    """Tasks whose coefficients are w_0 + B z_k plus a small deviation."""
    rng = np.random.RandomState(seed)
    Z = rng.randn(K, 2)
    W = (rng.randn(p)[:, None] + 1.5 * rng.randn(p, 2) @ Z.T
         + 0.1 * rng.randn(p, K))
    X = rng.randn(n_per_task * K, p)
    Y = np.full((n_per_task * K, K), np.nan)
    for k in range(K):
        rows = slice(k * n_per_task, (k + 1) * n_per_task)
        Y[rows, k] = X[rows] @ W[:, k] + rng.randn(n_per_task)
    return X, Y, W, Z


def test_mean_regularized_task_features_matrix_and_errors():
    column_task = np.arange(4)
    plain = MeanRegularized(0.5, mean_ratio=0.3).prepare(column_task).matrix
    # A task feature that is 0 for every task changes nothing.
    zero = MeanRegularized(0.5, mean_ratio=0.3, task_features=np.zeros((4, 1)))
    np.testing.assert_allclose(zero.prepare(column_task).matrix, plain, atol=1e-12)
    # mean_ratio=0: W is penalized by its residual after a least-squares fit
    # of each row on (1, z_k), here the deviation from the line through z.
    z = np.array([[0.0], [1.0], [2.0], [4.0]])
    pen = MeanRegularized(2.0, mean_ratio=0.0, task_features=z).prepare(column_task)
    w = np.array([[1.0, 2.0, 3.0, 6.0]])  # off the line 1 + z by 1 at the last task
    A = np.c_[np.ones(4), z]
    r = w[0] - A @ np.linalg.lstsq(A, w[0], rcond=None)[0]
    assert pen.value(w) == pytest.approx(r @ r)  # alpha / 2 = 1
    assert pen.value(1.0 + 3.0 * z.T) == pytest.approx(0.0, abs=1e-12)
    # Several columns of one task share its row of task features.
    two = MeanRegularized(1.0, 0.0, task_features=z[:2]).prepare([0, 0, 1])
    assert two.value(np.array([[1.0, 1.0, 2.0]])) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match=r"task_features has shape \(3, 1\) but "
                                         r"there are 4 tasks"):
        MeanRegularized(task_features=z[:3]).prepare(column_task)
    with pytest.raises(ValueError, match="task_features must be finite"):
        MeanRegularized(task_features=[[0.0], [np.nan], [1.0], [2.0]]).prepare(
            column_task)


def test_mean_regularized_task_features_beat_the_plain_mean():
    X, Y, W, Z = _slopes_from_task_features()
    X_test = np.random.RandomState(1).randn(400, X.shape[1])
    errors = {}
    for name, penalty in [("plain", MeanRegularized()),
                          ("task_features", MeanRegularized(task_features=Z))]:
        est = MultiTaskLinearRegressorCV(penalty, ratios=[0.01, 0.1, 1.0],
                                         n_alphas=10, eps=1e-4, cv=3).fit(X, Y)
        errors[name] = np.mean((est.predict(X_test) - X_test @ W) ** 2)
    # Without the task features each task is pulled to the one mean model,
    # far from its own; with them, to the model its features predict.
    assert errors["task_features"] < 0.5 * errors["plain"]

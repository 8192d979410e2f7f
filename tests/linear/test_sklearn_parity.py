"""The behaviours scikit-learn tests on its multi-task linear models, on ours.

Mirrors sklearn/linear_model/tests/test_coordinate_descent.py (the
MultiTaskLasso / MultiTaskElasticNet / ...CV tests): with every label
present and the squared loss, ``L21(alpha, l1_ratio)`` is
``MultiTaskElasticNet(alpha, l1_ratio)``, so numbers are compared with
scikit-learn wherever the models coincide.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    enet_path,
)
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils._testing import create_memmap_backed_data

from skmtl.linear import (
    L1,
    L21,
    Clustered,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    TraceNorm,
    _sweeps,
    regularization_path,
)


def build_dataset(n_samples=50, n_features=200, n_informative=10, n_targets=3,
                  seed=0):
    """scikit-learn's build_dataset: a linear model with a few features."""
    rng = np.random.RandomState(seed)
    w = rng.randn(n_features, n_targets)
    w[n_informative:] = 0.0
    X = rng.randn(n_samples, n_features)
    return X, X @ w


@pytest.fixture(scope="module")
def tall():
    return build_dataset(n_samples=80, n_features=12, n_informative=5)


@pytest.fixture(scope="module")
def wide():
    return build_dataset(n_samples=40, n_features=60, n_informative=8)


TIGHT = dict(tol=1e-12, max_iter=50000)


# -- fits --------------------------------------------------------------------

@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_fit_equals_multitask_elastic_net(request, l1_ratio, shape):
    X, Y = request.getfixturevalue(shape)
    alpha = 0.05
    ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12,
                              max_iter=200000).fit(X, Y)
    est = MultiTaskLinearRegressor(L21(alpha, l1_ratio=l1_ratio), **TIGHT).fit(X, Y)
    # Weakly strongly convex (p > n): a gap of 1e-13 still moves W by ~1e-6.
    atol = 1e-6 if shape == "tall" else 1e-5
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=atol)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=atol)
    assert est.dual_gap_ < 1e-10 * np.sum((Y - Y.mean(0)) ** 2) / len(X)


def test_identical_targets_get_identical_rows(tall):
    X, y = tall[0], tall[1][:, 0]
    Y = np.c_[y, y]
    for penalty in (L21(1.0), L21(1.0, l1_ratio=0.5)):
        est = MultiTaskLinearRegressor(penalty, tol=1e-8).fit(X, Y)
        assert 0 <= est.dual_gap_ < 1e-5
        np.testing.assert_allclose(est.coef_[0], est.coef_[1], atol=1e-10)


def test_independent_elastic_net_per_target(tall):
    """L1 with l1_ratio is ElasticNet on each column (test_enet_multitarget)."""
    X, Y = tall
    est = MultiTaskLinearRegressor(L1(0.01, l1_ratio=0.6), **TIGHT).fit(X, Y)
    for k in range(Y.shape[1]):
        ref = ElasticNet(alpha=0.01, l1_ratio=0.6, tol=1e-12, max_iter=100000).fit(
            X, Y[:, k])
        np.testing.assert_allclose(est.coef_[k], ref.coef_, atol=1e-6)
        np.testing.assert_allclose(est.intercept_[k], ref.intercept_, atol=1e-6)


def test_max_iter_reached_warns(tall):
    X, Y = tall
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1"):
        est = MultiTaskLinearRegressor(L21(1e-4, l1_ratio=0.5), tol=1e-12,
                                       max_iter=1).fit(X, Y)
    assert est.n_iter_ == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MultiTaskLinearRegressor(L21(0.1), tol=1e-6).fit(X, Y)


def test_read_only_arrays_and_memmaps(tall, tmp_path):
    X, Y = tall
    ref = MultiTaskLasso(alpha=0.1, tol=1e-12, max_iter=100000).fit(X, Y)
    frozen_X, frozen_Y = X.copy(), Y.copy()
    frozen_X.setflags(write=False)
    frozen_Y.setflags(write=False)
    mapped_X, mapped_Y = create_memmap_backed_data((X, Y))
    assert not mapped_X.flags.writeable
    for data in ((frozen_X, frozen_Y), (mapped_X, mapped_Y)):
        est = MultiTaskLinearRegressor(L21(0.1), **TIGHT).fit(*data)
        np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
        np.testing.assert_allclose(est.predict(data[0]), ref.predict(X), atol=1e-6)
        cv = MultiTaskLinearRegressorCV(L21(), n_alphas=3, cv=3).fit(*data)
        assert cv.mse_path_.shape == (3, 3)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_X_equals_dense_with_weights(wide, fit_intercept):
    X, Y = wide
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    kwargs = dict(fit_intercept=fit_intercept, **TIGHT)
    dense = MultiTaskLinearRegressor(L21(0.05, l1_ratio=0.8), **kwargs).fit(
        X, Y, sample_weight=w)
    sparse = MultiTaskLinearRegressor(L21(0.05, l1_ratio=0.8), **kwargs).fit(
        sp.csr_matrix(X), Y, sample_weight=w)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-7)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-7)
    ref = MultiTaskElasticNet(alpha=0.05, l1_ratio=0.8, fit_intercept=fit_intercept,
                              tol=1e-12, max_iter=200000).fit(X, Y, sample_weight=w)
    np.testing.assert_allclose(dense.coef_, ref.coef_, atol=1e-5)


def test_float32_in_float32_out(tall):
    X, Y = tall
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    est = MultiTaskLinearRegressor(L21(0.1), tol=1e-8).fit(X32, Y32)
    ref = MultiTaskLasso(alpha=0.1, tol=1e-8).fit(X32, Y32)
    assert est.coef_.dtype == ref.coef_.dtype == np.float32
    assert est.intercept_.dtype == ref.intercept_.dtype == np.float32
    assert est.predict(X32).dtype == ref.predict(X32).dtype == np.float32
    assert est.predict(X).dtype == ref.predict(X).dtype == np.float64
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-4)
    assert MultiTaskLinearRegressor(L21(0.1)).fit(X, Y).coef_.dtype == np.float64


def test_integer_X(tall):
    """test_multi_task_lasso_cv_dtype: integer X, two copies of one feature."""
    rng = np.random.RandomState(42)
    X = rng.binomial(1, 0.5, size=(10, 3)).astype(int)
    Y = X[:, [0, 0]].copy()
    # tol=1e-8: the duality gap here uses a better dual point (dual
    # extrapolation) than scikit-learn's, so the same tol stops earlier.
    est = MultiTaskLinearRegressorCV(L21(), n_alphas=5, tol=1e-8, cv=KFold(5)).fit(
        X, Y)
    ref = MultiTaskLassoCV(alphas=5, fit_intercept=True, tol=1e-6).fit(X, Y)
    np.testing.assert_allclose(est.coef_, [[1, 0, 0]] * 2, atol=1.5e-3)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)


@pytest.mark.parametrize("missing", [False, True])
def test_uniform_targets_give_zero_coefficients(tall, missing):
    X, _ = tall
    Y = np.tile([2.0, -1.0, 0.5], (len(X), 1))
    if missing:
        Y[::3, 1] = np.nan
    for penalty in (L21(0.1), TraceNorm(0.1), Clustered(0.1)):
        est = MultiTaskLinearRegressor(penalty).fit(X, Y)
        np.testing.assert_allclose(est.coef_, 0.0, atol=1e-12)
        np.testing.assert_allclose(est.intercept_, [2.0, -1.0, 0.5])
        np.testing.assert_allclose(est.predict(X[:5]), np.tile([2.0, -1.0, 0.5],
                                                               (5, 1)))
    ref = MultiTaskLasso(alpha=0.1).fit(X, np.tile([2.0, -1.0, 0.5], (len(X), 1)))
    np.testing.assert_array_equal(ref.coef_, 0.0)


# -- warm start and iterations ------------------------------------------------

@pytest.mark.parametrize("penalty, solver", [
    (L21(1e-4), "cd"), (L21(1e-4), "gram_cd"), (L21(0.01), "fista"),
    (TraceNorm(0.01), "fista"), (Clustered(0.05), "alternating")],
    ids=["l21_cd", "l21_gram_cd", "l21_fista", "trace", "clustered"])
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_warm_start_five_then_five_equals_ten(request, penalty, solver, shape):
    """test_warm_start_multitask_lasso, exactly (the solver state continues)."""
    X, Y = request.getfixturevalue(shape)
    if solver in ("cd", "gram_cd"):  # converges in 5 iterations on the fixtures
        X, Y = build_dataset(n_samples=40 if shape == "wide" else 130,
                             n_features=300 if shape == "wide" else 128)
        Y = Y + np.random.RandomState(1).randn(*Y.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ten = MultiTaskLinearRegressor(penalty, solver=solver, max_iter=10,
                                       tol=0).fit(X, Y)
        twice = MultiTaskLinearRegressor(penalty, solver=solver, max_iter=5, tol=0,
                                         warm_start=True).fit(X, Y)
        twice.fit(X, Y)
        five = MultiTaskLinearRegressor(penalty, solver=solver, max_iter=5,
                                        tol=0).fit(X, Y)
    np.testing.assert_allclose(twice.coef_, ten.coef_, rtol=0, atol=1e-10)
    assert twice.n_iter_ == 5 and ten.n_iter_ == 10  # per call, as scikit-learn
    # The test can fail: five iterations are not ten.
    assert np.abs(five.coef_ - ten.coef_).max() > 1e-6
    ref = MultiTaskLasso(alpha=0.1, max_iter=5, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, Y)
        ref.fit(X, Y)
    assert ref.n_iter_ <= 5  # scikit-learn also counts the last call only


def test_max_iter_bounds_the_inner_work():
    X, Y = build_dataset(n_samples=50, n_features=25, n_informative=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Used to run 50,000 FISTA steps on its one-block working set.
        est = MultiTaskLinearRegressor(L21(0.05), max_iter=1, tol=0).fit(X, Y)
        wide = MultiTaskLinearRegressor(L21(1e-4), max_iter=3, tol=0).fit(
            *build_dataset(n_samples=40, n_features=300))
        alternating = MultiTaskLinearRegressor(Clustered(0.05), max_iter=2,
                                               tol=0).fit(X, Y)
    assert est.n_iter_ <= 1 and 0 < est.n_inner_iter_ <= 1000
    assert wide.n_iter_ <= 3 and 0 < wide.n_inner_iter_ <= 3 * 1000
    assert alternating.n_iter_ == 2 and alternating.n_inner_iter_ <= 2 * 1000
    assert _sweeps.MAX_SWEEPS == 100


# -- selection="random" -------------------------------------------------------

def test_random_selection_reaches_the_cyclic_solution(monkeypatch, wide):
    monkeypatch.setattr(_sweeps, "BLOCK", 4)  # several blocks per working set
    X, Y = wide
    kwargs = dict(tol=1e-10, max_iter=20000)
    cyclic = MultiTaskLinearRegressor(L21(0.02), **kwargs).fit(X, Y)
    random = MultiTaskLinearRegressor(L21(0.02), selection="random",
                                      random_state=0, **kwargs).fit(X, Y)
    again = MultiTaskLinearRegressor(L21(0.02), selection="random",
                                     random_state=0, **kwargs).fit(X, Y)
    other = MultiTaskLinearRegressor(L21(0.02), selection="random",
                                     random_state=1, **kwargs).fit(X, Y)
    ref = MultiTaskLasso(alpha=0.02, selection="random", random_state=42, tol=1e-12,
                         max_iter=200000).fit(X, Y)
    np.testing.assert_allclose(random.coef_, cyclic.coef_, atol=1e-6)
    np.testing.assert_allclose(random.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_array_equal(random.coef_, again.coef_)  # seeded
    # Another visiting order takes another path: not bit-identical.
    assert not np.array_equal(random.coef_, cyclic.coef_)
    assert not np.array_equal(random.coef_, other.coef_)
    with pytest.raises(ValueError, match="selection"):
        MultiTaskLinearRegressor(selection="shuffle").fit(X, Y)


# -- positive ------------------------------------------------------------------

def test_positive_l1_is_positive_lasso_per_task(tall):
    X, Y = tall
    est = MultiTaskLinearRegressor(L1(0.05, positive=True), **TIGHT).fit(X, Y)
    assert est.coef_.min() >= 0 and np.any(est.coef_ > 0)
    for k in range(Y.shape[1]):
        ref = Lasso(alpha=0.05, positive=True, tol=1e-12, max_iter=100000).fit(
            X, Y[:, k])
        np.testing.assert_allclose(est.coef_[k], ref.coef_, atol=1e-7)
    unconstrained = MultiTaskLinearRegressor(L1(0.05), **TIGHT).fit(X, Y)
    assert unconstrained.coef_.min() < -0.1  # the constraint is active


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_positive_l21_one_task_is_positive_lasso_and_kkt_holds(tall, solver):
    X, Y = tall
    one = MultiTaskLinearRegressor(L21(0.05, positive=True), solver=solver,
                                   **TIGHT).fit(X, Y[:, 0])
    ref = Lasso(alpha=0.05, positive=True, tol=1e-12, max_iter=100000).fit(X, Y[:, 0])
    np.testing.assert_allclose(one.coef_, ref.coef_, atol=1e-7)
    # Several tasks: the projected-gradient optimality conditions.
    est = MultiTaskLinearRegressor(L21(0.05, positive=True), solver=solver,
                                   **TIGHT).fit(X, Y)
    W = est.coef_.T
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    G = Xc.T @ (Yc - Xc @ W) / len(X)  # negative gradient
    active = np.linalg.norm(W, axis=1) > 0
    assert W.min() >= 0
    np.testing.assert_allclose(G[active] * (W[active] > 0),
                               0.05 * W[active] / np.linalg.norm(W[active], axis=1,
                                                                 keepdims=True),
                               atol=1e-6)
    assert np.all(np.linalg.norm(np.maximum(G[~active], 0), axis=1) <= 0.05 + 1e-8)


def test_positive_alpha_max_sees_positive_correlations_only(tall):
    X, Y = tall
    pen = L21(positive=True)
    path = regularization_path(X, Y, pen, n_alphas=4)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    V = Xc.T @ Yc / len(X)
    alpha_max = np.linalg.norm(np.maximum(V, 0), axis=1).max()
    assert path.alphas[0] == pytest.approx(alpha_max)
    assert not np.any(path.coefs[..., 0]) and np.any(path.coefs[..., 1])


# -- paths and alpha grids ------------------------------------------------------

def test_path_equals_enet_path(tall):
    X, Y = tall
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    alphas = np.geomspace(0.5, 0.005, 6)
    _, ref_coefs, _ = enet_path(Xc, Yc, l1_ratio=0.7, alphas=alphas, tol=1e-12,
                                max_iter=100000)
    path = regularization_path(Xc, Yc, L21(l1_ratio=0.7), alphas=alphas,
                               fit_intercept=False, tol=1e-12, max_iter=50000)
    np.testing.assert_allclose(path.alphas, alphas)
    np.testing.assert_allclose(path.coefs, ref_coefs, atol=5e-6)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_alpha_grid_and_alpha_max_equal_scikit_learn(tall, l1_ratio, weighted):
    X, Y = tall
    w = np.linspace(1, 5, len(X)) if weighted else None
    ref = MultiTaskElasticNetCV(l1_ratio=l1_ratio, alphas=7, eps=1e-2, cv=3).fit(
        X, Y, sample_weight=w)
    est = MultiTaskLinearRegressorCV(L21(l1_ratio=l1_ratio), n_alphas=7, eps=1e-2,
                                     cv=3).fit(X, Y, sample_weight=w)
    np.testing.assert_allclose(est.alphas_, ref.alphas_, rtol=1e-10)
    # alpha_max is the smallest alpha with W = 0.
    at_max = MultiTaskLinearRegressor(L21(est.alphas_[0], l1_ratio=l1_ratio),
                                      **TIGHT).fit(X, Y, sample_weight=w)
    below = MultiTaskLinearRegressor(L21(0.99 * est.alphas_[0], l1_ratio=l1_ratio),
                                     **TIGHT).fit(X, Y, sample_weight=w)
    assert not np.any(at_max.coef_) and np.any(below.coef_)


@pytest.mark.parametrize("X_is_sparse", [False, sp.csc_array, sp.csc_matrix])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("sample_weight", [np.array([1, 10, 1, 10]), None])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_enet_alpha_max(X_is_sparse, fit_intercept, sample_weight, l1_ratio):
    """scikit-learn's test_enet_alpha_max (MultiTaskElasticNet cases), adapted:
    ``eps=1`` makes a one-value grid at alpha_max, as MultiTaskElasticNetCV
    accepts it."""
    X = np.array([[3.0, -1.0], [2.0, -5.0], [5.0, -3.0], [1.0, -4.0]])
    Y = np.tile((X @ np.array([1, -2]))[:, None], reps=(1, 3))
    if X_is_sparse:
        X = X_is_sparse(X)
    reg = MultiTaskLinearRegressorCV(L21(l1_ratio=l1_ratio), n_alphas=1, cv=2,
                                     eps=1, fit_intercept=fit_intercept)
    reg.fit(X, Y, sample_weight=sample_weight)
    np.testing.assert_allclose(reg.coef_, 0, atol=1e-5)
    ref = MultiTaskElasticNetCV(l1_ratio=l1_ratio, alphas=1, cv=2, eps=1,
                                fit_intercept=fit_intercept).fit(
        X, Y, sample_weight=sample_weight)
    assert reg.alpha_ == pytest.approx(ref.alpha_, rel=1e-10)
    # A smaller alpha makes coefficients non-zero.
    below = MultiTaskLinearRegressor(L21(0.99 * reg.alpha_, l1_ratio=l1_ratio),
                                     tol=1e-8, fit_intercept=fit_intercept)
    below.fit(X, Y, sample_weight=sample_weight)
    assert np.max(np.abs(below.coef_)) > 1e-3


# -- cross-validation -----------------------------------------------------------

def test_cv_over_alphas_and_l1_ratios_equals_multitask_elastic_net_cv(tall):
    X, Y = tall
    cv = KFold(3)
    ref = MultiTaskElasticNetCV(alphas=5, eps=2e-3, l1_ratio=[0.3, 0.5, 0.9], cv=cv,
                                tol=1e-12, max_iter=200000).fit(X, Y)
    est = MultiTaskLinearRegressorCV(L21(), ratios=[0.3, 0.5, 0.9], n_alphas=5,
                                     eps=2e-3, cv=cv, tol=1e-12,
                                     max_iter=50000).fit(X, Y)
    assert est.mse_path_.shape == ref.mse_path_.shape == (3, 5, 3)
    assert est.alphas_.shape == ref.alphas_.shape == (3, 5)
    np.testing.assert_allclose(est.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-4)
    assert est.ratio_ == ref.l1_ratio_ and est.alpha_ == pytest.approx(ref.alpha_)
    assert est.penalty_.l1_ratio == ref.l1_ratio_
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)


def test_cv_lasso_equals_multitask_lasso_cv(wide):
    X, Y = wide
    cv = KFold(3)
    ref = MultiTaskLassoCV(alphas=6, eps=1e-2, cv=cv, tol=1e-12,
                           max_iter=200000).fit(X, Y)
    est = MultiTaskLinearRegressorCV(L21(), n_alphas=6, eps=1e-2, cv=cv, tol=1e-12,
                                     max_iter=50000).fit(X, Y)
    assert est.mse_path_.shape == ref.mse_path_.shape == (6, 3)
    np.testing.assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-5)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)


def test_weighted_cv_equals_scikit_learn_and_repeated_rows(tall):
    """Issue 16 (a): held-out rows are scored with their weights."""
    X, Y = tall
    rng = np.random.RandomState(0)
    w = rng.randint(1, 4, len(X)).astype(float)
    cv = list(KFold(3).split(X))
    ref = MultiTaskElasticNetCV(alphas=6, eps=1e-2, l1_ratio=0.8, cv=cv, tol=1e-12,
                                max_iter=200000).fit(X, Y, sample_weight=w)
    est = MultiTaskLinearRegressorCV(L21(l1_ratio=0.8), n_alphas=6, eps=1e-2, cv=cv,
                                     tol=1e-12, max_iter=50000).fit(
        X, Y, sample_weight=w)
    np.testing.assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-4)
    assert est.alpha_ == pytest.approx(ref.alpha_)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    unweighted = MultiTaskLinearRegressorCV(L21(l1_ratio=0.8), alphas=est.alphas_,
                                            cv=cv, tol=1e-12, max_iter=50000).fit(
        X, Y, sample_weight=np.ones(len(X)))
    assert np.abs(unweighted.mse_path_ - est.mse_path_).max() > 1e-4


@pytest.mark.parametrize("weighted", [False, True])
def test_cv_equals_grid_search(tall, weighted):
    """test_enet_cv_grid_search: the CV estimator is a grid search."""
    X, Y = tall
    w = np.linspace(1, 5, len(X)) if weighted else None
    alphas = np.logspace(-4, 0, 6)
    ratios = [0.1, 0.5, 0.9]
    est = MultiTaskLinearRegressorCV(L21(), alphas=alphas, ratios=ratios, cv=KFold(5),
                                     tol=1e-10).fit(X, Y, sample_weight=w)
    search = GridSearchCV(MultiTaskLinearRegressor(L21(), tol=1e-10),
                          {"penalty__alpha": alphas, "penalty__l1_ratio": ratios},
                          cv=KFold(5), scoring="neg_mean_squared_error").fit(
        X, Y, sample_weight=w)
    assert est.ratio_ == pytest.approx(search.best_params_["penalty__l1_ratio"])
    assert est.alpha_ == pytest.approx(search.best_params_["penalty__alpha"])


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_one_target_cv_equals_single_output_cv(tall, l1_ratio):
    X, y = tall[0], tall[1][:, 0]
    Ref = LassoCV if l1_ratio == 1.0 else ElasticNetCV
    params = {} if l1_ratio == 1.0 else {"l1_ratio": [0.5, 0.7]}
    ref = Ref(alphas=5, eps=2e-3, cv=KFold(5), tol=1e-12, max_iter=100000,
              **params).fit(X, y)
    est = MultiTaskLinearRegressorCV(L21(), n_alphas=5, eps=2e-3, cv=KFold(5),
                                     ratios=params.get("l1_ratio"), tol=1e-12,
                                     max_iter=50000).fit(X, y)
    assert est.alpha_ == pytest.approx(ref.alpha_)
    if params:
        assert est.ratio_ == ref.l1_ratio_
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    assert np.ndim(est.intercept_) == 0
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sample_weight_consistency(tall, fit_intercept):
    """ones == None == a number; scaling has no effect (np.average semantics)."""
    X, Y = tall
    kwargs = dict(fit_intercept=fit_intercept, **TIGHT)
    ref = MultiTaskLinearRegressor(L21(0.05, l1_ratio=0.5), **kwargs).fit(X, Y)
    for w in (np.ones(len(X)), 123.0, 2 * np.ones(len(X))):
        est = MultiTaskLinearRegressor(L21(0.05, l1_ratio=0.5), **kwargs).fit(
            X, Y, sample_weight=w)
        np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-10)
        np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-10)
    cv = MultiTaskLinearRegressorCV(L21(), n_alphas=4, cv=KFold(3),
                                    fit_intercept=fit_intercept).fit(X, Y)
    cv_scaled = MultiTaskLinearRegressorCV(L21(), n_alphas=4, cv=KFold(3),
                                           fit_intercept=fit_intercept).fit(
        X, Y, sample_weight=7.0)
    np.testing.assert_allclose(cv_scaled.mse_path_, cv.mse_path_, rtol=1e-8)

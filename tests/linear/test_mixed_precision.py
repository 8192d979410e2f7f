"""Mixed precision in the Gram space: a float32 Gram matrix refined in float64.

A single fit in the Gram space whose working sets grow to most features
builds the Gram matrix in float32 (half the time) and anchors every
working-set solve at the exact gradient computed through ``X`` in float64
(``_cd.coordinate_descent``, ``Quadratic.approximate_gram``). These tests
check that it reaches the float64 solution and gap, against the float64
Gram space, scikit-learn and coordinate descent through ``X``, and where it
is (not) used.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskElasticNet, MultiTaskLasso

from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L1,
    L21,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    regularization_path,
)
from skmtl.linear._datafits import Quadratic

TIGHT = dict(tol=1e-12, max_iter=20000)
# Through X the gap stalls near 1e-11 relative on these data (rounding).
THROUGH_X = dict(tol=1e-10, max_iter=5000)


def _data(n=300, p=100, n_tasks=5, random_state=0, **kwargs):
    X, Y = make_multitask_regression(n_samples=n, n_features=p, n_tasks=n_tasks,
                                     n_informative=15, noise=0.5,
                                     random_state=random_state, **kwargs)
    # Features of unequal means and scales: centering happens before float32.
    scales = np.random.RandomState(random_state).uniform(0.5, 2.0, p)
    return X * scales + 5.0 * scales, Y


def _alpha_max(X, Y, sample_weight=None):
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    w = w / w.sum()
    Xc, Yc = X - w @ X, Y - w @ Y
    return np.sqrt(((Xc.T @ (w[:, None] * Yc)) ** 2).sum(1)).max()


@pytest.fixture
def float32_grams(monkeypatch):
    """Count the float32 Gram matrices built (one per mixed-precision fit)."""
    built = []
    original = Quadratic.approximate_gram

    def spy(self):
        if self._gram32 is None:
            built.append(self.n_features)
        return original(self)

    monkeypatch.setattr(Quadratic, "approximate_gram", spy)
    return built


def _objective(X, Y, coef, intercept, alpha, l1_ratio=1.0, sample_weight=None):
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    R = Y - X @ coef.T - intercept
    norms = np.sqrt((coef ** 2).sum(0))
    return (0.5 * (w[:, None] * R ** 2).sum() / w.sum()
            + alpha * l1_ratio * norms.sum()
            + 0.5 * alpha * (1 - l1_ratio) * (coef ** 2).sum())


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_reaches_the_float64_solution(float32_grams, fit_intercept, weighted, seed):
    X, Y = _data(random_state=seed)
    if not fit_intercept:
        X = X - X.mean(0)  # uncentered features of mean 5 condition it badly
    sw = (np.random.RandomState(seed).uniform(0.2, 3.0, len(X)) if weighted
          else None)
    alpha = _alpha_max(X, Y, sw) / 100
    est = MultiTaskLinearRegressor(L21(alpha), fit_intercept=fit_intercept,
                                   **TIGHT).fit(X, Y, sample_weight=sw)
    assert est.solver_ == "gram_cd" and float32_grams == [X.shape[1]]
    # The float64 Gram space (regularization_path: several solves, no float32)
    path = regularization_path(X, Y, L21(), alphas=[alpha, alpha],
                               fit_intercept=fit_intercept, sample_weight=sw,
                               **TIGHT)
    assert float32_grams == [X.shape[1]]
    np.testing.assert_allclose(est.coef_, path.coefs[..., 0], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.intercept_, path.intercepts[..., 0], rtol=1e-7,
                               atol=1e-7)
    # Its gap is a true float64 gap: below tol * 2 f(0) and above the
    # suboptimality of its objective.
    mean = np.average(Y, axis=0, weights=sw) if fit_intercept else 0.0
    yy = np.average(((Y - mean) ** 2).sum(1), weights=sw)
    assert 0 <= est.dual_gap_ <= 1e-12 * yy
    if sw is None and fit_intercept:
        ref = MultiTaskLasso(alpha=alpha, tol=1e-10, max_iter=100000).fit(X, Y)
        assert (_objective(X, Y, est.coef_, est.intercept_, alpha)
                <= _objective(X, Y, ref.coef_, ref.intercept_, alpha) + 1e-14)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_the_gap_certifies_the_objective_at_every_tol(float32_grams, tol):
    X, Y = _data(n=400, p=150)
    alpha = _alpha_max(X, Y) / 100
    est = MultiTaskLinearRegressor(L21(alpha), tol=tol).fit(X, Y)
    best = MultiTaskLinearRegressor(L21(alpha), **TIGHT).fit(X, Y)
    assert len(float32_grams) == 2
    excess = (_objective(X, Y, est.coef_, est.intercept_, alpha)
              - _objective(X, Y, best.coef_, best.intercept_, alpha))
    yy = ((Y - Y.mean(0)) ** 2).sum() / len(X)
    assert -1e-12 <= excess <= est.dual_gap_ <= tol * yy


def test_elastic_net_and_l1_equal_the_solution_through_x(float32_grams, monkeypatch):
    X, Y = _data()
    alpha = _alpha_max(X, Y) / 100
    enet = MultiTaskLinearRegressor(L21(alpha, l1_ratio=0.7), **TIGHT).fit(X, Y)
    l1 = MultiTaskLinearRegressor(L1(alpha / 3), **TIGHT).fit(X, Y)
    assert len(float32_grams) == 2
    ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=0.7, tol=1e-12,
                              max_iter=100000).fit(X, Y)
    # scikit-learn's own gap at tol=1e-12 bounds its distance by about 1e-6.
    np.testing.assert_allclose(enet.coef_, ref.coef_, atol=1e-5)
    # Coordinate descent through X in float64 (no Gram matrix at all).
    from skmtl.linear import _datafits

    monkeypatch.setattr(_datafits, "_GRAM_ENTRIES", 0)
    for mixed, pen in ((enet, L21(alpha, l1_ratio=0.7)), (l1, L1(alpha / 3))):
        through_x = MultiTaskLinearRegressor(pen, **THROUGH_X).fit(X, Y)
        assert through_x.solver_ == "cd"
        # A gap of 1e-10 * 2 f(0) leaves ~1e-5 of room where the penalty is
        # weakly convex; each gap bounds the other's advantage.
        np.testing.assert_allclose(mixed.coef_, through_x.coef_, atol=1e-4)
        ratio = pen.l1_ratio
        ours = _objective(X, Y, mixed.coef_, mixed.intercept_, pen.alpha, ratio)
        theirs = _objective(X, Y, through_x.coef_, through_x.intercept_,
                            pen.alpha, ratio)
        assert ours - theirs <= mixed.dual_gap_ + 1e-14
        assert theirs - ours <= through_x.dual_gap_ + 1e-14
    assert len(float32_grams) == 2


def test_paths_and_cross_validation_stay_in_float64(float32_grams):
    """Along a path the float64 Gram matrix gives every outer gradient cheaply."""
    X, Y = _data()
    path = regularization_path(X, Y, L21(), n_alphas=5, eps=1e-2, **TIGHT)
    cv = MultiTaskLinearRegressorCV(L21(), n_alphas=5, eps=1e-2, cv=3).fit(X, Y)
    assert float32_grams == []
    single = MultiTaskLinearRegressor(L21(path.alphas[-1]), **TIGHT).fit(X, Y)
    assert float32_grams == [X.shape[1]]
    np.testing.assert_allclose(single.coef_, path.coefs[..., -1], atol=1e-5)
    assert cv.alpha_ in cv.alphas_


def test_missing_labels_stay_in_float64(float32_grams):
    """One Gram matrix per task column: the float64 ones, as before."""
    X, Y = _data(missing_rate=0.3)
    alpha = _alpha_max(X, np.nan_to_num(Y)) / 100
    est = MultiTaskLinearRegressor(L21(alpha), **TIGHT).fit(X, Y)
    assert est.solver_ == "gram_cd" and float32_grams == []
    # (coordinate descent through X converges slowly with missing labels:
    # accelerated proximal gradient is the reference)
    ref = MultiTaskLinearRegressor(L21(alpha), solver="fista", tol=1e-10,
                                   max_iter=20000).fit(X, Y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-7)


def test_warm_start_continues_a_mixed_precision_run_exactly(float32_grams,
                                                           monkeypatch):
    from skmtl.linear import _sweeps

    monkeypatch.setattr(_sweeps, "MAX_SWEEPS", 2)  # many outer iterations
    X, Y = _data()
    alpha = _alpha_max(X, Y) / 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        six = MultiTaskLinearRegressor(L21(alpha), max_iter=6, tol=0).fit(X, Y)
        twice = MultiTaskLinearRegressor(L21(alpha), max_iter=3, tol=0,
                                         warm_start=True).fit(X, Y)
        twice.fit(X, Y)
        three = MultiTaskLinearRegressor(L21(alpha), max_iter=3, tol=0).fit(X, Y)
    # Every fit switched to float32 at once, the continued one from its state.
    assert len(float32_grams) == 4
    assert six.n_iter_ == 6 and twice.n_iter_ == 3
    np.testing.assert_allclose(twice.coef_, six.coef_, rtol=0, atol=1e-10)
    assert np.abs(three.coef_ - six.coef_).max() > 1e-6


@pytest.mark.parametrize("factor", [10, 100])
def test_wide_problems_equal_multitask_lasso(float32_grams, factor):
    """p > n: coordinate descent through X (its two gradients in one product)."""
    X, Y = _data(n=60, p=300)
    alpha = _alpha_max(X, Y) / factor
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MultiTaskLinearRegressor(L21(alpha), **THROUGH_X).fit(X, Y)
    ref = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=200000).fit(X, Y)
    assert est.solver_ == "cd" and est.n_iter_ > 1 and float32_grams == []
    assert (_objective(X, Y, est.coef_, est.intercept_, alpha)
            <= _objective(X, Y, ref.coef_, ref.intercept_, alpha) + est.dual_gap_)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


def test_a_working_set_solved_to_the_end_grows():
    """Regression: warm-started on a fold, the working set of 64 features was
    solved to the end again and again while the gap stayed above tol (its
    priorities came from an old dual point): 1000 iterations, no convergence."""
    X, Y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cv = MultiTaskLinearRegressorCV(L21(), n_alphas=5, eps=1e-2, cv=3).fit(X, Y)
    assert cv.n_iter_ < 20

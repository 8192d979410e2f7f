"""A penalty, a solver and a datafit written in user code work with the linear
models.

What "How skmtl is built" promises: a new penalty is one class (a
:class:`~skmtl.linear.Penalty` with ``value`` and ``prox``), a new solver
one class (a :class:`~skmtl.linear.Solver` that states what it needs and
implements ``solve`` through the datafit protocol), a new datafit one class
(a :class:`~skmtl.linear.Datafit` with the protocol's methods); none needs a
change to the package.
"""

import numpy as np
import pytest
from sklearn.linear_model import MultiTaskLasso

from skmtl.datasets import make_multitask_classification, make_multitask_regression
from skmtl.linear import (
    FISTA,
    L21,
    CoordinateDescent,
    Datafit,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    MultiTaskLogisticClassifier,
    Penalty,
    Solver,
    SolverResult,
    TraceNorm,
)


class ProximalGradient(Solver):
    """Plain proximal gradient (no momentum), through the datafit protocol."""

    name = "proximal_gradient"
    penalty_needs = ("value", "prox")

    def __init__(self, step_scale=1.0):
        self.step_scale = step_scale

    def solve(self, datafit, penalty, V0, b0=None, *, max_iter=1000, tol=1e-4,
              state=None):
        step = self.step_scale / datafit.lipschitz()
        V = np.array(V0, dtype=float)
        b = np.zeros(datafit.n_columns) if b0 is None else np.array(b0, dtype=float)
        converged = False
        n_iter = 0
        for n_iter in range(1, max_iter + 1):  # noqa: B007
            _, gW, gb = datafit.value_and_gradient(V, b, datafit.state(V, b))
            V_new = penalty.prox(V - step * gW, step)
            if gb is not None:
                b = b - step * gb
            change = np.abs(V_new - V).max()
            V = V_new
            if change < tol:
                converged = True
                break
        return SolverResult(V, datafit.intercept(V, b), n_iter, converged=converged)


class NeedsRows(ProximalGradient):
    name = "needs_rows"
    penalty_needs = ("prox_rows",)


class PlainSquares(Datafit):
    """``||Y - X W||_F^2 / (2 n)`` without intercept, computed through ``X``."""

    def __init__(self, X, Y):
        self.X, self.Y = X, Y
        self.n_features, self.n_columns = X.shape[1], Y.shape[1]
        self.column_weights = np.ones(self.n_columns)

    def state(self, W, b):
        return self.X @ W

    def value(self, W, b, S):
        return 0.5 * np.sum((self.Y - S) ** 2) / len(self.X)

    def value_and_gradient(self, W, b, S):
        return self.value(W, b, S), self.X.T @ (S - self.Y) / len(self.X), None

    def lipschitz(self):
        return np.linalg.norm(self.X, 2) ** 2 / len(self.X)

    def intercept(self, W, b):
        return np.zeros(self.n_columns)

    def negative_gradient_at_zero(self):
        return self.X.T @ self.Y / len(self.X), np.zeros(self.n_columns)


class WeightedGroupLasso(Penalty):
    """``alpha * sum_j weights_j ||W_j||``: a feature's own L2,1 weight."""

    def __init__(self, alpha=0.1, weights=None):
        self.alpha = alpha
        self.weights = weights

    def value(self, W):
        return self.alpha * float(np.sum(self.weights * np.linalg.norm(W, axis=1)))

    def prox(self, W, step):
        norms = np.linalg.norm(W, axis=1, keepdims=True)
        threshold = step * self.alpha * np.asarray(self.weights)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            shrink = np.where(norms > threshold, 1 - threshold / norms, 0.0)
        return W * shrink


@pytest.fixture(scope="module")
def data():
    return make_multitask_regression(n_samples=60, n_features=8, n_tasks=3,
                                     n_informative=3, noise=0.5, random_state=0)


def test_penalty_from_user_code(data):
    """A weighted group lasso is L2,1 on features divided by their weights."""
    X, Y = data
    weights = np.linspace(0.5, 3.0, X.shape[1])
    est = MultiTaskLinearRegressor(WeightedGroupLasso(0.1, weights), tol=1e-12,
                                   max_iter=100000).fit(X, Y)
    assert est.solver_ == "fista"  # it has prox, not the rows of coordinate descent
    ref = MultiTaskLasso(alpha=0.1, tol=1e-12, max_iter=100000).fit(X / weights, Y)
    # No duality gap without a conjugate: FISTA stops on the objective's change.
    np.testing.assert_allclose(est.coef_, ref.coef_ / weights, atol=1e-5)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-5)
    assert est.get_params()["penalty__alpha"] == 0.1
    with pytest.raises(ValueError, match=r"'cd' needs a penalty with prox_rows\(\)"):
        MultiTaskLinearRegressor(WeightedGroupLasso(0.1, weights),
                                 solver="cd").fit(X, Y)


def test_solver_from_user_code_fits_the_squared_loss(data):
    X, Y = data
    ours = MultiTaskLinearRegressor(L21(0.1), solver=ProximalGradient(),
                                    tol=1e-12, max_iter=100000).fit(X, Y)
    ref = MultiTaskLinearRegressor(L21(0.1), solver="cd", tol=1e-12).fit(X, Y)
    assert ours.solver_ == "proximal_gradient"
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-7)


def test_solver_from_user_code_fits_the_logistic_loss():
    X, Y = make_multitask_classification(n_samples=80, n_tasks=2, random_state=0)
    ours = MultiTaskLogisticClassifier(L21(0.02), solver=ProximalGradient(),
                                       tol=1e-11, max_iter=200000).fit(X, Y)
    ref = MultiTaskLogisticClassifier(L21(0.02), solver="fista", tol=1e-14,
                                      max_iter=200000).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_solver_states_what_it_needs(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"'needs_rows' needs a penalty with "
                                         r"prox_rows\(\); TraceNorm .*'fista'"):
        MultiTaskLinearRegressor(TraceNorm(), solver=NeedsRows()).fit(X, Y)


def test_solver_object_options_equal_the_estimator_options(data):
    X, Y = data
    by_name = MultiTaskLinearRegressor(L21(0.05), solver="cd", selection="random",
                                       random_state=3, max_iter=3, tol=0).fit(X, Y)
    by_object = MultiTaskLinearRegressor(
        L21(0.05), solver=CoordinateDescent(selection="random", random_state=3),
        max_iter=3, tol=0).fit(X, Y)
    np.testing.assert_array_equal(by_name.coef_, by_object.coef_)


def test_datafit_from_user_code_with_a_package_solver(data):
    X, Y = data
    datafit = PlainSquares(X, Y)
    penalty = L21(0.1).prepare(np.arange(3))
    result = FISTA().solve(datafit, penalty, np.zeros((8, 3)), max_iter=50000,
                           tol=1e-14)
    ref = MultiTaskLasso(alpha=0.1, fit_intercept=False, tol=1e-12).fit(X, Y)
    assert result.converged
    np.testing.assert_allclose(result.coef.T, ref.coef_, atol=1e-7)
    # Coordinate descent needs the Gram rows of the squared loss: it says so.
    with pytest.raises(ValueError, match=r"'cd' needs a datafit with "
                                         r"hessian_dot\(\).* PlainSquares"):
        CoordinateDescent().check(penalty, datafit, alternatives=["fista"])
    assert FISTA().accepts(penalty, datafit)


def test_cv_refits_itself_along_the_path(data):
    """The CV estimator's fitted state is that of the estimator it extends,
    fitted along the path down to ``alpha_``: nothing is copied over."""
    X, Y = data
    cv = MultiTaskLinearRegressorCV(L21(), n_alphas=5, cv=3, tol=1e-10).fit(X, Y)
    plain = MultiTaskLinearRegressor(L21(cv.alpha_), tol=1e-10).fit(X, Y)
    cv_only = {"alpha_", "alphas_", "mse_path_"}
    fitted = {k for k in vars(cv) if k.endswith("_") and not k.startswith("_")}
    assert fitted - cv_only == {k for k in vars(plain)
                                if k.endswith("_") and not k.startswith("_")}
    np.testing.assert_allclose(cv.coef_, plain.coef_, atol=1e-6)
    assert cv.penalty_.alpha == cv.alpha_

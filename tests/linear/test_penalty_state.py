"""Penalties hold hyper-parameters only: fitting never changes them."""

import copy

import numpy as np
import pytest

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
    Ridge,
    SparseLowRank,
    TaskRelationship,
    TraceNorm,
)
from skmtl.linear._problem import initial_variable, solve

PENALTIES = [Ridge(0.05), L1(0.02), L21(0.02, l1_ratio=0.7), TraceNorm(0.05),
             MeanRegularized(0.1, mean_ratio=0.5),
             MeanRegularized(0.1, mean_ratio=0.5, task_features=[[0.0], [1.0], [1.0],
                                                                 [3.0]]),
             GraphLaplacian(0.1, graph=np.ones((4, 4)) - np.eye(4)),
             Clustered(0.05, n_clusters=2), Dirty(0.02, sparse_ratio=0.6),
             TaskRelationship(0.05, relationship_ratio=2.0),
             SparseLowRank(0.05, sparse_ratio=0.6)]
IDS = [type(p).__name__ for p in PENALTIES]


def _problems():
    a = make_multitask_regression(n_samples=60, n_features=8, n_tasks=4,
                                  missing_rate=0.2, random_state=0)
    b = make_multitask_regression(n_samples=90, n_features=8, n_tasks=4,
                                  random_state=1)
    return a, b


def _state(penalty):
    return copy.deepcopy(vars(penalty))


def _same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key], dtype=object),
                                      np.asarray(b[key], dtype=object))


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_fit_leaves_the_penalty_and_holds_only_parameters(penalty):
    (X, Y), _ = _problems()
    before = _state(penalty)
    est = MultiTaskLinearRegressor(penalty, tol=1e-8).fit(X, Y)
    _same(before, _state(penalty))
    # The fitted copy holds the hyper-parameters and nothing fitted.
    assert set(vars(est.penalty_)) == set(penalty.get_params(deep=False))
    assert est.penalty_ == penalty and est.penalty_ is not penalty


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_one_penalty_object_on_two_problems_equals_two_fresh_ones(penalty):
    """The solver owns the prepared matrices: nothing leaks between fits."""
    problems = []
    for X, Y in _problems():
        est = MultiTaskLinearRegressor(penalty)
        problems.append(est.build_problem(X, Y))
    shared = penalty  # the same object, given straight to the solver twice
    before = _state(shared)
    for problem in problems:
        p, M = problem.datafit.n_features, problem.datafit.n_columns
        V0 = initial_variable(shared, p, M)
        got, _ = solve(problem.datafit, shared, problem.column_task, "auto", V0,
                       tol=1e-8, warn=False)
        fresh = copy.deepcopy(before)
        fresh_penalty = type(penalty)(**fresh)
        want, _ = solve(problem.datafit, fresh_penalty, problem.column_task, "auto",
                        V0, tol=1e-8, warn=False)
        np.testing.assert_array_equal(got.coef, want.coef)
        np.testing.assert_array_equal(got.intercept, want.intercept)
        if want.task_covariance is not None:
            np.testing.assert_array_equal(got.task_covariance, want.task_covariance)
    _same(before, _state(shared))


def test_cv_and_classifier_leave_the_penalty():
    (X, Y), _ = _problems()
    pen = TaskRelationship(0.1)
    before = _state(pen)
    est = MultiTaskLinearRegressorCV(pen, n_alphas=3, cv=3).fit(X, Y)
    assert est.penalty_.alpha == est.alpha_ and pen.alpha == 0.1
    Xc, Yc = make_multitask_classification(n_samples=80, n_tasks=3, random_state=0)
    MultiTaskLogisticClassifier(pen).fit(Xc, Yc)
    _same(before, _state(pen))


def test_prepare_returns_the_solver_form_without_changing_the_penalty():
    pen = MeanRegularized(alpha=2.0, mean_ratio=0.0)
    prepared = pen.prepare([0, 1])
    assert prepared is not pen
    assert set(vars(pen)) == {"alpha", "mean_ratio", "task_features"}
    # alpha/2 * sum_k (w_k - mean)^2 for w = (1, 3)
    assert prepared.value(np.array([[1.0, 3.0]])) == pytest.approx(2.0)
    np.testing.assert_allclose(prepared.matrix, np.eye(2) - 0.5)
    l21 = L21(0.3)
    assert l21.prepare([0, 1]) is l21  # nothing to prepare: the norm itself
    with pytest.raises(ValueError, match="n_clusters=3 exceeds the number of tasks"):
        Clustered(n_clusters=3).prepare([0, 1])

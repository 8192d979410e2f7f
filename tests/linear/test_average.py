"""LinearModelAverage: weights chosen on held-out rows, coefficients averaged."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge as SklearnRidge
from sklearn.model_selection import KFold

from skmtl import PooledBaseline
from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    LinearModelAverage,
    MeanRegularized,
    MultiTaskLinearRegressor,
    MultiTaskLinearRegressorCV,
    Ridge,
    TraceNorm,
)
from skmtl.linear._average import simplex_grid
from skmtl.metrics import masked_mean_squared_error


@pytest.fixture(scope="module")
def data():
    return make_multitask_regression(n_samples=90, n_features=6, n_tasks=4,
                                     n_informative=4, missing_rate=0.2, noise=1.0,
                                     random_state=0)


def _models(folds):
    params = dict(n_alphas=5, cv=folds, tol=1e-8, max_iter=5000)
    return [MultiTaskLinearRegressorCV(TraceNorm(), **params),
            MultiTaskLinearRegressorCV(MeanRegularized(), ratios=[0.1, 1.0], **params)]


@pytest.mark.parametrize("n_models, n_weights, n_points", [(1, 5, 1), (2, 11, 11),
                                                           (3, 11, 66), (3, 2, 3)])
def test_simplex_grid_holds_every_point_of_the_step(n_models, n_weights, n_points):
    grid = simplex_grid(n_models, n_weights)
    assert grid.shape == (n_points, n_models)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert grid.min() >= 0
    steps = grid * (n_weights - 1)
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-12)
    assert len({tuple(row) for row in np.round(steps).astype(int)}) == n_points


def test_weights_minimize_the_held_out_error_of_refits_with_chosen_alphas(data):
    X, Y = data
    folds = list(KFold(3, shuffle=True, random_state=1).split(X))
    est = LinearModelAverage(_models(folds), n_weights=6, cv=folds).fit(X, Y)
    # mse_path_ by hand: each model refitted on the fold with the penalty
    # (alpha, ratio) it chose on all rows, predictions averaged, masked MSE.
    for f, (train, test) in enumerate(folds):
        held_out = [MultiTaskLinearRegressor(fitted.penalty_, tol=1e-8, max_iter=5000)
                    .fit(X[train], Y[train]).predict(X[test])
                    for fitted in est.estimators_]
        for i, (a, b) in enumerate(est.weight_grid_):
            expected = masked_mean_squared_error(Y[test],
                                                 a * held_out[0] + b * held_out[1])
            assert est.mse_path_[i, f] == pytest.approx(expected, rel=1e-6)
    best = np.argmin(est.mse_path_.mean(axis=1))
    np.testing.assert_array_equal(est.weights_, est.weight_grid_[best])


def test_coefficients_and_predictions_are_the_weighted_averages(data):
    X, Y = data
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    est = LinearModelAverage(_models(folds), cv=folds).fit(X, Y)
    first, second = est.estimators_
    a, b = est.weights_
    np.testing.assert_allclose(est.coef_, a * first.coef_ + b * second.coef_)
    np.testing.assert_allclose(est.intercept_,
                               a * first.intercept_ + b * second.intercept_)
    np.testing.assert_allclose(est.predict(X),
                               a * first.predict(X) + b * second.predict(X))
    # The models were fitted on all rows: the same as fitting them alone.
    alone = _models(folds)[1].fit(X, Y)
    np.testing.assert_allclose(second.coef_, alone.coef_)


def test_a_useless_model_gets_no_weight(data):
    X, Y = data
    useless = MultiTaskLinearRegressor(Ridge(alpha=1e6))  # predicts the means
    good = MultiTaskLinearRegressorCV(TraceNorm(), n_alphas=5, cv=3)
    est = LinearModelAverage([useless, good], cv=3).fit(X, Y)
    np.testing.assert_array_equal(est.weights_, [0.0, 1.0])
    np.testing.assert_allclose(est.coef_, est.estimators_[1].coef_)


def test_one_model_is_that_model_and_1d_targets_give_1d_coefficients(data):
    X, Y = data
    y = Y[:, 0]
    labelled = ~np.isnan(y)
    model = MultiTaskLinearRegressor(Ridge(alpha=0.1))
    est = LinearModelAverage([model], cv=3).fit(X[labelled], y[labelled])
    alone = MultiTaskLinearRegressor(Ridge(alpha=0.1)).fit(X[labelled], y[labelled])
    assert est.coef_.shape == (X.shape[1],) and isinstance(est.intercept_, float)
    np.testing.assert_allclose(est.coef_, alone.coef_)
    np.testing.assert_allclose(est.predict(X), alone.predict(X))
    assert est.mse_path_.shape == (1, 3)


def test_a_model_without_coefficients_is_refused_with_a_message(data):
    X, Y = data
    pooled = PooledBaseline(SklearnRidge())
    est = LinearModelAverage([pooled, MultiTaskLinearRegressor(Ridge())], cv=3)
    with pytest.raises(ValueError, match="PooledBaseline fitted no coef_"):
        est.fit(X, Y)
    assert not hasattr(est, "weights_")
    with pytest.raises(ValueError, match="estimators is an empty list"):
        LinearModelAverage([], cv=3).fit(X, Y)


def test_integer_sample_weights_equal_repeated_rows(data):
    X, Y = data
    rng = np.random.RandomState(3)
    weights = rng.randint(0, 3, size=X.shape[0])
    weights[:3] = 1  # every fold keeps labelled rows of every task
    folds = list(KFold(3, shuffle=True, random_state=2).split(X))
    models = [MultiTaskLinearRegressor(TraceNorm(0.3), tol=1e-10, max_iter=20000),
              MultiTaskLinearRegressor(MeanRegularized(0.5, mean_ratio=0.2),
                                       tol=1e-10, max_iter=20000)]
    weighted = LinearModelAverage(models, n_weights=21, cv=folds).fit(
        X, Y, sample_weight=weights)
    # the same rows, each repeated its weight's number of times, in the same
    # folds (a row's copies stay in its fold)
    repeat = np.repeat(np.arange(X.shape[0]), weights)
    position = {row: np.flatnonzero(repeat == row) for row in np.unique(repeat)}
    repeated_folds = [
        tuple(np.concatenate([position.get(r, np.array([], int)) for r in part])
              for part in fold) for fold in folds]
    repeated = LinearModelAverage(models, n_weights=21, cv=repeated_folds).fit(
        X[repeat], Y[repeat])
    np.testing.assert_allclose(weighted.mse_path_, repeated.mse_path_, rtol=1e-5)
    np.testing.assert_array_equal(weighted.weights_, repeated.weights_)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-7)
    # and the weights matter: unweighted, the held-out errors differ
    plain = LinearModelAverage(models, n_weights=21, cv=folds).fit(X, Y)
    assert not np.allclose(plain.mse_path_, weighted.mse_path_, rtol=1e-3)


def test_float32_in_float32_out(data):
    X, Y = data
    X32 = X.astype(np.float32)
    est = LinearModelAverage(cv=3).fit(X32, Y)
    assert est.coef_.dtype == est.intercept_.dtype == np.float32
    assert est.predict(X32).dtype == np.float32
    assert LinearModelAverage(cv=3).fit(X, Y).predict(X).dtype == np.float64

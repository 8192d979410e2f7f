"""Quantile tasks: several quantiles at once, never crossing, pinball loss."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.linear_model import QuantileRegressor
from sklearn.metrics import d2_pinball_score, mean_pinball_loss

from skmtl import MultiQuantileRegressor, SingleTaskBaseline, Task
from skmtl.linear import MultiTaskLinearRegressor
from skmtl.metrics import (
    masked_d2_pinball_score,
    masked_mean_pinball_loss,
    per_task_scores,
)
from skmtl.model_selection import default_baselines, transfer_report
from skmtl.tasks import TASK_TYPES, resolve_tasks

QUANTILE = TASK_TYPES["quantile"]
LEVELS = (0.1, 0.5, 0.9)


def _task(n_outputs=1, quantiles=LEVELS):
    Y = np.random.RandomState(0).randn(20, n_outputs)
    return resolve_tasks(Task("q", "quantile", n_outputs, quantiles=quantiles), Y)[0]


def _heteroscedastic(n=1500, seed=0):
    """y = 2 x0 + (0.2 + x1 > 0) noise: the quantiles spread where x1 > 0."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    y = 2 * X[:, 0] + (0.2 + 0.8 * (X[:, 1] > 0)) * rng.randn(n)
    return X, y


def test_quantiles_never_cross_and_the_loss_is_the_pinball_loss():
    task = _task(n_outputs=2)
    rng = np.random.RandomState(1)
    raw = rng.randn(50, 6) * 20  # large negative increments included
    q = np.stack(task.predict_quantiles(raw), axis=1)  # (50, 2, 3)
    assert np.all(np.diff(q, axis=-1) >= 0)
    target = rng.randn(50, 2) * 5
    loss = QUANTILE.per_entry_loss(task, torch.tensor(raw), torch.tensor(target))
    # By hand: mean over the levels of max(tau e, (tau - 1) e), e = y - q.
    error = target[..., None] - q
    tau = np.array(LEVELS)
    expected = np.maximum(tau * error, (tau - 1) * error).mean(-1)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10)
    # The first quantile is the first raw output; the others add softplus steps.
    np.testing.assert_allclose(q[:, 0, 0], raw[:, 0])
    np.testing.assert_allclose(q[:, 0, 1] - q[:, 0, 0], np.logaddexp(0, raw[:, 1]),
                               atol=1e-9)


def test_pinball_gradient_matches_finite_differences():
    task = _task()
    rng = np.random.RandomState(2)
    raw = torch.tensor(rng.randn(8, 3), requires_grad=True)
    target = torch.tensor(rng.randn(8, 1) * 2)
    assert torch.autograd.gradcheck(
        lambda r: QUANTILE.per_entry_loss(task, r, target).sum(), (raw,))


def test_predict_is_the_level_nearest_the_median():
    task = _task(quantiles=(0.2, 0.7, 0.95))
    raw = np.array([[0.0, 1.0, 2.0]])
    q = task.predict_quantiles(raw)[0]
    assert task.transform(raw)[0, 0] == pytest.approx(q[0, 1])  # 0.7 is nearest


def test_unstandardize_maps_every_quantile():
    task = _task(n_outputs=2)
    raw = np.random.RandomState(3).randn(10, 6)
    mean, scale = np.array([5.0, -1.0]), np.array([3.0, 0.01])
    mapped = QUANTILE.unstandardize(task, raw, mean, scale)
    before = np.stack(task.predict_quantiles(raw), axis=1)
    after = np.stack(task.predict_quantiles(mapped), axis=1)
    np.testing.assert_allclose(after, mean[:, None] + scale[:, None] * before,
                               rtol=1e-10, atol=1e-12)


def test_options_are_checked():
    with pytest.raises(ValueError, match="increasing levels strictly between 0"):
        Task("q", "quantile", quantiles=(0.5, 0.1))
    with pytest.raises(ValueError, match="option quantiles= is not used by "
                                         "regression"):
        Task("y", "regression", quantiles=(0.5,))
    assert Task("q", "quantile", quantiles=[0.25, 0.75]) == Task(
        "q", "quantile", quantiles=(0.25, 0.75))
    assert repr(Task("q", "quantile", quantiles=(0.5,))) == (
        "Task('q', 'quantile', quantiles=(0.5,))")


def test_masked_pinball_metrics_equal_scikit_learn_on_the_labelled_rows():
    rng = np.random.RandomState(4)
    y = rng.randn(40)
    q = np.sort(rng.randn(40, 3), axis=1)
    y[::4] = np.nan
    keep = ~np.isnan(y)
    loss = masked_mean_pinball_loss(y, q, quantiles=LEVELS)
    assert loss == pytest.approx(np.mean([
        mean_pinball_loss(y[keep], q[keep, j], alpha=a) for j, a in enumerate(LEVELS)]))
    d2 = masked_d2_pinball_score(y, q, quantiles=LEVELS)
    assert d2 == pytest.approx(np.mean([
        d2_pinball_score(y[keep], q[keep, j], alpha=a) for j, a in enumerate(LEVELS)]))


def test_network_learns_calibrated_quantiles_and_scores_them():
    from skmtl.neural import MultiTaskEstimator

    X, y = _heteroscedastic()
    Y = np.c_[y, X[:, 0] + X[:, 2]]
    Y[::5, 0] = np.nan
    est = MultiTaskEstimator(tasks=[Task("q", "quantile"), Task("r")],
                             hidden_layer_sizes=(64,), lr=0.01, max_epochs=80,
                             random_state=0).fit(X, Y)
    q = est.predict_quantiles(X)[0]
    assert est.predict_quantiles(X)[1] is None
    assert np.all(np.diff(q, axis=1) >= 0)
    labelled = ~np.isnan(Y[:, 0])
    coverage = (Y[labelled, 0][:, None] <= q[labelled]).mean(axis=0)
    np.testing.assert_allclose(coverage, LEVELS, atol=0.05)
    # Wider where the noise is larger.
    width = q[:, 2] - q[:, 0]
    assert width[X[:, 1] > 0].mean() > 2 * width[X[:, 1] <= 0].mean()
    np.testing.assert_array_equal(est.predict(X)[:, 0], q[:, 1])
    table = per_task_scores(Y, est.predict(X), est.tasks_,
                            Y_quantiles=est.predict_quantiles(X), as_frame=False)
    assert table["metric"][0] == "d2_pinball"
    assert table["score"][0] == pytest.approx(masked_d2_pinball_score(
        Y[:, 0], q, quantiles=LEVELS))
    assert table["score"][0] > 0.3
    assert est.score(X, Y) == pytest.approx(table["score"].mean())
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_quantiles(X)[0], q)


def test_no_quantile_task_no_predict_quantiles():
    from skmtl.neural import MultiTaskEstimator

    assert not hasattr(MultiTaskEstimator(tasks=[Task("y")]), "predict_quantiles")
    assert hasattr(MultiTaskEstimator(tasks=[Task("q", "quantile")]),
                   "predict_quantiles")


def test_per_task_scores_asks_for_the_quantiles():
    Y = np.c_[np.arange(5.0)]
    with pytest.raises(ValueError, match="needs quantiles: pass "
                                         r"Y_quantiles=estimator.predict_quantiles"):
        per_task_scores(Y, Y, [Task("q", "quantile")])


def test_multi_quantile_regressor_is_one_quantile_regression_per_level():
    X, y = _heteroscedastic(n=300)
    est = MultiQuantileRegressor(quantiles=LEVELS).fit(X, y)
    for k, level in enumerate(LEVELS):
        ref = QuantileRegressor(quantile=level, alpha=0.0).fit(X, y)
        np.testing.assert_allclose(est.estimators_[0][k].coef_, ref.coef_)
    q = est.predict_quantiles(X)
    assert q.shape == (300, 3) and np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_array_equal(est.predict(X), q[:, 1])
    two = MultiQuantileRegressor(quantiles=LEVELS).fit(X, np.c_[y, -y])
    assert two.predict(X).shape == (300, 2) and len(two.predict_quantiles(X)) == 2


def test_baselines_and_transfer_report_use_the_quantile_model():
    X, y = _heteroscedastic(n=400)
    Y = y[:, None].copy()
    Y[::7] = np.nan
    tasks = [Task("q", "quantile")]
    single, pooled = default_baselines(MultiTaskLinearRegressor(tasks=tasks), Y)
    assert isinstance(single.estimator, MultiQuantileRegressor)
    assert isinstance(pooled.estimator, MultiQuantileRegressor)
    fitted = SingleTaskBaseline(MultiQuantileRegressor(), tasks=tasks).fit(X, Y)
    labelled = ~np.isnan(Y[:, 0])
    alone = MultiQuantileRegressor().fit(X[labelled], Y[labelled, 0])
    np.testing.assert_allclose(fitted.predict_quantiles(X), alone.predict_quantiles(X))
    report = transfer_report(SingleTaskBaseline(MultiQuantileRegressor(),
                                                tasks=tasks), X, Y, cv=3)
    assert report.metrics == ["d2_pinball"]
    np.testing.assert_allclose(report.fold_scores["multitask"],
                               report.fold_scores["single_task"])
    assert np.all(report.fold_scores["pooled"] > 0.2)


def test_linear_models_refuse_quantile_tasks_naming_the_type():
    X, y = _heteroscedastic(n=50)
    with pytest.raises(ValueError, match="task 'q': no linear multi-task model "
                                         "fits quantile tasks"):
        MultiTaskLinearRegressor(tasks=[Task("q", "quantile")]).fit(X, y)

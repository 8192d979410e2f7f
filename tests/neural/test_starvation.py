"""A starving task is named during fit; every epoch records the weight shares."""

import warnings

import numpy as np
import pytest
import torch

from skmtl.neural import MultiTaskRegressor, StarvationMonitor
from skmtl.neural.weighting import Weighting


class Constant(Weighting):
    """Constant weights, but not ``Fixed``: stands for an adaptive strategy."""

    def __init__(self, weights=(1.0, 1.0)):
        self.weights_given = weights

    def combine(self, task_losses, training=True):
        return (torch.as_tensor(self.weights_given, dtype=task_losses.dtype)
                * task_losses).sum()

    def weights(self):
        return np.asarray(self.weights_given, dtype=float)

    def get_params(self, deep=True):
        return {"weights": self.weights_given}


def _data(n=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, np.c_[X[:, 0] + 0.5 * rng.randn(n), X[:, 1] * X[:, 2]]


def _fit(weights, **params):
    X, Y = _data()
    defaults = dict(hidden_layer_sizes=(8,), max_epochs=8, lr=1e-3,
                    random_state=0, batch_size=64)
    defaults.update(params)
    return MultiTaskRegressor(weighting=Constant(weights), **defaults).fit(X, Y)


def test_a_starved_task_is_named_with_its_epoch():
    with pytest.warns(UserWarning, match=r"task 'task_0' is starving: .* at epoch 4"):
        est = _fit((0.002, 1.998), lr=1e-4)
    shares = np.asarray(est.history_[:, "task_share"])
    np.testing.assert_allclose(shares, [[0.001, 0.999]] * 8)


def test_no_warning_with_balanced_weights_or_fixed_weights():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est = _fit((1.0, 1.0), lr=1e-4)
        X, Y = _data()
        # the user's own fixed weights are a choice, not starvation
        MultiTaskRegressor(task_weights=(0.0, 1.0), hidden_layer_sizes=(8,),
                           max_epochs=8, random_state=0).fit(X, Y)
    np.testing.assert_allclose(est.history_[-1, "task_share"], [0.5, 0.5])


def test_a_starved_task_whose_loss_still_falls_is_not_flagged():
    monitor = StarvationMonitor(patience=2).initialize()
    shares = np.array([[0.01, 0.99], [0.01, 0.99]])
    falling = np.array([[1.0, 1.0], [0.8, 0.9], [0.6, 0.8]])
    stalled = np.array([[1.0, 1.0], [0.999, 0.9], [0.995, 0.8]])
    assert monitor.starving(shares, falling) == []
    assert monitor.starving(shares, stalled) == [0]
    # the threshold scales with the number of tasks
    assert monitor.starving(np.array([[0.06, 0.94]] * 2), stalled) == []
    assert StarvationMonitor(min_share=0.2, patience=2).initialize().starving(
        np.array([[0.06, 0.94]] * 2), stalled) == [0]


def test_the_monitor_is_configurable_through_the_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _fit((0.002, 1.998), lr=1e-4, callbacks__starvation__min_share=0.001)

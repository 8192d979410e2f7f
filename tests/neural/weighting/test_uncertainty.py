"""Tests of skmtl/neural/weighting/_uncertainty.py."""

import numpy as np
import pytest
import torch
from weighting_problems import _conflicting_problem

from skmtl import Task
from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import Uncertainty


def test_uncertainty_learns_the_inverse_noise_variances():
    ratios = []
    for seed in range(2):
        rng = np.random.RandomState(seed)
        X = rng.randn(1000, 5)
        Y = X @ rng.randn(5, 2) + rng.randn(1000, 2) * [0.1, 1.0]
        est = MultiTaskRegressor(weighting=Uncertainty(lr=0.1), hidden_layer_sizes=(),
                                 lr=0.05, max_epochs=30, batch_size=100,
                                 standardize_targets=False, random_state=seed).fit(X, Y)
        weights = est.task_weights_history_[-3:].mean(0)
        ratios.append(weights[0] / weights[1])
        # the recorded weights are those of the learned log-variances
        s = est.net_.weighting_.log_variances_.detach().numpy()
        np.testing.assert_allclose(weights, 0.5 * np.exp(-s), rtol=0.1)
    np.testing.assert_allclose(ratios, 1.0 / 0.1 ** 2, rtol=0.2)


def test_uncertainty_log_variances_have_their_own_learning_rate():
    X, Y = _conflicting_problem()
    est = MultiTaskRegressor(weighting=Uncertainty(lr=0.3), hidden_layer_sizes=(4,),
                             lr=1e-3, max_epochs=1).fit(X, Y)
    groups = est.net_.optimizer_.param_groups
    own = [g for g in groups if any(p is est.net_.weighting_.log_variances_
                                    for p in g["params"])]
    assert len(own) == 1 and own[0]["lr"] == 0.3 and len(own[0]["params"]) == 1
    assert [g["lr"] for g in groups if g is not own[0]] == [1e-3]
    # without lr, the net's rate; the log-variances barely move then
    plain = MultiTaskRegressor(weighting=Uncertainty(), hidden_layer_sizes=(4,),
                               lr=1e-3, max_epochs=1).fit(X, Y)
    assert len(plain.net_.optimizer_.param_groups) == 1
    # a user's param_groups pattern wins
    user = MultiTaskRegressor(weighting=Uncertainty(lr=0.3), hidden_layer_sizes=(4,),
                              max_epochs=1,
                              optimizer__param_groups=[("weighting.*", {"lr": 0.01})])
    user.fit(X, Y)
    lrs = sorted(g["lr"] for g in user.net_.optimizer_.param_groups)
    assert lrs == [1e-3, 0.01]


def test_uncertainty_uses_the_classification_form_for_classification_tasks():
    strategy = Uncertainty(init_log_variance=np.log(2.0)).initialize(
        [Task("v"), Task("c", "classification")])
    losses = torch.tensor([1.0, 1.0])
    # 1/(2 sigma²) L + log sigma and 1/sigma² L + log sigma, sigma² = 2
    expected = 0.25 + 0.5 + 2 * 0.5 * np.log(2.0)
    assert strategy.combine(losses).item() == pytest.approx(expected)

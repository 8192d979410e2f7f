"""Tests of skmtl/neural/weighting/_meta_weighting.py."""

import numpy as np
import pytest

from skmtl import Task
from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import MetaWeighting


def test_meta_weighting_lowers_the_weight_of_a_harmful_noisy_task():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 4)
    Y = np.c_[X[:, 0] - X[:, 1] + 0.1 * rng.randn(400), rng.randn(400)]
    est = MultiTaskRegressor(weighting=MetaWeighting(lr=0.05, every=1),
                             hidden_layer_sizes=(16,), lr=0.01, max_epochs=6,
                             batch_size=40, random_state=0).fit(X, Y)
    weights = est.task_weights_history_
    np.testing.assert_allclose(weights.sum(1), 2.0, rtol=1e-5)
    assert weights[-1, 1] < weights[-1, 0]
    assert weights[-1, 1] < 0.8


def test_meta_weighting_checks_its_main_tasks():
    with pytest.raises(ValueError, match=r"main_tasks \['nope'\]"):
        MetaWeighting(main_tasks=["nope"]).initialize([Task("a")])

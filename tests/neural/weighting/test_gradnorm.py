"""Tests of skmtl/neural/weighting/_gradnorm.py."""

import numpy as np
from weighting_problems import _slow_and_fast

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import GradNorm


def test_gradnorm_weights_sum_to_the_number_of_tasks_and_favour_the_slower_task():
    X, Y = _slow_and_fast()
    est = MultiTaskRegressor(weighting=GradNorm(alpha=1.5, every=1),
                             hidden_layer_sizes=(8,),
                             lr=0.01, max_epochs=6, batch_size=32,
                             random_state=0).fit(X, Y)
    weights = est.task_weights_history_
    np.testing.assert_allclose(weights.sum(1), 2.0, rtol=1e-5)
    assert weights[-1, 1] > weights[-1, 0]
    assert weights[-1, 1] > weights[0, 1]

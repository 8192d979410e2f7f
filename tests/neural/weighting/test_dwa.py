"""Tests of skmtl/neural/weighting/_dwa.py."""

import numpy as np
from weighting_problems import _slow_and_fast

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import DWA


def test_dwa_weights_sum_to_the_number_of_tasks_and_favour_the_slower_task():
    X, Y = _slow_and_fast()
    est = MultiTaskRegressor(weighting=DWA(temperature=0.5), hidden_layer_sizes=(8,),
                             lr=0.01, max_epochs=8, batch_size=32,
                             random_state=0).fit(X, Y)
    weights = est.task_weights_history_
    np.testing.assert_allclose(weights.sum(1), 2.0)
    np.testing.assert_allclose(weights[:2], 1.0)
    assert np.all(weights[2:, 1] > weights[2:, 0])
    # the weights of the last epoch came from the ratios of the two before;
    # those after fit from the last two
    history = est.history_
    for used, last in ((weights[-1], -2), (est.net_.weighting_.weights(), -1)):
        ratio = [history[last, f"train_loss_task_{k}"]
                 / history[last - 1, f"train_loss_task_{k}"] for k in range(2)]
        z = np.exp(np.array(ratio) / 0.5)
        np.testing.assert_allclose(used, 2 * z / z.sum(), rtol=1e-6)

"""Tests of skmtl/neural/weighting/_excess_mtl.py."""

import numpy as np
from weighting_problems import TWO, _conflicting, _step

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import ExcessMTL


def test_excess_mtl_first_step_is_equal_weights_then_favours_the_larger_excess():
    X, Y = _conflicting(seed=3)
    net, d, J, _ = _step(ExcessMTL(), X, Y)
    # ratio 1 for every task at the first step: weights stay equal (ones)
    np.testing.assert_allclose(d, J.sum(0), rtol=1e-4, atol=1e-8)
    strategy = ExcessMTL(robust_step_size=1.0).initialize(TWO)
    # a task whose gradients keep their size relative to the accumulator
    # (a large excess risk) gains weight
    est = MultiTaskRegressor(weighting=strategy, hidden_layer_sizes=(6,),
                             max_epochs=5, random_state=0).fit(X, Y)
    assert np.isfinite(est.task_weights_history_).all()
    np.testing.assert_allclose(est.task_weights_history_.sum(1), 2.0, rtol=1e-5)

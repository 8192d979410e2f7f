"""The Jacobian path of the gradient-level strategies (_jacobian.py)."""

import numpy as np
import pytest
from weighting_problems import (
    GRADIENT_LEVEL,
    _brute_force_min_norm,
    _conflicting_problem,
    _needs_torchjd,
    _one_step,
)

from skmtl.neural import MultiTaskRegressor
from skmtl.neural.weighting import MGDA, GradNorm


@pytest.mark.parametrize("cls", GRADIENT_LEVEL + [GradNorm])
def test_gradient_methods_need_shared_parameters(cls):
    _needs_torchjd(cls)
    X, Y = _conflicting_problem()
    with pytest.raises(ValueError, match="SoftSharing shares no"):
        MultiTaskRegressor(weighting=cls(), architecture="soft",
                           hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)


def test_a_task_without_labels_in_the_batch_is_left_out_of_the_combination():
    X, Y = _conflicting_problem()
    Y = np.c_[Y, np.full(len(X), np.nan)]
    Y[0, 2] = 1.0  # the third task is labelled in row 0 only
    net, d, J = _one_step(MGDA(normalization="none"), X, Y,
                          step_rows=slice(1, None))
    assert np.all(J[2] == 0)
    # its zero gradient would make the min-norm point 0; it is left out
    np.testing.assert_allclose(d, _brute_force_min_norm(J[:2]), rtol=1e-4,
                               atol=1e-7)
    assert net.weighting_._weights_sum[2] == 0
